import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../../src-main/services/app-services';
import type { VerifyRecord } from '../../../src-main/shared/backups';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import { runInServer } from '../../lab/server';
import { labStorageSettings, appServicesFor, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';
import { dropBucket, labS3 } from '../../support/s3-backups';
import { uniqueName } from '../lab/lab-ssh';

const CLEAN_JOB = 'rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup';

/**
 * The other half of the loop: lab server B set up by the app, the nightly job installed by the app
 * (signing key generated on the server and pinned here), two runs of the real job; the desktop
 * lists them and verifies the newest end to end, its Misskey database dump read by pg_restore.
 */
describe('backups written by the real nightly job on lab server B: listed and verified by the desktop', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let s3: S3Client;
  let profileId: string;
  const bucket = uniqueName('catalog-job');
  const run = async (body: Parameters<Services['jobs']['start']>[2]): Promise<JobSnapshot> =>
    services.jobs.wait(services.jobs.start('test', 'test', body, profileId).id);

  beforeAll(async () => {
    await removeAppStack('b');
    await runInServer('b', ['bash', '-c', CLEAN_JOB]);
    const app = await appServicesFor('b');
    ({ services, cleanup } = app);
    profileId = await app.addProfile();
    await services.vault.setPassphrase('catalog real job vault passphrase 1');
    await services.keys.generate({ name: 'Desktop', passphrase: 'catalog real job desktop key 3 herons' });
    s3 = labS3(app.env);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const env = app.env;
    await services.storage.save(labStorageSettings(env, profileId, bucket));
    const setup = await run((ctx) =>
      services.setup.apply(profileId, { tls: 'internal', restrictSignIn: false, allowedPrivateNetworks: [] }, ctx),
    );
    if (setup.state !== 'done') throw new Error(`setup failed: ${JSON.stringify(setup.error)}\n${setup.log.slice(-20).join('\n')}`);
    const install = await run((ctx) => services.backupJob.install(profileId, ctx, { keep: 14 }));
    if (install.state !== 'done') throw new Error(`install failed: ${JSON.stringify(install.error)}\n${install.log.slice(-20).join('\n')}`);
    for (let i = 0; i < 2; i++) {
      const r = await run((ctx) => services.backupJob.runNow(profileId, ctx));
      if (r.state !== 'done') throw new Error(`backup run failed: ${JSON.stringify(r.error)}\n${r.log.slice(-20).join('\n')}`);
    }
  }, 900_000);

  afterAll(async () => {
    if (s3) {
      await dropBucket(s3, bucket);
      s3.destroy();
    }
    await cleanup?.();
    await removeAppStack('b');
    await restoreLabCaddyfile('b');
    await runInServer('b', ['bash', '-c', CLEAN_JOB]);
  }, 300_000);

  it('lists both runs as genuine (signing-key.asc beside them is not a backup) and verifies the newest', async () => {
    const l = await services.backups.catalog.list(profileId);
    expect(l.entries.map((e) => e.state)).toEqual(['genuine', 'genuine']);
    const newest = l.entries[0]!;
    expect(l.latestGenuine).toBe(newest.backupId);
    expect(newest.sequence).toBe(l.knownHighest);
    expect(newest.versions?.postgres).toMatch(/^\d+/);
    const job = await run((ctx) => services.backups.verifier.verify(profileId, newest.backupId, ctx));
    expect(job.state, JSON.stringify(job.error) + job.log.join('\n')).toBe('done');
    expect((job.result as VerifyRecord).dumpCheck).toBe('local');
    const summary = await services.backups.catalog.summary(profileId);
    expect(summary.latest?.verified?.ok).toBe(true);
  });
});
