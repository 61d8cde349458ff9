import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../lab/env';
import { uniqueName } from '../integration/lab/lab-ssh';
import {
  expectAttr,
  expectCount,
  expectText,
  expectVisible,
  launchChromium,
  openApp,
  removeDir,
  startBrowserMode,
  type BrowserModeApp,
  setVaultPassphrase,
  addServerProfile,
} from './fixtures';

const VAULT = 'storage vault passphrase 1';
// s3rver checks only the access key id, so these secrets are accepted; distinct values let the test
// prove that neither reaches the settings file or the page.
const DESKTOP_SECRET = 'desktop-secret-e2e-4567';
const SERVER_SECRET = 'server-secret-e2e-8910';

describe('browser mode: Backups → Storage against the lab s3rver', () => {
  let env: LabEnv;
  let admin: S3Client;
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;
  const bucket = uniqueName('ohe2e');

  beforeAll(async () => {
    env = loadLabEnv();
    admin = new S3Client({
      endpoint: env.s3.endpoint,
      region: env.s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
    });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    app = await startBrowserMode();
    browser = await launchChromium();
    page = await openApp(browser, app);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (app) await removeDir(app.dataDir);
    if (admin) {
      await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      admin.destroy();
    }
  });

  const section = () => page.locator('[data-section="storage"]');
  const form = () => page.locator('[data-form="storage"]');

  it('configures storage for a server profile, saves, and every connection test step passes', async () => {
    // A vault passphrase, so the access keys survive the restart below.
    await setVaultPassphrase(page, VAULT);

    await addServerProfile(page, {
      name: 'Storage Lab',
      host: '127.0.0.1',
      user: 'ohitori',
      auth: 'agent',
      domain: 'storage.example.test',
    });

    await page.click('[data-route="backups"]');
    await expectAttr(section().locator('[data-storage-configured]'), 'data-storage-configured', 'false');
    await form().locator('select[name="storage-preset"]').selectOption('minio');
    await expectAttr(form().locator('input[name="storage-region"]'), 'value', 'us-east-1');
    // The endpoint rule, as the form explains it before saving.
    await expectAttr(form().locator('[data-endpoint-problem]'), 'data-endpoint-problem', 'template');
    await form().locator('input[name="storage-endpoint"]').fill('http://s3.example.com');
    await expectAttr(form().locator('[data-endpoint-problem]'), 'data-endpoint-problem', 'http-public');
    await form().locator('input[name="storage-endpoint"]').fill(env.s3.endpoint);
    await expectCount(form().locator('[data-endpoint-problem]'), 0);
    // Plain http to the lab bridge (a private address) is allowed, with a warning.
    await expectVisible(form().locator('[data-endpoint-insecure]'));
    await form().locator('input[name="storage-bucket"]').fill(bucket);
    await expectAttr(form().locator('input[name="storage-prefix"]'), 'value', 'ohitori/');
    await form().locator('input[name="storage-desktopAccessKeyId"]').fill(env.s3.accessKeyId);
    await form().locator('input[name="storage-desktopSecret"]').fill(DESKTOP_SECRET);
    await form().locator('input[name="storage-serverAccessKeyId"]').fill(env.s3.accessKeyId);
    await form().locator('input[name="storage-serverSecret"]').fill(SERVER_SECRET);
    await form().getByRole('button', { name: 'Save' }).click();
    await expectVisible(form().locator('[data-storage-saved]'));
    await expectVisible(form().locator('[data-secret-saved="desktop"]'));
    await expectVisible(form().locator('[data-secret-saved="server"]'));
    await expectAttr(form().locator('input[name="storage-desktopSecret"]'), 'value', '');

    await section().locator('[data-action="storage-test"]').click();
    const test = section().locator('[data-storage-test]');
    await expectAttr(test, 'data-storage-test', 'done');
    for (const step of ['head-bucket', 'list', 'put', 'get', 'delete', 'server-put']) {
      await expectAttr(test.locator(`[data-storage-step="${step}"]`), 'data-outcome', 'ok');
    }
    // s3rver has no policies, so the server key can delete: reported as a warning.
    await expectAttr(test.locator('[data-storage-step="server-delete"]'), 'data-outcome', 'allowed');
    await expectAttr(test.locator('[data-server-can-delete]'), 'data-server-can-delete', 'true');
    await expectText(test, 'consider a put-only policy');

    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
    const file = readFileSync(join(app.dataDir, 'storage.json'), 'utf8');
    expect(file).toContain(bucket);
    expect(file).not.toContain(DESKTOP_SECRET);
    expect(file).not.toContain(SERVER_SECRET);
    expect(await page.content()).not.toContain(DESKTOP_SECRET);
  });

  it('survives a restart; a wrong bucket is reported in Japanese', async () => {
    await page.context().close();
    await app.stop();
    app = await startBrowserMode({ dataDir: app.dataDir });
    page = await openApp(browser, app, 'ja-JP');
    await page.click('[data-route="settings"]');
    const vault = page.locator('[data-vault-mode]');
    await vault.locator('input[name="vault-unlock"]').fill(VAULT);
    await vault.getByRole('button', { name: '解除' }).click();
    await expectAttr(vault, 'data-vault-unlocked', 'true');

    await page.click('[data-route="backups"]');
    await expectAttr(section().locator('[data-storage-configured]'), 'data-storage-configured', 'true');
    await expectAttr(form().locator('input[name="storage-bucket"]'), 'value', bucket);
    await expectAttr(form().locator('input[name="storage-endpoint"]'), 'value', env.s3.endpoint);
    expect(await form().locator('select[name="storage-preset"]').inputValue()).toBe('minio');
    await expectVisible(form().locator('[data-secret-saved="desktop"]'));
    await expectVisible(form().locator('[data-secret-saved="server"]'));

    await form().locator('input[name="storage-bucket"]').fill(uniqueName('ohnobucket'));
    await form().getByRole('button', { name: '保存' }).click();
    await expectVisible(form().locator('[data-storage-saved]'));
    await section().locator('[data-action="storage-test"]').click();
    const test = section().locator('[data-storage-test]');
    await expectAttr(test, 'data-storage-test', 'failed');
    await expectAttr(test.locator('[data-storage-step="head-bucket"]'), 'data-outcome', 'failed');
    await expectText(test.locator('[data-error-code="STORAGE_BUCKET_MISSING"]'), 'バケットがありません');
    await expectCount(test.locator('[data-outcome="ok"]'), 0);
  });
});
