/**
 * Disaster recovery (issue #8 "done when", service level): server A, set up by the app under the
 * lab's restore domain and filled with state, backs up; A's stack is destroyed; a fresh server B is
 * set up by the app under the same domain and the backup is restored there: every table and file
 * matches, and the instance answers the API under the same domain.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../../src-main/services/app-services';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import type { BackupRunView } from '../../../src-main/shared/backup-job';
import type { RestoreResult } from '../../../src-main/shared/restore';
import type { LabEnv, LabServerName } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { labStorageSettings, APP_STACK_DIR, appServicesFor, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';
import { uniqueName } from '../lab/lab-ssh';
import { DESKTOP_PASSPHRASE, runJob } from './job-lab';

const on = async (s: LabServerName, script: string) => {
  const r = await runInServer(s, ['bash', '-c', script], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`on ${s}: ${script}\n${r.stderr.toString()}`);
  return r.stdout.toString();
};
const psql = (s: LabServerName, sql: string) =>
  on(
    s,
    `cd ${APP_STACK_DIR} && docker compose -f compose.yml exec -T db psql -U misskey -d misskey -v ON_ERROR_STOP=1 -At -c ${JSON.stringify(sql)}`,
  );
async function digest(s: LabServerName): Promise<{ db: Record<string, string>; files: string }> {
  const db: Record<string, string> = {};
  for (const t of (await psql(s, "select tablename from pg_tables where schemaname = 'public' order by 1")).trim().split('\n'))
    db[t] = (await psql(s, `select count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from "${t}" x`)).trim();
  return { db, files: await on(s, `cd ${APP_STACK_DIR}/files && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`) };
}
/** POST /api/meta over HTTPS under the domain, through the server's Caddy, verified against its own root. */
const meta = async (s: LabServerName, domain: string) =>
  JSON.parse(
    await on(
      s,
      `curl -sSf http://localhost:2019/pki/ca/local | python3 -c 'import json,sys; print(json.load(sys.stdin)["root_certificate"])' >/tmp/caddy-root.pem && ` +
        `curl -sSf --resolve ${domain}:443:127.0.0.1 --cacert /tmp/caddy-root.pem -H 'content-type: application/json' -d '{}' https://${domain}/api/meta`,
    ),
  ) as { uri?: string; version?: string };
const wipe = async (s: LabServerName) => {
  await removeAppStack(s);
  await restoreLabCaddyfile(s);
  await on(
    s,
    'rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup /home/ohadmin/.ohitori-restore',
  );
};

describe('restore onto a fresh server under the same domain', () => {
  let env: LabEnv;
  let services: Services;
  let cleanup: () => Promise<void>;
  let a: string;
  let b: string;
  let s3: S3Client;

  beforeAll(async () => {
    await wipe('a');
    await wipe('b');
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
    s3 = new S3Client({
      endpoint: env.s3.endpoint,
      region: env.s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
    });
    const bucket = uniqueName('ohfresh');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await services.storage.save(labStorageSettings(env, a, bucket));
  }, 600_000);
  afterAll(async () => {
    s3?.destroy();
    await cleanup?.();
    await wipe('a');
    await wipe('b');
  });

  it('A backs up, A is destroyed, B is set up under the same domain and the backup comes back whole', async () => {
    const setup = (p: string) =>
      runJob(services, (ctx) => services.setup.apply(p, { tls: 'internal', restrictSignIn: false, allowedPrivateNetworks: [] }, ctx));
    expect((await setup(a)).state).toBe('done');
    expect((await runJob(services, (ctx) => services.backupJob.install(a, ctx))).state).toBe('done');
    await psql(
      'a',
      "create table fresh_probe(id int primary key, body text); insert into fresh_probe select g, 'ノート ' || g || ' 🎉' from generate_series(1, 3000) g",
    );
    await on(
      'a',
      `mkdir -p "${APP_STACK_DIR}/files/ドライブ" && head -c 800000 /dev/urandom >"${APP_STACK_DIR}/files/ドライブ/画像 1.png" && chown -R 991:991 ${APP_STACK_DIR}/files`,
    );
    const backup = await runJob<BackupRunView>(services, (ctx) => services.backupJob.runNow(a, ctx));
    expect(backup.state, JSON.stringify(backup.error)).toBe('done');
    const before = await digest('a');
    const metaBefore = await meta('a', env.restoreDomain);

    await wipe('a'); // the disaster

    expect((await setup(b)).state).toBe('done');
    await services.keys.keyring.unlock(DESKTOP_PASSPHRASE);
    const r = await runJob<RestoreResult>(services, (ctx) =>
      services.restore.run({ sourceProfileId: a, targetProfileId: b, backupId: backup.result!.backupId! }, ctx),
    );
    expect(r.state, JSON.stringify(r.error) + r.log.join('\n')).toBe('done');
    expect(await digest('b')).toEqual(before);
    const metaAfter = await meta('b', env.restoreDomain);
    expect(metaAfter.uri).toBe(metaBefore.uri);
    expect(metaAfter.uri).toBe(`https://${env.restoreDomain}`);
    expect((await runJob(services, (ctx) => services.restore.confirm(b, ctx))).state).toBe('done');
  }, 900_000);
});
