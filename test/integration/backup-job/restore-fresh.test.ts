/**
 * Disaster recovery (issue #8 "done when", service level): server A, set up by the app under the
 * lab's restore domain and filled with state, backs up; A's stack is destroyed; a fresh server B is
 * set up by the app under the same domain and the backup is restored there: every table and file
 * matches, and the instance answers the API under the same domain.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../../src-main/services/app-services';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import type { BackupRunView } from '../../../src-main/shared/backup-job';
import type { RestoreResult } from '../../../src-main/shared/restore';
import type { LabEnv, LabServerName } from '../../lab/env';
import { labStorageSettings, APP_STACK_DIR, appServicesFor, onServer, psqlOn, stackDigest, wipeServer } from '../../support/app-stack';
import { createBucket, labS3 } from '../../support/s3-backups';
import { uniqueName } from '../lab/lab-ssh';
import { DESKTOP_PASSPHRASE, runJob } from './job-lab';

/** POST /api/meta over HTTPS under the domain, through the server's Caddy, verified against its own root. */
const meta = async (s: LabServerName, domain: string) =>
  JSON.parse(
    await onServer(
      s,
      `curl -sSf http://localhost:2019/pki/ca/local | python3 -c 'import json,sys; print(json.load(sys.stdin)["root_certificate"])' >/tmp/caddy-root.pem && ` +
        `curl -sSf --resolve ${domain}:443:127.0.0.1 --cacert /tmp/caddy-root.pem -H 'content-type: application/json' -d '{}' https://${domain}/api/meta`,
    ),
  ) as { uri?: string; version?: string };

describe('restore onto a fresh server under the same domain', () => {
  let env: LabEnv;
  let services: Services;
  let cleanup: () => Promise<void>;
  let a: string;
  let b: string;
  let s3: S3Client;

  beforeAll(async () => {
    await wipeServer('a');
    await wipeServer('b');
    let addProfile;
    ({ services, env, cleanup, addProfile } = await appServicesFor('a'));
    a = await addProfile({ name: 'home (a)', domain: env.restoreDomain });
    await new HostKeyStore(services.options.dataDir).pin(env.servers.b.ip, 22, {
      algorithm: 'ssh-ed25519',
      fingerprint: env.servers.b.hostKeyFingerprint,
    });
    b = await addProfile({ name: 'fresh (b)', host: env.servers.b.ip, domain: env.restoreDomain });
    await services.vault.setPassphrase('vault passphrase for the fresh restore 2');
    await services.keys.generate({ name: 'Desktop', passphrase: DESKTOP_PASSPHRASE });
    s3 = labS3(env);
    const bucket = uniqueName('ohfresh');
    await createBucket(s3, bucket);
    await services.storage.save(labStorageSettings(env, a, bucket));
  }, 600_000);
  afterAll(async () => {
    s3?.destroy();
    await cleanup?.();
    await wipeServer('a');
    await wipeServer('b');
  });

  it('A backs up, A is destroyed, B is set up under the same domain and the backup comes back whole', async () => {
    const setup = (p: string) =>
      runJob(services, (ctx) => services.setup.apply(p, { tls: 'internal', restrictSignIn: false, allowedPrivateNetworks: [] }, ctx));
    expect((await setup(a)).state).toBe('done');
    expect((await runJob(services, (ctx) => services.backupJob.install(a, ctx))).state).toBe('done');
    await psqlOn(
      'a',
      "create table fresh_probe(id int primary key, body text); insert into fresh_probe select g, 'ノート ' || g || ' 🎉' from generate_series(1, 3000) g",
    );
    await onServer(
      'a',
      `mkdir -p "${APP_STACK_DIR}/files/ドライブ" && head -c 800000 /dev/urandom >"${APP_STACK_DIR}/files/ドライブ/画像 1.png" && chown -R 991:991 ${APP_STACK_DIR}/files`,
    );
    const backup = await runJob<BackupRunView>(services, (ctx) => services.backupJob.runNow(a, ctx));
    expect(backup.state, JSON.stringify(backup.error)).toBe('done');
    const before = await stackDigest('a');
    const metaBefore = await meta('a', env.restoreDomain);

    await wipeServer('a'); // the disaster

    expect((await setup(b)).state).toBe('done');
    await services.keys.keyring.unlock(DESKTOP_PASSPHRASE);
    const r = await runJob<RestoreResult>(services, (ctx) =>
      services.restore.run({ sourceProfileId: a, targetProfileId: b, backupId: backup.result!.backupId! }, ctx),
    );
    expect(r.state, JSON.stringify(r.error) + r.log.join('\n')).toBe('done');
    expect(await stackDigest('b')).toEqual(before);
    const metaAfter = await meta('b', env.restoreDomain);
    expect(metaAfter.uri).toBe(metaBefore.uri);
    expect(metaAfter.uri).toBe(`https://${env.restoreDomain}`);
    expect((await runJob(services, (ctx) => services.restore.confirm(b, ctx))).state).toBe('done');
  }, 900_000);
});
