import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src-renderer/i18n/en';
import { ja } from '../../src-renderer/i18n/ja';
import { expectText, launchChromium, openApp, removeDir, startBrowserMode, type BrowserModeApp } from './fixtures';

type Tree = { readonly [k: string]: string | Tree };
const values = (t: Tree): string[] => Object.values(t).flatMap((v) => (typeof v === 'string' ? [v] : values(v)));
/** Strings that are the same word in both languages by design. */
const NEUTRAL = new Set(['OK', 'English', '日本語']);

const SCREENS = ['setup', 'dashboard', 'backups', 'restore', 'instance', 'keys', 'settings'];

async function visibleLines(page: Page): Promise<string[]> {
  const text = await page.locator('body').innerText();
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

describe('browser mode: the shell', () => {
  let app: BrowserModeApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startBrowserMode();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (app) await removeDir(app.dataDir);
  });

  it('loads with the token, reaches ready, and drops the token from the address bar', async () => {
    const page = await openApp(browser, app);
    expect(page.url()).not.toContain('token=');
    await page.reload();
    await page.waitForSelector('[data-app-state="ready"]');
    await page.context().close();
  });

  it('without the token the app does not load and the API answers 401', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.origin + '/');
    await expectText(page.locator('#root'), 'No access token');
    expect(await page.locator('[data-app-state="ready"]').count()).toBe(0);
    const status = await page.evaluate(
      async () =>
        (await fetch('/api/invoke/app:info', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    );
    expect(status).toBe(401);
    await context.close();
  });

  it('switching language changes every visible string on every screen', async () => {
    const page = await openApp(browser, app, 'en-US');
    const enStrings = new Set(values(en as unknown as Tree).filter((s) => !NEUTRAL.has(s)));
    const jaStrings = new Set(values(ja as unknown as Tree).filter((s) => !NEUTRAL.has(s)));
    const seenEn = new Map<string, string[]>();
    for (const s of SCREENS) {
      await page.click(`[data-route="${s}"]`);
      seenEn.set(s, await visibleLines(page));
    }
    await page.selectOption('select[name="language"]', 'ja');
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('ja');
    for (const s of SCREENS) {
      await page.click(`[data-route="${s}"]`);
      const lines = await visibleLines(page);
      const english = lines.filter((l) => enStrings.has(l));
      expect(english, `English left on ${s}`).toEqual([]);
      expect(
        lines.some((l) => jaStrings.has(l)),
        `no Japanese on ${s}`,
      ).toBe(true);
      // What was English text before is now something else (data such as paths may stay).
      const before = seenEn.get(s)!.filter((l) => enStrings.has(l));
      expect(before.length, `no translatable text seen on ${s}`).toBeGreaterThan(0);
    }
    // The choice persists: a reload comes back in Japanese.
    await page.reload();
    await page.waitForSelector('[data-app-state="ready"]');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ja');
    await page.click('[data-route="settings"]');
    await page.selectOption('select[name="language"]', 'en');
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.context().close();
  });

  it('a malformed argument returns the validation code, an unknown channel is refused, and the host keeps serving', async () => {
    const page = await openApp(browser, app);
    const call = (channel: string, body: string) =>
      page.evaluate(
        async ([c, b, token]) => {
          const r = await fetch(`/api/invoke/${c}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: b,
          });
          return { status: r.status, body: (await r.json()) as { ok: boolean; error?: { code: string } } };
        },
        [channel, body, app.token] as const,
      );
    const bad = await call('profiles:save', JSON.stringify({ name: 'x', host: 'a;b', port: 'ssh' }));
    expect(bad).toMatchObject({ status: 400, body: { ok: false, error: { code: 'INVALID_ARGUMENT' } } });
    const unknown = await call('system:shutdown', '{}');
    expect(unknown).toMatchObject({ status: 404, body: { ok: false, error: { code: 'UNKNOWN_CHANNEL' } } });
    const fine = await call('app:info', '{}');
    expect(fine).toMatchObject({ status: 200, body: { ok: true } });
    await page.context().close();
  });

  it('the CSP blocks an injected inline script', async () => {
    const page = await openApp(browser, app);
    const outcome = await page.evaluate(
      () =>
        new Promise<{ violated: boolean; ran: boolean }>((resolve) => {
          const w = window as unknown as { __ran?: boolean };
          let violated = false;
          document.addEventListener('securitypolicyviolation', () => (violated = true));
          const s = document.createElement('script');
          s.textContent = 'window.__ran = true';
          document.body.appendChild(s);
          setTimeout(() => resolve({ violated, ran: w.__ran === true }), 200);
        }),
    );
    expect(outcome).toEqual({ violated: true, ran: false });
    await page.context().close();
  });
});
