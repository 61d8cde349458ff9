import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src-main/services/app-services';
import { HostKeyStore } from '../../src-main/services/ssh/host-key-store';
import { loadLabEnv, type LabEnv } from '../lab/env';
import { runInServer } from '../lab/server';
import { uniqueName } from '../integration/lab/lab-ssh';
import { labStorageSettings, APP_STACK_DIR, removeAppStack, restoreLabCaddyfile } from '../support/app-stack';
import { expectAttr, expectCount, expectText, launchChromium, openApp, removeDir, startBrowserMode, type BrowserModeApp } from './fixtures';

const VAULT = 'nightly vault passphrase 1';

/**
 * Backups → Nightly backups in Chromium: install the job on lab server A (set up beforehand by the
 * app's own setup service on the same data dir), "Back up now" with its progress, the runs table,
 * the log, and the Japanese screen after a reload.
 */
describe('browser mode: nightly backups on lab server A', () => {
  let env: LabEnv;
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;
  let s3: S3Client;
  const bucket = uniqueName('ohe2ejob');

  beforeAll(async () => {
    env = loadLabEnv();
    await removeAppStack('a');
    await runInServer('a', ['sh', '-c', 'rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup']);
    s3 = new S3Client({
      endpoint: env.s3.endpoint,
      region: env.s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // The state a user has after Setup, Keys and Storage (those screens have their own e2e tests).
    const dataDir = await mkdtemp(join(tmpdir(), 'ohitori-e2e-'));
    const services = await createServices({ dataDir, mode: 'browser', version: 'test', broadcast: () => {} });
    const a = env.servers.a;
    await new HostKeyStore(dataDir).pin(a.ip, 22, { algorithm: 'ssh-ed25519', fingerprint: a.hostKeyFingerprint });
    const profile = await services.profiles.save({
      name: 'Home server',
      host: a.ip,
      port: 22,
      user: env.admin.user,
      auth: 'key',
      keyPath: env.admin.keyPath,
      domain: a.domain,
      stackDir: APP_STACK_DIR,
    });
    await services.vault.setPassphrase(VAULT);
    await services.keys.generate({ name: 'Desktop', passphrase: 'desktop key passphrase 77' });
    await services.storage.save(labStorageSettings(env, profile.id, bucket));
    const setup = await services.jobs.wait(
      services.jobs.start('setup', 't', (ctx) =>
        services.setup.apply(profile.id, { tls: 'internal', restrictSignIn: false, allowedPrivateNetworks: [] }, ctx),
      ).id,
    );
    if (setup.state !== 'done') throw new Error(`setup failed: ${JSON.stringify(setup.error)}`);
    app = await startBrowserMode({ dataDir });
    browser = await launchChromium();
    page = await openApp(browser, app);
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (app) await removeDir(app.dataDir);
    s3?.destroy();
    await removeAppStack('a');
    await restoreLabCaddyfile('a');
    await runInServer('a', ['sh', '-c', 'rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup']);
  });

  const section = () => page.locator('[data-section="nightly"]');

  it('installs the job, pins the server key, backs up now with progress, and lists the run and its log', async () => {
    await page.click('[data-route="settings"]');
    const vault = page.locator('[data-vault-mode]');
    await vault.locator('input[name="vault-unlock"]').fill(VAULT);
    await vault.getByRole('button', { name: 'Unlock' }).click();
    await expectAttr(vault, 'data-vault-unlocked', 'true');

    await page.click('[data-route="backups"]');
    await expectAttr(section().locator('[data-nightly-installed]'), 'data-nightly-installed', 'false', 60_000);
    await expectText(section(), 'not installed on this server yet');
    await section().locator('input[name="nightly-keep"]').fill('7');
    await section().locator('button[name="nightly-install"]').click();
    const pinned = section().locator('[data-nightly-pinned]');
    await expectAttr(section().locator('[data-nightly-installed]'), 'data-nightly-installed', 'true', 120_000);
    const fingerprint = await pinned.getAttribute('data-nightly-pinned');
    expect(fingerprint).toMatch(/^[0-9A-F]{40}$/);
    await expectText(pinned, fingerprint!);
    await expectAttr(section().locator('[data-nightly-schedule]'), 'data-nightly-schedule', 'cron');
    await expectCount(section().locator('[data-nightly-next]'), 1);

    await section().locator('button[name="nightly-run"]').click();
    // The jobs panel shows the run with its stage while it goes.
    const job = page.locator('[data-job-kind="backup-job-run"]').first();
    await expectAttr(job, 'data-job-state', 'done', 180_000);
    await expectAttr(section().locator('[data-nightly-last-run]'), 'data-nightly-last-run', 'ok');
    const row = section().locator('[data-run-result="ok"]').first();
    await expectText(row, 'Stored', 60_000);
    const backupId = await row.getAttribute('data-run-backup');
    expect(backupId).toMatch(/^\d{8}T\d{6}Z-\d{8}$/);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `ohitori/a-ohitori-test/${backupId}/` }));
    expect((listed.Contents ?? []).map((o) => o.Key!.split('/').pop())).toContain('manifest.json.pgp');

    await section().locator('button[name="nightly-log"]').click();
    await expectText(section().locator('[data-nightly-log]'), 'dump:', 60_000);
  }, 600_000);

  it('restores that backup through the Restore screen: passphrase asked, verified here, old data kept until confirmed', async () => {
    const psql = (sql: string) =>
      runInServer('a', [
        'sh',
        '-c',
        `cd ${APP_STACK_DIR} && docker compose -f compose.yml exec -T db psql -U misskey -d misskey -At -c "${sql}"`,
      ]);
    const backupId = await section().locator('[data-run-result="ok"]').first().getAttribute('data-run-backup');
    const before = (await psql('select count(*) from pg_tables')).stdout.toString();
    await psql('create table after_backup(id int)');
    await page.click('[data-route="restore"]');
    const screen = page.locator('[data-section="restore"]');
    // The catalog's genuine backups are offered; the one just made among them.
    await expectAttr(screen.locator('select[name="restore-backup"]'), 'data-restore-choices', '1', 120_000);
    await screen.locator('select[name="restore-backup"]').selectOption(backupId!);
    await screen.locator('button[name="restore-start"]').click();
    // The desktop key is locked: the task asks for its passphrase.
    const job = page.locator('[data-job-kind="restore-run"]').first();
    const prompt = job.locator('[data-prompt-kind="secret"]');
    await expectCount(prompt, 1);
    await prompt.locator('input[type="password"]').fill('desktop key passphrase 77');
    await prompt.getByRole('button', { name: 'Yes, continue' }).click();
    await expect.poll(async () => job.getAttribute('data-job-state'), { timeout: 300_000, interval: 500 }).toMatch(/done|failed/);
    expect(
      await job.getAttribute('data-job-state'),
      (await job.innerText()) +
        ((await job
          .locator('[data-error-code]')
          .getAttribute('title')
          .catch(() => '')) ?? ''),
    ).toBe('done');
    await expectAttr(screen.locator('[data-restore-phase]'), 'data-restore-phase', 'healthy', 60_000);
    expect((await psql("select count(*) from pg_tables where tablename = 'after_backup'")).stdout.toString().trim()).toBe('0');
    expect((await psql('select count(*) from pg_tables')).stdout.toString()).toBe(before);
    await screen.locator('button[name="restore-confirm"]').click();
    await expectCount(screen.locator('[data-restore-confirmed]'), 1);
    await expectAttr(screen.locator('[data-restore-phase]'), 'data-restore-phase', 'confirmed', 60_000);
  }, 600_000);

  it('shows the same in Japanese after a reload', async () => {
    await page.context().close();
    page = await openApp(browser, app, 'ja-JP');
    await page.click('[data-route="backups"]');
    await expectText(section(), '毎晩のバックアップ');
    await expectText(section().locator('[data-run-result="ok"]').first(), '保存済み', 60_000);
    await expectText(section(), 'cron で実行します');
  }, 300_000);
});
