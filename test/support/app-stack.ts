import { createServices, type Services } from '../../src-main/services/app-services';
import { HostKeyStore } from '../../src-main/services/ssh/host-key-store';
import { loadLabEnv, type LabEnv, type LabServerName } from '../lab/env';
import { runInServer } from '../lab/server';
import { makeTempDir } from './temp-dir';

/** Where the setup wizard puts the stack (the guide's directory). */
export const APP_STACK_DIR = '/var/servers/docker/misskey';

async function must(server: LabServerName, argv: string[]): Promise<string> {
  const r = await runInServer(server, argv, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${server} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/**
 * Removes a stack the app set up (containers, volumes, files), so a test starts from an empty
 * server. Takes the same lock as the app's `compose up`, so an `up` left running by a test that
 * stopped mid-apply finishes first instead of recreating containers afterwards.
 */
export async function removeAppStack(server: LabServerName): Promise<void> {
  await must(server, [
    'flock',
    '-w',
    '600',
    '/run/lock/ohitori-stack.lock',
    'sh',
    '-c',
    [
      `if [ -e ${APP_STACK_DIR}/compose.yml ]; then cd ${APP_STACK_DIR} && (docker compose -f compose.yml down -v --remove-orphans || docker-compose -f compose.yml down -v --remove-orphans); fi`,
      'ids=$(docker ps -aq --filter label=com.docker.compose.project=misskey)',
      'if [ -n "$ids" ]; then docker rm -f $ids; fi',
      `rm -rf ${APP_STACK_DIR}`,
    ].join('; '),
  ]);
}

/** Puts back the Caddyfile the lab had before the app replaced it, and reloads Caddy. */
export async function restoreLabCaddyfile(server: LabServerName): Promise<void> {
  await must(server, [
    'sh',
    '-c',
    'if [ -e /etc/caddy/Caddyfile.prev ]; then cp /etc/caddy/Caddyfile.prev /etc/caddy/Caddyfile && caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile; fi',
  ]);
}

export const readOnServer = (server: LabServerName, path: string): Promise<string> => must(server, ['cat', path]);
export const statOnServer = (server: LabServerName, ...paths: string[]): Promise<string> =>
  must(server, ['stat', '-c', '%a %u %n', ...paths]);

/** The app's main-process services on a private data dir, with server `server`'s host key pinned. */
export async function appServicesFor(
  server: LabServerName,
  opts: { via?: { host: string; port: number } } = {},
): Promise<{
  services: Services;
  env: LabEnv;
  dataDir: string;
  cleanup: () => Promise<void>;
  addProfile: (p?: Partial<ProfileFields>) => Promise<string>;
}> {
  const env = loadLabEnv();
  const t = await makeTempDir();
  const services = await createServices({ dataDir: t.dir, mode: 'browser', version: 'test', broadcast: () => {} });
  const s = env.servers[server];
  const host = opts.via?.host ?? s.ip;
  const port = opts.via?.port ?? 22;
  await new HostKeyStore(t.dir).pin(host, port, { algorithm: 'ssh-ed25519', fingerprint: s.hostKeyFingerprint });
  const addProfile = async (p: Partial<ProfileFields> = {}): Promise<string> =>
    (
      await services.profiles.save({
        name: `lab ${server}`,
        host,
        port,
        user: env.admin.user,
        auth: 'key',
        keyPath: env.admin.keyPath,
        domain: s.domain,
        stackDir: APP_STACK_DIR,
        ...p,
      } as ProfileFields)
    ).id;
  return { services, env, dataDir: t.dir, cleanup: t.cleanup, addProfile };
}

type ProfileFields = Parameters<Services['profiles']['save']>[0];

/** Storage settings on the lab's s3rver for a profile: one bucket, prefix `ohitori/`, the same lab key as desktop and server key. */
export function labStorageSettings(env: LabEnv, profileId: string, bucket: string): Parameters<Services['storage']['save']>[0] {
  return {
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
  };
}

/** A root shell script on a lab server (assertions and fault injection; the app itself goes through SSH). */
export async function onServer(server: LabServerName, script: string): Promise<string> {
  const r = await runInServer(server, ['bash', '-c', script], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`on ${server}: ${script}\n${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** `docker compose <args>` in the app's stack directory (a shell line for onServer). */
export const stackCompose = (args: string): string => `cd ${APP_STACK_DIR} && docker compose -f compose.yml ${args}`;

/** A shell line running one SQL statement in the stack's database (or `db`), unaligned output. */
export const psqlLine = (sql: string, db = 'misskey'): string =>
  stackCompose(`exec -T db psql -U misskey -d ${db} -v ON_ERROR_STOP=1 -At -c ${JSON.stringify(sql)}`);

/** One SQL statement in the stack's database (or `db`), unaligned output. */
export const psqlOn = (server: LabServerName, sql: string, db = 'misskey'): Promise<string> => onServer(server, psqlLine(sql, db));

/** Every public table's row count and md5 over its rows, and the SHA-256 of every file under files/. */
export async function stackDigest(server: LabServerName): Promise<{ db: Record<string, string>; files: string }> {
  const tables = (await psqlOn(server, "select tablename from pg_tables where schemaname = 'public' order by 1")).trim().split('\n');
  // One query for every table (row count and a digest of all rows), one `table=count:md5` line each.
  const sql = tables
    .map((t) => `select '${t}' || '=' || count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from "${t}" x`)
    .join(' union all ');
  const db: Record<string, string> = {};
  for (const line of (await psqlOn(server, sql)).trim().split('\n')) {
    const eq = line.indexOf('=');
    db[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (Object.keys(db).length !== tables.length) throw new Error(`stackDigest: ${tables.length} tables, ${Object.keys(db).length} digests`);
  return { db, files: await onServer(server, `cd ${APP_STACK_DIR}/files && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`) };
}

/** The server's state wiped: stack, Caddy site, backup job and restore leftovers. */
export async function wipeServer(server: LabServerName): Promise<void> {
  await removeAppStack(server);
  await restoreLabCaddyfile(server);
  await onServer(
    server,
    'rm -rf /etc/ohitori/* /var/lib/ohitori/* /usr/local/lib/ohitori/* /etc/cron.d/ohitori-backup /home/ohadmin/.ohitori-restore',
  );
}
