import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../../src-main/services/app-services';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { appServicesFor, readOnServer, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';

/** Fault injected inside server A's own network namespace: Caddy's admin endpoint refuses connections. */
const BLOCK_ADMIN = ['iptables', '-I', 'INPUT', '-p', 'tcp', '--dport', '2019', '-j', 'REJECT', '--reject-with', 'tcp-reset'];
const UNBLOCK_ADMIN = ['iptables', '-D', 'INPUT', '-p', 'tcp', '--dport', '2019', '-j', 'REJECT', '--reject-with', 'tcp-reset'];

/**
 * `caddy validate` passes, then the reload cannot reach the running Caddy (its admin endpoint
 * refuses): the previous Caddyfile must be put back, and Caddy keep serving what it served.
 */
describe('Caddy rollback when the reload fails after validation passed', () => {
  let env: LabEnv;
  let services: Services;
  let cleanup: () => Promise<void>;
  let addProfile: Awaited<ReturnType<typeof appServicesFor>>['addProfile'];
  let blocked = false;

  beforeAll(async () => {
    env = loadLabEnv();
    await removeAppStack('a');
    ({ services, cleanup, addProfile } = await appServicesFor('a'));
  });
  afterAll(async () => {
    if (blocked) await runInServer('a', UNBLOCK_ADMIN);
    await cleanup?.();
    await removeAppStack('a');
    await restoreLabCaddyfile('a');
  });

  it('puts the previous Caddyfile back, keeps Caddy serving it, and says so', async () => {
    const before = await readOnServer('a', '/etc/caddy/Caddyfile');
    const profileId = await addProfile();
    const job = services.jobs.start('a', 't', (ctx) =>
      services.setup.apply(profileId, { tls: 'internal', restrictSignIn: true, allowedPrivateNetworks: [] }, ctx),
    );
    // Block the admin endpoint once the stack is being started (before Caddy's step).
    for (let i = 0; i < 1200 && !services.jobs.get(job.id).log.some((l) => l.includes('default.yml')); i++)
      await new Promise((r) => setTimeout(r, 50));
    const r = await runInServer('a', BLOCK_ADMIN);
    expect(r.code, r.stderr.toString()).toBe(0);
    blocked = true;
    const end = await services.jobs.wait(job.id);
    expect(end).toMatchObject({ state: 'failed', error: { code: 'REMOTE_COMMAND_FAILED' } });
    expect(end.error?.message).toMatch(/previous Caddyfile was restored/);
    expect(await readOnServer('a', '/etc/caddy/Caddyfile')).toBe(before);
    await runInServer('a', UNBLOCK_ADMIN);
    blocked = false;
    // Caddy never took the new file: the lab's own site still answers, without the sign-in block.
    const served = await runInServer('a', [
      'curl',
      '-sk',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--resolve',
      `${env.servers.a.domain}:443:127.0.0.1`,
      `https://${env.servers.a.domain}/healthz`,
    ]);
    expect(served.stdout.toString()).toBe('200');
  }, 300_000);
});
