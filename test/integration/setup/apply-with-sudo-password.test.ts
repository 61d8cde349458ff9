import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../../src-main/services/app-services';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { appServicesFor, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';

describe('setup as a user whose sudo needs a password (docker only through sudo)', () => {
  let env: LabEnv;
  let services: Services;
  let cleanup: () => Promise<void>;
  let addProfile: Awaited<ReturnType<typeof appServicesFor>>['addProfile'];

  beforeAll(async () => {
    env = loadLabEnv();
    await removeAppStack('a');
    ({ services, cleanup, addProfile } = await appServicesFor('a'));
  });
  afterAll(async () => {
    await cleanup?.();
    await removeAppStack('a');
    await restoreLabCaddyfile('a');
  });

  it('sets the server up while the password never appears in its process list', async () => {
    const profileId = await addProfile({ user: env.pass.user, auth: 'password', secret: env.pass.password, keyPath: undefined });
    const preflight = await services.jobs.wait(services.jobs.start('p', 't', (ctx) => services.setup.preflight(profileId, ctx)).id);
    expect(preflight).toMatchObject({ state: 'done', result: { facts: { dockerAccess: 'sudo' }, blocking: false } });

    const snapshots: string[] = [];
    const job = services.jobs.start('a', 't', (ctx) =>
      services.setup.apply(profileId, { tls: 'internal', restrictSignIn: true, allowedPrivateNetworks: [] }, ctx),
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
