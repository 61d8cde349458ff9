import { CreateBucketCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { decryptKey, readPrivateKey } from 'openpgp';
import type { Services } from '../../../src-main/services/app-services';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import type { LabEnv } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { labStorageSettings, appServicesFor, psqlLine, removeAppStack, restoreLabCaddyfile, stackCompose } from '../../support/app-stack';

export const DESKTOP_PASSPHRASE = 'correct horse battery staple 42';
export const RUNNER = '/usr/local/lib/ohitori/ohitori-backup';

/** Runs a job body through the app's job runner and waits for its end. */
export async function runJob<T>(services: Services, body: Parameters<Services['jobs']['start']>[2]): Promise<JobSnapshot & { result?: T }> {
  return (await services.jobs.wait(services.jobs.start('test', 'test', body).id)) as JobSnapshot & { result?: T };
}

/** Root shell on lab server A (assertions and fault injection only; the app goes through SSH). */
export async function onA(script: string, timeoutMs = 120_000): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runInServer('a', ['bash', '-c', script], { timeoutMs });
  return { code: r.code, out: r.stdout.toString(), err: r.stderr.toString() };
}

export async function mustOnA(script: string, timeoutMs = 120_000): Promise<string> {
  const r = await onA(script, timeoutMs);
  if (r.code !== 0) throw new Error(`on a: ${script}\n→ ${r.code}: ${r.err}${r.out}`);
  return r.out;
}

export const compose = stackCompose;
export const psql = psqlLine;

export const JOB_LAB_VAULT = 'vault passphrase for the job tests 1';

export interface JobLab {
  services: Services;
  /** The app data directory behind `services` (a second process may open it). */
  dataDir: string;
  env: LabEnv;
  profileId: string;
  bucket: string;
  s3: S3Client;
  cleanup(): Promise<void>;
  /** Every object key in the bucket. */
  keys(): Promise<string[]>;
  manifests(): Promise<string[]>;
  uploads(): Promise<number>;
  emptyBucket(): Promise<void>;
}

/**
 * Lab server A set up by the app's own setup (wizard path), with a desktop key, storage settings
 * on a fresh s3rver bucket (desktop and server key) and the backup job installed by the app.
 * `via`: the profile reaches server A's sshd through this address (a fault proxy).
 */
export async function setUpJobLab(opts: { keep?: number; bucket: string; via?: { host: string; port: number } }): Promise<JobLab> {
  await removeAppStack('a');
  await onA('rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup /home/ohadmin/.ohitori-restore');
  const { services, env, cleanup, addProfile, dataDir } = await appServicesFor('a', opts.via ? { via: opts.via } : {});
  const profileId = await addProfile();
  await services.vault.setPassphrase(JOB_LAB_VAULT);
  await services.keys.generate({ name: 'Desktop', passphrase: DESKTOP_PASSPHRASE });
  const s3 = new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
  });
  const bucket = opts.bucket;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await services.storage.save(labStorageSettings(env, profileId, bucket));
  const setup = await runJob(services, (ctx) =>
    services.setup.apply(profileId, { tls: 'internal', restrictSignIn: false, allowedPrivateNetworks: [] }, ctx),
  );
  if (setup.state !== 'done') throw new Error(`setup failed: ${JSON.stringify(setup.error)}\n${setup.log.slice(-20).join('\n')}`);
  const install = await runJob(services, (ctx) => services.backupJob.install(profileId, ctx, { keep: opts.keep ?? 14 }));
  if (install.state !== 'done') throw new Error(`install failed: ${JSON.stringify(install.error)}\n${install.log.slice(-20).join('\n')}`);
  const keys = async () => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) out.push(o.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  };
  return {
    services,
    dataDir,
    env,
    profileId,
    bucket,
    s3,
    keys,
    manifests: async () => (await keys()).filter((k) => k.endsWith('/manifest.json.pgp')),
    uploads: async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0,
    emptyBucket: async () => {
      const all = await keys();
      for (let i = 0; i < all.length; i += 1000)
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: all.slice(i, i + 1000).map((Key) => ({ Key })) } }));
    },
    cleanup: async () => {
      s3.destroy();
      await cleanup();
      await removeAppStack('a');
      await restoreLabCaddyfile('a');
      await onA(
        'rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup /home/ohadmin/.ohitori-restore',
      );
    },
  };
}

