import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectAttr,
  expectCount,
  expectText,
  launchChromium,
  openApp,
  removeDir,
  startBrowserMode,
  type BrowserModeApp,
  setVaultPassphrase,
} from './fixtures';

const PASS = 'correct horse battery staple 42';

function gpg(home: string, args: string[], input?: string): string {
  return execFileSync('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

describe('browser mode: the Keys screen', () => {
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;
  let work: string;

  beforeAll(async () => {
    app = await startBrowserMode();
    browser = await launchChromium();
    page = await openApp(browser, app);
    work = await mkdtemp(join(tmpdir(), 'ohitori-keys-e2e-'));
    page.on('dialog', (d) => void d.accept());
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (app) await removeDir(app.dataDir);
    if (work) {
      try {
        execFileSync('gpgconf', ['--homedir', join(work, 'gnupg'), '--kill', 'all']);
      } catch {
        /* no agent was started */
      }
      await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses to store a key while secrets are session-only, in words', async () => {
    await page.click('[data-route="keys"]');
    const form = page.locator('[data-form="generate"]');
    await form.locator('input[name="key-name"]').fill('Test Desktop');
    await form.locator('input[name="key-passphrase"]').fill('abc');
    await expectText(form, 'Too short.');
    await form.locator('input[name="key-passphrase"]').fill(PASS);
    await form.locator('input[name="key-passphrase-again"]').fill(PASS);
    await form.getByRole('button', { name: 'Create the key' }).click();
    const job = page.locator('[data-job-kind="key-generate"]').first();
    await expectAttr(job, 'data-job-state', 'failed');
    await expectText(job, 'Set a vault passphrase in Settings');
  });

  it('creates a key once the vault has a passphrase, and shows its fingerprint', async () => {
    await setVaultPassphrase(page, 'vault passphrase 123');

    await page.click('[data-route="keys"]');
    const form = page.locator('[data-form="generate"]');
    await form.locator('input[name="key-name"]').fill('Test Desktop');
    await form.locator('input[name="key-passphrase"]').fill(PASS);
    await form.locator('input[name="key-passphrase-again"]').fill(PASS);
    await form.getByRole('button', { name: 'Create the key' }).click();
    await expectCount(page.locator('[data-key-role="desktop"]'), 1);
    const fp = await page.locator('[data-key-role="desktop"]').getAttribute('data-fingerprint');
    expect(fp).toMatch(/^[0-9A-F]{40}$/);
    await expectText(page.locator('[data-key-role="desktop"] [data-fingerprint-text]'), fp!.slice(0, 4));
    await expectAttr(page.locator('[data-key-unlocked]'), 'data-key-unlocked', 'true');
    // Nothing private ever reached the page.
    expect(await page.content()).not.toContain('PRIVATE KEY');
  });

  it('writes a recovery copy that stock gpg imports and uses', async () => {
    const form = page.locator('[data-form="export-recovery"]');
    const path = join(work, 'recovery.asc');
    await form.locator('input[name="export-passphrase"]').fill('wrong passphrase');
    await form.locator('input[name="export-path"]').fill(path);
    await form.getByRole('button', { name: 'Write the recovery copy' }).click();
    await expectText(form, 'That key passphrase is not right.');
    await form.locator('input[name="export-passphrase"]').fill(PASS);
    await form.getByRole('button', { name: 'Write the recovery copy' }).click();
    await expectText(form.locator('[data-exported]'), path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const sheet = await readFile(join(work, 'recovery-recovery-sheet.html'), 'utf8');
    const fp = (await page.locator('[data-key-role="desktop"]').getAttribute('data-fingerprint'))!;
    expect(sheet.replace(/\s/g, '')).toContain(fp);

    const home = join(work, 'gnupg');
    execFileSync('mkdir', ['-m', '700', home]);
    gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', PASS, '--import', path]);
    const listed = gpg(home, ['--list-secret-keys', '--with-colons']);
    expect(listed).toContain(`fpr:::::::::${fp}:`);
    // gpg can decrypt what is encrypted to the key's public part.
    const pub = await (async () => {
      await page.locator('[data-key-role="desktop"]').getByRole('button', { name: 'Show public key' }).click();
      return page.locator('[data-key-role="desktop"] textarea').inputValue();
    })();
    expect(pub).toContain('BEGIN PGP PUBLIC KEY BLOCK');
    const enc = execFileSync('gpg', ['--homedir', home, '--batch', '--trust-model', 'always', '--armor', '--encrypt', '--recipient', fp], {
      input: 'hello',
    }).toString();
    expect(gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', PASS, '--decrypt'], enc)).toBe('hello');
  });

  it('adds a public-only recipient and removes it again', async () => {
    const home = join(work, 'gnupg2');
    execFileSync('mkdir', ['-m', '700', home]);
    gpg(home, ['--passphrase', '', '--quick-gen-key', 'Offline Recovery <r@example.com>', 'future-default', 'default', 'never']);
    const armored = gpg(home, ['--armor', '--export']);
    const fp = /fpr:::::::::([0-9A-F]{40}):/.exec(gpg(home, ['--list-keys', '--with-colons']))![1]!;
    const form = page.locator('[data-form="add-recipient"]');
    await form.locator('textarea[name="recipient-armored"]').fill(armored);
    await form.locator('input[name="recipient-label"]').fill('Safe deposit box');
    await form.getByRole('button', { name: 'Add' }).click();
    const card = page.locator(`[data-fingerprint="${fp}"]`);
    await expectText(card, 'Safe deposit box');
    await expectAttr(card, 'data-key-role', 'recovery');
    await card.getByRole('button', { name: 'Remove' }).click();
    await expectCount(page.locator(`[data-fingerprint="${fp}"]`), 0);
    execFileSync('gpgconf', ['--homedir', home, '--kill', 'all']);
  });

  it('locks the key and refuses a wrong passphrase when unlocking', async () => {
    const panel = page.locator('[data-key-unlocked]');
    await panel.getByRole('button', { name: 'Lock now' }).click();
    await expectAttr(panel, 'data-key-unlocked', 'false');
    await panel.locator('input[name="unlock-passphrase"]').fill('nope nope nope');
    await panel.getByRole('button', { name: 'Unlock' }).click();
    await expectText(panel, 'That key passphrase is not right.');
    await panel.locator('input[name="unlock-passphrase"]').fill(PASS);
    await panel.getByRole('button', { name: 'Unlock' }).click();
    await expectAttr(panel, 'data-key-unlocked', 'true');
  });
});
