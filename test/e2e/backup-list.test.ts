import type { S3Client } from '@aws-sdk/client-s3';
import { readKey, readPrivateKey, type PublicKey } from 'openpgp';
import { copyFolder, createBucket, dropBucket, flipByte, labS3, makeBackup } from '../support/s3-backups';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupFolder, backupIdFor, partName } from '../../src-main/services/backup-format/format';
import { serverIdFor, SigningKeyPins } from '../../src-main/services/backups/signing-pins';
import { generateServerSigningKey } from '../../src-main/services/pgp/key-generate';
import { loadLabEnv, type LabEnv } from '../lab/env';
import { uniqueName } from '../integration/lab/lab-ssh';
import {
  addServerProfile,
  expectAttr,
  expectText,
  expectVisible,
  launchChromium,
  openApp,
  removeDir,
  setVaultPassphrase,
  startBrowserMode,
  type BrowserModeApp,
} from './fixtures';

const VAULT = 'backup list vault passphrase 1';
const KEY_PASSPHRASE = 'backup list desktop key 9 lanterns drift';
const DOMAIN = 'catalog-e2e.example.test';
const DAY = 24 * 3600_000;

describe('browser mode: Backups → list, verify, dashboard (lab s3rver, backups made by writeBackup)', () => {
  let env: LabEnv;
  let s3: S3Client;
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;
  const bucket = uniqueName('catalog-e2e');
  const ids: Record<string, string> = {};

  /** Calls the running app's contract over HTTP with its token (setup steps that are not under test here). */
  async function api<T>(channel: string, arg: unknown): Promise<T> {
    const res = await fetch(`${app.origin}/api/invoke/${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.token}`, origin: app.origin },
      body: JSON.stringify(arg),
    });
    const r = (await res.json()) as { ok: boolean; value?: T; error?: unknown };
    if (!r.ok) throw new Error(`${channel}: ${JSON.stringify(r.error)}`);
    return r.value as T;
  }
  async function waitJob(id: string): Promise<{ state: string; error?: unknown }> {
    for (let i = 0; i < 600; i++) {
      const job = (await api<Array<{ id: string; state: string; error?: unknown }>>('jobs:list', {})).find((j) => j.id === id);
      if (job && ['done', 'failed', 'cancelled'].includes(job.state)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${id} did not finish`);
  }

  beforeAll(async () => {
    env = loadLabEnv();
    s3 = labS3(env);
    await createBucket(s3, bucket);
    app = await startBrowserMode();
    browser = await launchChromium();
    page = await openApp(browser, app);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (app) await removeDir(app.dataDir);
    if (s3) {
      await dropBucket(s3, bucket);
      s3.destroy();
    }
  });

  it('sets up a server with storage, a desktop key, its pinned signing key and backups in the bucket', async () => {
    await setVaultPassphrase(page, VAULT);
    await addServerProfile(page, { name: 'Catalog Lab', host: '10.231.0.3', user: 'ohadmin', auth: 'agent', domain: DOMAIN });
    // Before any storage is set up, the list says what to do.
    await page.click('[data-route="backups"]');
    await expectVisible(page.locator('[data-list-missing="storage"]'));
    const [profile] = await api<Array<{ id: string }>>('profiles:list', {});
    const profileId = profile!.id;
    await api('storage:save', {
      profileId,
      preset: 'minio',
      endpoint: env.s3.endpoint,
      region: env.s3.region,
      bucket,
      prefix: 'ohitori/',
      forcePathStyle: true,
      desktopAccessKeyId: env.s3.accessKeyId,
      desktopSecret: env.s3.secretAccessKey,
    });
    const gen = await api<{ id: string }>('keys:generate', { name: 'E2E desktop', passphrase: KEY_PASSPHRASE });
    expect((await waitJob(gen.id)).state).toBe('done');
    const keys = await api<{ keys: Array<{ fingerprint: string; role: string }> }>('keys:list', {});
    const fp = keys.keys.find((k) => k.role === 'desktop')!.fingerprint;
    const desktop = (await readKey({
      armoredKey: (await api<{ armored: string }>('keys:export-public', { fingerprint: fp })).armored,
    })) as PublicKey;

    // The server signing key, pinned the way the backup job install pins it.
    const serverId = serverIdFor(DOMAIN);
    const signingKey = await generateServerSigningKey({ serverId });
    await new SigningKeyPins(app.dataDir).pin(profileId, serverId, signingKey.armoredPublic);
    const signing = await readPrivateKey({ armoredKey: signingKey.armoredPrivate });
    const other = await readPrivateKey({ armoredKey: (await generateServerSigningKey({ serverId })).armoredPrivate });
    const now = Date.now();
    const base = { s3, bucket, prefix: 'ohitori/', serverId, recipients: [desktop] };
    const folder = (id: string) => backupFolder('ohitori/', serverId, id);
    ids.old = (await makeBackup({ ...base, signingKey: signing, sequence: 1, at: new Date(now - 4 * DAY) })).backupId;
    ids.flipped = (await makeBackup({ ...base, signingKey: signing, sequence: 2, at: new Date(now - 3 * DAY) })).backupId;
    await flipByte(s3, bucket, folder(ids.flipped) + partName(0), 1234);
    ids.forged = (await makeBackup({ ...base, signingKey: other, sequence: 3, at: new Date(now - 2 * DAY) })).backupId;
    ids.replayed = backupIdFor(new Date(now - DAY), 4);
    await copyFolder(s3, bucket, folder(ids.old), folder(ids.replayed));
    ids.latest = (await makeBackup({ ...base, signingKey: signing, sequence: 5, at: new Date(now - 3600_000) })).backupId;
    // Verify asks for the passphrase in the task panel when the key is locked.
    await api('keys:lock', {});
  });

  const list = () => page.locator('[data-section="backup-list"]');
  const row = (id: string) => list().locator(`tr[data-backup="${id}"]`);

  it('lists genuine and flagged backups; only a genuine one is latest', async () => {
    await page.click('[data-route="backups"]');
    // The list read before storage was set up said so; read it again.
    await list().locator('[data-action="backups-refresh"]').click();
    await expectAttr(list(), 'data-list-state', 'done');
    await expectAttr(row(ids.latest!), 'data-state', 'genuine');
    await expectAttr(row(ids.latest!), 'data-latest', 'true');
    await expectAttr(row(ids.old!), 'data-state', 'genuine');
    await expectAttr(row(ids.flipped!), 'data-state', 'genuine');
    await expectAttr(row(ids.forged!), 'data-state', 'forged');
    await expectText(row(ids.forged!), 'Forged');
    await expectAttr(row(ids.replayed!), 'data-state', 'replayed');
    await expectText(row(ids.replayed!), 'an old backup posing as a new one');
    await expectAttr(row(ids.replayed!), 'data-latest', 'false');
    await expectText(row(ids.latest!), 'PostgreSQL 15.8');
    // Flagged entries offer no Verify.
    expect(await row(ids.forged!).locator('[data-action="verify"]').count()).toBe(0);
  });

  it('verifies a genuine backup after asking the key passphrase in the task panel → verified', async () => {
    await row(ids.latest!).locator('[data-action="verify"]').click();
    const prompt = page.locator('.job-prompt[data-prompt-kind="secret"]');
    await expectVisible(prompt);
    await prompt.locator('input[type="password"]').fill(KEY_PASSPHRASE);
    await prompt.getByRole('button', { name: 'Yes, continue' }).click();
    await expectAttr(row(ids.latest!).locator('[data-verified]'), 'data-verified', 'ok', 60_000);
    await expectText(row(ids.latest!), 'pg_restore on this computer');
  });

  it('refuses a backup with a flipped byte, in English and in Japanese', async () => {
    await row(ids.flipped!).locator('[data-action="verify"]').click();
    await expectAttr(row(ids.flipped!).locator('[data-verified]'), 'data-verified', 'failed', 60_000);
    await expectAttr(row(ids.flipped!).locator('[data-error-code]'), 'data-error-code', 'BACKUP_DAMAGED');
    await expectText(row(ids.flipped!), 'The backup is damaged: its contents do not match.');

    const ja = await openApp(browser, app, 'ja-JP');
    await ja.click('[data-route="backups"]');
    const jaRow = ja.locator(`[data-section="backup-list"] tr[data-backup="${ids.flipped}"]`);
    await expectAttr(jaRow.locator('[data-verified]'), 'data-verified', 'failed');
    await expectText(jaRow, 'バックアップが壊れています。中身が一致しません。');
    await expectText(ja.locator(`[data-section="backup-list"] tr[data-backup="${ids.forged}"]`), '偽造');
    await ja.close();
  });

  it('shows the last genuine backup and its verified state on the dashboard', async () => {
    await page.click('[data-route="dashboard"]');
    const line = page.locator('[data-server="Catalog Lab"] [data-last-backup]');
    await expectAttr(line, 'data-last-backup', ids.latest!);
    await expectAttr(line, 'data-last-backup-verified', 'verified');
    await expectText(line, '2 flagged');
  });
});
