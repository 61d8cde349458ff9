import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectAttr,
  expectCount,
  expectNoText,
  expectText,
  expectVisible,
  launchChromium,
  openApp,
  removeDir,
  startBrowserMode,
  type BrowserModeApp,
} from './fixtures';

describe('browser mode: jobs, profiles and the vault', () => {
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

  it('a job asks, survives a reload while waiting, and finishes after the answer', async () => {
    const page = await openApp(browser, app);
    await page.click('[data-route="settings"]');
    await page.getByRole('button', { name: 'Check this computer' }).click();
    const job = page.locator('[data-job-kind="self-check"]').first();
    await expectAttr(job, 'data-job-state', 'waiting-for-input');
    await expectText(job.locator('[data-prompt-kind="confirm"]'), app.dataDir);

    await page.reload();
    await page.waitForSelector('[data-app-state="ready"]');
    const again = page.locator('[data-job-kind="self-check"]').first();
    await expectAttr(again, 'data-job-state', 'waiting-for-input');
    await again.getByRole('button', { name: 'Yes, continue' }).click();
    await expectAttr(again, 'data-job-state', 'done');
    await again.getByRole('button', { name: 'Dismiss' }).click();
    await expectCount(page.locator('[data-job-kind="self-check"]'), 0);
    await page.context().close();
  });

  it('a job can be cancelled from the panel', async () => {
    const page = await openApp(browser, app);
    await page.click('[data-route="settings"]');
    await page.getByRole('button', { name: 'Check this computer' }).click();
    const job = page.locator('[data-job-kind="self-check"]').first();
    await expectAttr(job, 'data-job-state', 'waiting-for-input');
    await job.getByRole('button', { name: 'Cancel' }).click();
    await expectAttr(job, 'data-job-state', 'cancelled');
    await expectText(job, 'Cancelled');
    await page.context().close();
  });

  it('a server profile is validated, saved, and still there after a restart; its password stays out of the page', async () => {
    let page = await openApp(browser, app);
    await page.click('[data-route="setup"]');
    await page.getByRole('button', { name: 'Add a server' }).first().click();
    const form = page.getByRole('form', { name: 'New server' });
    await form.locator('input[name="name"]').fill('Home server');
    await form.locator('input[name="host"]').fill('192.0.2.10');
    await form.locator('input[name="user"]').fill('admin');
    await form.locator('select[name="auth"]').selectOption('password');
    await form.locator('input[name="secret"]').fill('s3cret-Password!');
    await form.locator('input[name="domain"]').fill('not a domain');
    await form.getByRole('button', { name: 'Save' }).click();
    await expectVisible(form.locator('[data-error-code="INVALID_ARGUMENT"]'));
    await expectAttr(form.locator('input[name="domain"]'), 'aria-invalid', 'true');

    await form.locator('input[name="domain"]').fill('misskey.example.com');
    await form.getByRole('button', { name: 'Save' }).click();
    await expectVisible(page.locator('[data-profile="Home server"]'));
    // Browser mode keeps secrets for this session only until a vault passphrase is set.
    await expectText(page.locator('[data-profile="Home server"]'), 'A secret is saved');
    expect(await page.content()).not.toContain('s3cret-Password!');
    await page.context().close();

    await app.stop();
    app = await startBrowserMode({ dataDir: app.dataDir });
    page = await openApp(browser, app);
    await page.click('[data-route="setup"]');
    const card = page.locator('[data-profile="Home server"]');
    await expectText(card, 'admin@192.0.2.10:22');
    await expectNoText(card, 'A secret is saved');
    await page.context().close();
  });

  it('the vault: set a passphrase, restart locked, a wrong passphrase is refused in words, the right one unlocks', async () => {
    let page = await openApp(browser, app);
    await page.click('[data-route="settings"]');
    const vault = page.locator('[data-vault-mode]');
    await expectAttr(vault, 'data-vault-mode', 'session-only');
    await vault.locator('input[name="vault-passphrase"]').fill('correct horse battery');
    await vault.locator('input[name="vault-passphrase-again"]').fill('correct horse battery!');
    await vault.getByRole('button', { name: 'Save' }).click();
    await expectText(vault, 'The two passphrases differ.');
    await vault.locator('input[name="vault-passphrase-again"]').fill('correct horse battery');
    await vault.getByRole('button', { name: 'Save' }).click();
    await expectAttr(vault, 'data-vault-mode', 'passphrase');
    await page.context().close();

    await app.stop();
    app = await startBrowserMode({ dataDir: app.dataDir });
    page = await openApp(browser, app, 'ja-JP');
    await page.click('[data-route="settings"]');
    const v2 = page.locator('[data-vault-mode]');
    await expectAttr(v2, 'data-vault-unlocked', 'false');
    await v2.locator('input[name="vault-unlock"]').fill('wrong passphrase');
    await v2.getByRole('button', { name: '解除' }).click();
    await expectText(v2.locator('[data-error-code="VAULT_WRONG_PASSPHRASE"]'), 'パスフレーズが違います');
    await v2.locator('input[name="vault-unlock"]').fill('correct horse battery');
    await v2.getByRole('button', { name: '解除' }).click();
    await expectAttr(v2, 'data-vault-unlocked', 'true');
    await page.context().close();
  });
});
