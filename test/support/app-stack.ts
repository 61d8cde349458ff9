import { runInServer } from '../lab/server';
import type { LabServerName } from '../lab/env';

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
