import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../../src-main/services/app-services';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { APP_STACK_DIR, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';
import { makeTempDir } from '../../support/temp-dir';

describe('setup as a user whose sudo needs a password (docker only through sudo)', () => {
  let env: LabEnv;
  let services: Services;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    env = loadLabEnv();
    await removeAppStack('a');
    const t = await makeTempDir();
    cleanup = t.cleanup;
    services = await createServices({ dataDir: t.dir, mode: 'browser', version: 'test', broadcast: () => {} });
    await new HostKeyStore(t.dir).pin(env.servers.a.ip, 22, { algorithm: 'ssh-ed25519', fingerprint: env.servers.a.hostKeyFingerprint });
  });
  afterAll(async () => {
    await cleanup?.();
    await removeAppStack('a');
    await restoreLabCaddyfile('a');
  });

  it('sets the server up while the password never appears in its process list', async () => {
    const profile = await services.profiles.save({
      name: 'A as password user',
      host: env.servers.a.ip,
      port: 22,
      user: env.pass.user,
      auth: 'password',
      secret: env.pass.password,
      domain: env.servers.a.domain,
      stackDir: APP_STACK_DIR,
    });
    const preflight = await services.jobs.wait(services.jobs.start('p', 't', (ctx) => services.setup.preflight(profile.id, ctx)).id);
    expect(preflight).toMatchObject({ state: 'done', result: { facts: { dockerAccess: 'sudo' }, blocking: false } });

    const snapshots: string[] = [];
    const job = services.jobs.start('a', 't', (ctx) =>
      services.setup.apply(profile.id, { tls: 'internal', restrictSignIn: true, allowedPrivateNetworks: [] }, ctx),
    );
    let done = false;
    const watcher = (async () => {
      while (!done) snapshots.push((await runInServer('a', ['ps', '-eo', 'args'])).stdout.toString());
    })();
    const end = await services.jobs.wait(job.id);
    done = true;
    await watcher;
    expect(end, JSON.stringify(end.error)).toMatchObject({ state: 'done' });
    expect(snapshots.length).toBeGreaterThan(5);
    expect(snapshots.some((s) => s.includes('sudo -S -k'))).toBe(true);
    expect(snapshots.filter((s) => s.includes(env.pass.password))).toEqual([]);
  }, 300_000);
});
