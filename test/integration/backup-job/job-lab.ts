import { CreateBucketCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Services } from '../../../src-main/services/app-services';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import type { LabEnv } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { APP_STACK_DIR, appServicesFor, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';

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

export const compose = (args: string) => `cd ${APP_STACK_DIR} && docker compose -f compose.yml ${args}`;
export const psql = (sql: string, db = 'misskey') =>
  compose(`exec -T db psql -U misskey -d ${db} -v ON_ERROR_STOP=1 -At -c ${JSON.stringify(sql)}`);

export interface JobLab {
  services: Services;
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
 */
export async function setUpJobLab(opts: { keep?: number; bucket: string }): Promise<JobLab> {
  await removeAppStack('a');
  await onA('rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup');
  const { services, env, cleanup, addProfile } = await appServicesFor('a');
  const profileId = await addProfile();
  await services.vault.setPassphrase('vault passphrase for the job tests 1');
  await services.keys.generate({ name: 'Desktop', passphrase: DESKTOP_PASSPHRASE });
  const s3 = new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
  });
  const bucket = opts.bucket;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await services.storage.save({
    profileId,
    preset: 'minio',
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    bucket,
    prefix: 'ohitori/',
    forcePathStyle: true,
    desktopAccessKeyId: env.s3.accessKeyId,
    desktopSecret: env.s3.secretAccessKey,
    serverAccessKeyId: env.s3.accessKeyId,
    serverSecret: env.s3.secretAccessKey,
  });
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
      await onA('rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup');
    },
  };
}
