/**
 * Disaster recovery end to end in Chromium (issue #8 "done when", first bullet): lab server A is set
 * up through the wizard under the lab's restore domain and filled with an instance's state (users,
 * Japanese notes, relays, blocks, binary drive files with non-ASCII names); nightly backups are
 * installed and "Back up now" runs; A is destroyed; fresh server B is added and set up through the
 * wizard under the same domain, and A's backup is restored onto B on the Restore screen. Every
 * table and file on B equals A's at backup time, the instance answers as before under the same
 * domain (same tokens, meta, files), and confirming removes the data the server kept aside.
 * Service-level twin: test/integration/backup-job/restore-fresh.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { api } from 'misskey-js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src-main/services/app-services';
import { createNodeFetch, mapLookup } from '../../src-main/services/misskey/resolve-override';
import { loadLabEnv, type LabEnv, type LabServerName } from '../lab/env';
import { runInServer } from '../lab/server';
import { uniqueName } from '../integration/lab/lab-ssh';
import { APP_STACK_DIR, labStorageSettings, onServer, psqlOn, stackCompose, stackDigest, wipeServer } from '../support/app-stack';
import { createBucket, labS3 } from '../support/s3-backups';
import {
  addServerProfile,
  expectAttr,
  expectCount,
  expectText,
  launchChromium,
  openApp,
  removeDir,
  runSetupWizard,
  startBrowserMode,
  type BrowserModeApp,
} from './fixtures';

const VAULT = 'disaster vault passphrase 1';
const KEY_PASSPHRASE = 'disaster desktop key passphrase 2';
const HOME = 'home (a)';
const FRESH = 'fresh (b)';

describe('browser mode: disaster recovery from lab server A onto a fresh server B under the same domain', () => {
  let env: LabEnv;
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;
  let s3: S3Client;
  let dataDir: string;
  const bucket = uniqueName('ohe2edr');

  /**
   * HTTPS to the instance under the restore domain, resolved to `server` and verified against that
   * server's Caddy root (what the app pins at setup), through the app's own node fetch.
   */
  const httpsTo = async (server: LabServerName) => {
    const ca = JSON.parse(await onServer(server, 'curl -sSf http://localhost:2019/pki/ca/local')) as { root_certificate: string };
    return createNodeFetch({ lookup: mapLookup(new Map([[env.restoreDomain, env.servers[server].ip]])), ca: ca.root_certificate });
  };
  /** misskey-js against the instance under the restore domain on `server`. */
  const client = async (server: LabServerName, credential?: string) =>
    new api.APIClient({
      origin: `https://${env.restoreDomain}`,
      ...(credential ? { credential } : {}),
      fetch: (await httpsTo(server)) as unknown as typeof fetch,
    });
  const rawGet = async (server: LabServerName, url: string): Promise<{ status: number; body: Buffer }> => {
    const r = await (await httpsTo(server))(url, { method: 'GET' });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  };

  /** The app as the user runs it; `dnsTo` is where the restore domain resolves for the app (the hook a LAN DNS would be). */
  async function startApp(dnsTo: LabServerName): Promise<void> {
    app = await startBrowserMode({ dataDir, env: { OHITORI_TEST_RESOLVE: `${env.restoreDomain}:${env.servers[dnsTo].ip}` } });
    page = await openApp(browser, app);
  }
  /** Settings: the vault's passphrase, as after every start of the app. */
  async function unlockVault(): Promise<void> {
    await page.click('[data-route="settings"]');
    const vault = page.locator('[data-vault-mode]');
    await vault.locator('input[name="vault-unlock"]').fill(VAULT);
    await vault.getByRole('button', { name: 'Unlock' }).click();
    await expectAttr(vault, 'data-vault-unlocked', 'true');
  }

  // What A held when it backed up, and what B must hold after the restore.
  let backupId: string;
  let before: Awaited<ReturnType<typeof stackDigest>>;
  let admin: { id: string; token: string };
  let upload: { id: string; url: string; md5: string; bytes: Buffer };
  let noteId: string;

  beforeAll(async () => {
    env = loadLabEnv();
    await wipeServer('a');
    await wipeServer('b');
    s3 = labS3(env);
    await createBucket(s3, bucket);
    // The state a user has after adding the server, Keys and Storage (those screens have their own
    // e2e tests). No host key is pinned: the wizard asks for it.
    dataDir = await mkdtemp(join(tmpdir(), 'ohitori-e2e-'));
    const services = await createServices({ dataDir, mode: 'browser', version: 'test', broadcast: () => {} });
    const profile = await services.profiles.save({
      name: HOME,
      host: env.servers.a.ip,
      port: 22,
      user: env.admin.user,
      auth: 'key',
      keyPath: env.admin.keyPath,
      domain: env.restoreDomain,
      stackDir: APP_STACK_DIR,
    });
    await services.vault.setPassphrase(VAULT);
    await services.keys.generate({ name: 'Desktop', passphrase: KEY_PASSPHRASE });
    await services.storage.save(labStorageSettings(env, profile.id, bucket));
    browser = await launchChromium();
    await startApp('a');
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir) await removeDir(dataDir);
    s3?.destroy();
    if (env) {
      await wipeServer('a');
      await wipeServer('b');
    }
  });

  it('sets up server A through the wizard under the restore domain and fills it with an instance', async () => {
    await unlockVault();
    await runSetupWizard(page, {
      profile: HOME,
      domain: env.restoreDomain,
      stackDir: APP_STACK_DIR,
      hostKeyFingerprint: env.servers.a.hostKeyFingerprint,
    });
    expect(await onServer('a', `cat ${APP_STACK_DIR}/.config/default.yml`)).toContain(`url: https://${env.restoreDomain}`);

    // Through the Misskey API (the double follows misskey-js's contracts), under the restore domain.
    const setupPassword = /^setupPassword: *"?([^"\n]+)"?$/m.exec(await onServer('a', `cat ${APP_STACK_DIR}/.config/default.yml`))?.[1];
    expect(setupPassword).toBeTruthy();
    const created = await (
      await client('a')
    ).request('admin/accounts/create', { username: 'hitori', password: 'disaster admin password 3', setupPassword: setupPassword! });
    admin = { id: created.id, token: created.token };
    const cli = await client('a', admin.token);
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131 + (i >> 9)) % 256));
    const file = await cli.request('drive/files/create', { file: new Blob([bytes]), name: '写真 2026年 夏.bin' });
    upload = { id: file.id, url: file.url, md5: file.md5, bytes };
    noteId = (await cli.request('notes/create', { text: '災害復旧のテスト 🌸 バックアップから戻せるかな？', fileIds: [file.id] }))
      .createdNote.id;
    await cli.request('admin/relays/add', { inbox: 'https://relay.example/inbox' });
    await cli.request('admin/update-meta', { name: 'おひとりさまサーバー', blockedHosts: ['spam.example', 'bad.example'] });
    // Bulk state the double seeds straight into its tables and files: users (a moderator, a
    // suspended one, remote ones), Japanese notes with emoji, drive files with every byte value
    // and non-ASCII names, a custom emoji, relays, blocked and silenced hosts, limited tokens.
    await onServer('a', stackCompose('exec -T web node /double/server.mjs seed --users 4 --notes 120 --files 4'));
    // And a file put there by hand, under a non-ASCII folder, owned by Misskey's UID like the rest.
    await onServer(
      'a',
      `mkdir -p "${APP_STACK_DIR}/files/ドライブ" && head -c 700000 /dev/urandom >"${APP_STACK_DIR}/files/ドライブ/画像 1.png" && chown -R 991:991 ${APP_STACK_DIR}/files`,
    );
    expect(Number(await psqlOn('a', 'select count(*) from "user"'))).toBeGreaterThanOrEqual(5);
    expect(Number(await psqlOn('a', 'select count(*) from "relay"'))).toBeGreaterThanOrEqual(2);
  }, 600_000);

  it('installs nightly backups on A and backs up now from the Backups screen', async () => {
    await page.click('[data-route="backups"]');
    const section = page.locator('[data-section="nightly"]');
    await expectAttr(section.locator('[data-nightly-installed]'), 'data-nightly-installed', 'false', 60_000);
    await section.locator('button[name="nightly-install"]').click();
    await expectAttr(section.locator('[data-nightly-installed]'), 'data-nightly-installed', 'true', 120_000);
    expect(await section.locator('[data-nightly-pinned]').getAttribute('data-nightly-pinned')).toMatch(/^[0-9A-F]{40}$/);
    await section.locator('button[name="nightly-run"]').click();
    await expectAttr(page.locator('[data-job-kind="backup-job-run"]').first(), 'data-job-state', 'done', 300_000);
    const row = section.locator('[data-run-result="ok"]').first();
    await expectText(row, 'Stored', 60_000);
    backupId = (await row.getAttribute('data-run-backup'))!;
    expect(backupId).toMatch(/^\d{8}T\d{6}Z-\d{8}$/);
    // A as it was backed up (nothing writes to it between the run and here).
    before = await stackDigest('a');
    expect(Object.keys(before.db)).toEqual(expect.arrayContaining(['user', 'note', 'drive_file', 'relay', 'meta', 'access_token']));
    expect(before.files).toContain('./ドライブ/画像 1.png');
    expect(before.files.trim().split('\n').length).toBeGreaterThanOrEqual(6);
  }, 600_000);

  it('A is destroyed; fresh server B is added and set up through the wizard under the same domain', async () => {
    await wipeServer('a');
    expect((await runInServer('a', ['test', '-e', `${APP_STACK_DIR}/files`])).code).not.toBe(0);
    const gone = await client('a');
    await expect(gone.request('meta', {})).rejects.toThrow();

    // The user points the domain at the new server and opens the app again.
    await app.stop();
    await startApp('b');
    await unlockVault();
    await addServerProfile(page, {
      name: FRESH,
      host: env.servers.b.ip,
      user: env.admin.user,
      auth: 'key',
      keyPath: env.admin.keyPath,
      domain: env.restoreDomain,
    });
    await runSetupWizard(page, {
      profile: FRESH,
      domain: env.restoreDomain,
      stackDir: APP_STACK_DIR,
      hostKeyFingerprint: env.servers.b.hostKeyFingerprint,
    });
    // A new, empty instance: nothing of A's yet.
    expect(await psqlOn('b', `select count(*) from "user" where id = '${admin.id}'`)).toBe('0\n');
    expect((await stackDigest('b')).db).not.toEqual(before.db);
  }, 600_000);

  it('restores A’s backup onto B from the Restore screen: everything comes back under the same domain', async () => {
    await page.click('[data-route="restore"]');
    const screen = page.locator('[data-section="restore"]');
    const home = await page.locator(`select[name="restore-source"] option`, { hasText: HOME }).getAttribute('value');
    const fresh = await page.locator(`select[name="restore-target"] option`, { hasText: FRESH }).getAttribute('value');
    await screen.locator('select[name="restore-source"]').selectOption(home!);
    await expectAttr(screen.locator('select[name="restore-backup"]'), 'data-restore-choices', '1', 120_000);
    await screen.locator('select[name="restore-backup"]').selectOption(backupId);
    await screen.locator('select[name="restore-target"]').selectOption(fresh!);
    await screen.locator('button[name="restore-start"]').click();
    // The app was restarted: the desktop key is locked, and the task asks for its passphrase.
    const job = page.locator('[data-job-kind="restore-run"]').first();
    const prompt = job.locator('[data-prompt-kind="secret"]');
    await expectCount(prompt, 1);
    await prompt.locator('input[type="password"]').fill(KEY_PASSPHRASE);
    await prompt.getByRole('button', { name: 'Yes, continue' }).click();
    await expect.poll(async () => job.getAttribute('data-job-state'), { timeout: 300_000, interval: 500 }).toMatch(/done|failed|cancelled/);
    expect(
      await job.getAttribute('data-job-state'),
      (await job.innerText()) +
        ((await job
          .locator('[data-error-code]')
          .getAttribute('title', { timeout: 1000 })
          .catch(() => '')) ?? ''),
    ).toBe('done');
    await expectAttr(screen.locator('[data-restore-phase]'), 'data-restore-phase', 'healthy', 60_000);

    // Every table and every file as A had them when it backed up.
    const after = await stackDigest('b');
    expect(after.db).toEqual(before.db);
    expect(after.files).toBe(before.files);

    // The instance answers as before, under the same domain, on B: meta, A's token, the note, the file's bytes.
    const anon = await client('b');
    const meta = (await anon.request('meta', {})) as { uri: string; name: string | null; requireSetup?: boolean };
    expect(meta.uri).toBe(`https://${env.restoreDomain}`);
    expect(meta.name).toBe('おひとりさまサーバー');
    const cli = await client('b', admin.token);
    expect((await cli.request('i', {})).id).toBe(admin.id);
    expect((await cli.request('admin/meta', {})).blockedHosts).toEqual(expect.arrayContaining(['spam.example', 'bad.example']));
    expect((await cli.request('admin/relays/list', {})).map((r) => r.inbox)).toContain('https://relay.example/inbox');
    expect((await cli.request('users/show', { userId: admin.id })).username).toBe('hitori');
    const served = await rawGet('b', upload.url);
    expect(served.status).toBe(200);
    expect(createHash('md5').update(served.body).digest('hex')).toBe(upload.md5);
    expect(served.body.equals(upload.bytes)).toBe(true);
    expect(noteId).toBeTruthy();
    expect(await psqlOn('b', `select text from note where id = '${noteId}'`)).toBe('災害復旧のテスト 🌸 バックアップから戻せるかな？\n');

    // The app sees it too: the dashboard reaches the instance on B over HTTPS (Caddy's root pinned at B's setup).
    await page.click('[data-route="dashboard"]');
    await expectAttr(page.locator(`[data-server="${FRESH}"]`), 'data-state', 'up', 60_000);
  }, 900_000);

  it('confirms in the Japanese Restore screen, and B drops the data it kept aside', async () => {
    const restored = await stackDigest('b');
    const stamps = (await onServer('b', `ls -d ${APP_STACK_DIR}/files.pre-* 2>/dev/null || true`)).trim().split('\n').filter(Boolean);
    expect(stamps).toHaveLength(1);
    expect(await psqlOn('b', "select count(*) from pg_database where datname like 'misskey\\_pre\\_%'", 'postgres')).toBe('1\n');

    // A window opened afresh (Japanese): the target is the server of the newest restore, B (not the
    // first profile, A), and the restore waiting there is shown from the server's own state.
    await page.context().close();
    page = await openApp(browser, app, 'ja-JP');
    await page.click('[data-route="restore"]');
    const screen = page.locator('[data-section="restore"]');
    await expectText(screen.locator('h1'), '復元');
    await expectText(screen, '復元先');
    const fresh = await page.locator(`select[name="restore-target"] option`, { hasText: FRESH }).getAttribute('value');
    await expect.poll(() => screen.locator('select[name="restore-target"]').inputValue()).toBe(fresh);
    await expectAttr(screen.locator('[data-restore-phase]'), 'data-restore-phase', 'healthy', 60_000);
    await expectText(screen.locator('[data-restore-phase]'), '復元して正常に動いています');
    await screen.locator('button[name="restore-confirm"]').click();
    await expectText(screen.locator('[data-restore-confirmed]'), '古いデータを削除しました', 60_000);
    await expectAttr(screen.locator('[data-restore-phase]'), 'data-restore-phase', 'confirmed', 60_000);

    expect((await onServer('b', `ls -d ${APP_STACK_DIR}/files.pre-* 2>/dev/null || true`)).trim()).toBe('');
    expect(await psqlOn('b', "select count(*) from pg_database where datname like 'misskey\\_pre\\_%'", 'postgres')).toBe('0\n');
    // Confirming changed nothing of the restored instance.
    expect(await stackDigest('b')).toEqual(restored);
  }, 300_000);
});
