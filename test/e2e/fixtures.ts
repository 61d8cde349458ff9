import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Chromium flags for this machine: Debian's binary, headless, no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export interface BrowserModeApp {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the real browser-mode host (the built `dist/main/main-web.js`) with its own data
 * directory and resolves with the URL it prints. Each test gets a fresh directory unless it
 * passes one (to test a restart).
 */
export async function startBrowserMode(opts: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<BrowserModeApp> {
  if (!existsSync('dist/main/main-web.js') || !existsSync('dist/renderer/index.html')) {
    throw new Error('The app is not built: run `npm run build` first');
  }
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'ohitori-e2e-')));
  const child = spawn(process.execPath, ['dist/main/main-web.js', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    // OHITORI_E2E_STDERR=1 shows the app's own error log while debugging a test.
    if (process.env.OHITORI_E2E_STDERR) process.stderr.write(c);
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`browser mode did not start: ${stderr}`)), 20_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`browser mode exited (${code}): ${stderr}`)));
  });
  const m = /^OHITORI_URL=(http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]+)$/.exec(line);
  if (!m) throw new Error(`unexpected first line: ${line}`);
  return {
    url: `${m[1]}/#token=${m[2]}`,
    origin: m[1]!,
    token: m[2]!,
    dataDir,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** Opens the app and waits for the shell's ready marker, never a sleep. */
export async function openApp(browser: Browser, app: BrowserModeApp, locale = 'en-US'): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(app.url);
  await page.waitForSelector('[data-app-state="ready"]');
  return page;
}

/** Web-first checks for vitest (Playwright's own `expect` belongs to @playwright/test). They poll; no sleeps. */
const POLL = { timeout: 15_000, interval: 50 };

export async function expectText(loc: Locator, text: string, timeoutMs = POLL.timeout): Promise<void> {
  await expect
    .poll(
      () =>
        loc
          .first()
          .innerText()
          .catch(() => ''),
      { ...POLL, timeout: timeoutMs },
    )
    .toContain(text);
}

export async function expectNoText(loc: Locator, text: string): Promise<void> {
  await expect
    .poll(
      () =>
        loc
          .first()
          .innerText()
          .catch(() => text),
      POLL,
    )
    .not.toContain(text);
}

export async function expectAttr(loc: Locator, name: string, value: string, timeoutMs = POLL.timeout): Promise<void> {
  await expect
    .poll(
      () =>
        loc
          .first()
          .getAttribute(name)
          .catch(() => null),
      { ...POLL, timeout: timeoutMs },
    )
    .toBe(value);
}

export async function expectVisible(loc: Locator): Promise<void> {
  await loc.first().waitFor({ state: 'visible', timeout: POLL.timeout });
}

export async function expectCount(loc: Locator, n: number): Promise<void> {
  await expect.poll(() => loc.count(), POLL).toBe(n);
}

/** Settings → secret store: sets the vault passphrase (secrets then survive a restart). */
export async function setVaultPassphrase(page: Page, passphrase: string): Promise<void> {
  await page.click('[data-route="settings"]');
  const vault = page.locator('[data-vault-mode]');
  await vault.locator('input[name="vault-passphrase"]').fill(passphrase);
  await vault.locator('input[name="vault-passphrase-again"]').fill(passphrase);
  await vault.getByRole('button', { name: 'Save' }).click();
  await expectAttr(vault, 'data-vault-mode', 'passphrase');
}

export interface ProfileFields {
  readonly name: string;
  readonly host: string;
  readonly user: string;
  readonly auth: 'key' | 'agent' | 'password';
  readonly keyPath?: string;
  readonly secret?: string;
  readonly domain: string;
}

/** Setup → Add a server, filled through the form as a user would, and waits for its card. */
export async function addServerProfile(page: Page, p: ProfileFields): Promise<void> {
  await page.click('[data-route="setup"]');
  await page.getByRole('button', { name: 'Add a server' }).first().click();
  const form = page.getByRole('form', { name: 'New server' });
  await form.locator('input[name="name"]').fill(p.name);
  await form.locator('input[name="host"]').fill(p.host);
  await form.locator('input[name="user"]').fill(p.user);
  await form.locator('select[name="auth"]').selectOption(p.auth);
  if (p.keyPath) await form.locator('input[name="keyPath"]').fill(p.keyPath);
  if (p.secret) await form.locator('input[name="secret"]').fill(p.secret);
  await form.locator('input[name="domain"]').fill(p.domain);
  await form.getByRole('button', { name: 'Save' }).click();
  await expectVisible(page.locator(`[data-profile="${p.name}"]`));
}

export interface WizardRun {
  /** The profile's name, as on its card. */
  readonly profile: string;
  /** The profile's domain: the review must show `url: https://<domain>`. */
  readonly domain: string;
  readonly stackDir: string;
  /** First contact: the host-key prompt must show this fingerprint, and it is accepted. */
  readonly hostKeyFingerprint?: string;
  /** How long applying may take (starts containers and waits for health). */
  readonly applyTimeoutMs?: number;
}

/**
 * Setup → "Set up this server", through the wizard as a user would: run the checks (trusting the
 * host key on first contact), no blocking problem, Docker and Compose found, Caddy's own
 * certificate, review the files (secrets masked, url under the profile's domain), write and start,
 * and wait for the apply task to finish with the instance's https URL shown.
 */
export async function runSetupWizard(page: Page, w: WizardRun): Promise<void> {
  await page.click('[data-route="setup"]');
  await page.locator(`[data-profile="${w.profile}"]`).getByRole('button', { name: 'Set up this server' }).click();
  const wizard = page.locator(`[data-wizard="${w.profile}"]`);
  await wizard.getByRole('button', { name: /Run the checks|Check again/ }).click();
  if (w.hostKeyFingerprint) {
    const prompt = page.locator('[data-job-kind="setup-preflight"] [data-prompt-kind="host-key"]');
    await expectText(prompt, w.hostKeyFingerprint);
    await prompt.getByRole('button', { name: 'Yes, continue' }).click();
  }
  await expectVisible(wizard.locator('[data-check="docker"]'));
  const failed = await wizard.locator('[data-status="fail"]').allInnerTexts();
  expect(failed, 'preflight found blocking problems on the lab server').toEqual([]);
  await expectAttr(wizard.locator('[data-check="docker"]'), 'data-status', 'pass');
  await expectAttr(wizard.locator('[data-check="compose"]'), 'data-status', 'pass');
  await wizard.locator('input[name="tls"][value="internal"]').check();
  await wizard.getByRole('button', { name: 'Show the files' }).click();
  const configFile = wizard.locator(`[data-file="${w.stackDir}/.config/default.yml"]`);
  await expectVisible(configFile);
  const config = await configFile.locator('pre').textContent();
  expect(config).toContain(`url: https://${w.domain}`);
  expect(config).toMatch(/pass: ••••••/);
  expect(config).toMatch(/setupPassword: ••••••/);
  const applies = page.locator('[data-job-kind="setup-apply"]');
  const before = await applies.count();
  await wizard.getByRole('button', { name: 'Write the files and start' }).click();
  await expectCount(applies, before + 1);
  // Applying starts containers and waits for health: minutes on a loaded machine, not seconds.
  const job = applies.first();
  await expect
    .poll(async () => job.getAttribute('data-job-state'), { timeout: w.applyTimeoutMs ?? 300_000, interval: 250 })
    .toMatch(/^(done|failed|cancelled)$/);
  expect(await job.getAttribute('data-job-state'), await job.innerText()).toBe('done');
  await expectText(wizard.locator('[data-setup-done]'), `https://${w.domain}`);
}
