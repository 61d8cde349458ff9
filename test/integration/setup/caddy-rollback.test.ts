import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../../src-main/services/app-services';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { APP_STACK_DIR, readOnServer, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';
import { makeTempDir } from '../../support/temp-dir';

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
  let blocked = false;

  beforeAll(async () => {
    env = loadLabEnv();
    await removeAppStack('a');
    const t = await makeTempDir();
    cleanup = t.cleanup;
    services = await createServices({ dataDir: t.dir, mode: 'browser', version: 'test', broadcast: () => {} });
    await new HostKeyStore(t.dir).pin(env.servers.a.ip, 22, { algorithm: 'ssh-ed25519', fingerprint: env.servers.a.hostKeyFingerprint });
  });
  afterAll(async () => {
    if (blocked) await runInServer('a', UNBLOCK_ADMIN);
    await cleanup?.();
    await removeAppStack('a');
    await restoreLabCaddyfile('a');
  });

  it('puts the previous Caddyfile back, keeps Caddy serving it, and says so', async () => {
    const before = await readOnServer('a', '/etc/caddy/Caddyfile');
    const profile = await services.profiles.save({
      name: 'A',
      host: env.servers.a.ip,
      port: 22,
      user: env.admin.user,
      auth: 'key',
      keyPath: env.admin.keyPath,
      domain: env.servers.a.domain,
      stackDir: APP_STACK_DIR,
    });
    const job = services.jobs.start('a', 't', (ctx) =>
      services.setup.apply(profile.id, { tls: 'internal', restrictSignIn: true, allowedPrivateNetworks: [] }, ctx),
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