/** The desktop key's raw secret scalars (primary seed and encryption subkey) and its armored recovery export. */
export async function desktopKeySecrets(lab: JobLab): Promise<{ secrets: Buffer[]; armored: string }> {
  const exported = await lab.services.keys.keyring.exportRecovery({ passphrase: DESKTOP_PASSPHRASE });
  const unlocked = await decryptKey({
    privateKey: await readPrivateKey({ armoredKey: exported.armoredKey }),
    passphrase: DESKTOP_PASSPHRASE,
  });
  const secrets = [unlocked.keyPacket, ...unlocked.subkeys.map((s) => s.keyPacket)].flatMap((p) =>
    Object.values((p as unknown as { privateParams?: Record<string, Uint8Array> }).privateParams ?? {}).map((v) => Buffer.from(v)),
  );
  return { secrets, armored: exported.armoredKey };
}

/**
 * Files on server A holding any of the desktop key's secret bytes or an armored private key (with
 * content, not just the string in openpgp's code): the server's own files (config, state, stack,
 * homes, temp) and the docker data root's containers and volumes. Two canaries are planted first and
 * removed after, so a scan that finds nothing is proven able to find something.
 */
export async function scanServerForPrivateKeys(lab: JobLab): Promise<string[]> {
  const { secrets, armored } = await desktopKeySecrets(lab);
  if (secrets.length < 2) throw new Error('expected the secret scalars of the desktop key');
  const where = `/etc /var/lib/ohitori /usr/local/lib/ohitori /var/servers /tmp /var/tmp /home ${lab.env.stateDir}/a/docker/containers ${lab.env.stateDir}/a/docker/volumes`;
  // grep -z reads NUL-separated records, so a pattern may hold any byte but NUL (and newlines are
  // ordinary): search for each secret's longest NUL-free run (random 32 bytes: 8+ bytes nearly always).
  const runs = secrets.map(longestRunWithoutNul).filter((r) => r.length >= 8);
  if (runs.length < secrets.length) throw new Error('a secret has no NUL-free run of 8 bytes to search for');
  const patterns = runs.map((b) => b.toString('hex').replace(/../g, '\\\\x$&'));
  await runInServer('a', ['sh', '-c', 'cat >/var/tmp/ohitori-canary.bin'], {
    input: Buffer.concat([Buffer.from('x'), secrets[0]!, Buffer.from('y')]),
  });
  await runInServer('a', ['sh', '-c', 'cat >/var/tmp/ohitori-canary.asc'], { input: armored });
  const scan = await onA(
    `for pat in ${patterns.join(' ')}; do LC_ALL=C grep -rlazP "$pat" ${where} 2>/dev/null; done; ` +
      `LC_ALL=C grep -rlazP 'BEGIN PGP PRIVATE KEY BLOCK-----\\r?\\n(?:[A-Za-z]+: [^\\n]*\\r?\\n)*\\r?\\n?[A-Za-z0-9+/=]{40}' ${where} 2>/dev/null; true`,
    300_000,
  );
  await onA('rm -f /var/tmp/ohitori-canary.bin /var/tmp/ohitori-canary.asc');
  const found = [...new Set(scan.out.trim().split('\n').filter(Boolean))].sort();
  for (const c of ['/var/tmp/ohitori-canary.asc', '/var/tmp/ohitori-canary.bin'])
    if (!found.includes(c)) throw new Error(`the scan did not find its canary ${c}: it cannot be trusted`);
  return found.filter((f) => !f.startsWith('/var/tmp/ohitori-canary.'));
}

/** Fills `bench_data` on lab A's database to about `targetMiB` of rows (1 KiB of random hex each); for the benches. */
export async function fillBenchTable(targetMiB: number): Promise<number> {
  await mustOnA(psql('create table if not exists bench_data(id bigint primary key, body text)'));
  const have = Number((await mustOnA(psql('select count(*) from bench_data'))).trim());
  const want = Math.round((targetMiB * 1024 * 1024) / 1100);
  if (want > have)
    await mustOnA(
      psql(
        `insert into bench_data select g, (select string_agg(md5(random()::text || g::text || k::text), '') from generate_series(1, 32) k) from generate_series(${have + 1}, ${want}) g`,
      ),
      1_800_000,
    );
  return Number((await mustOnA(psql("select pg_total_relation_size('bench_data')"))).trim()) / 1024 / 1024;
}

function longestRunWithoutNul(b: Buffer): Buffer {
  let best: Buffer = Buffer.alloc(0);
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === 0) {
      if (i - start > best.length) best = b.subarray(start, i);
      start = i + 1;
    }
  }
  return best;
}
