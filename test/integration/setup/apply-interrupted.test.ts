import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import type { Services } from '../../../src-main/services/app-services';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { startFaultProxy, type FaultProxy } from '../../lab/fault-proxy';
import { APP_STACK_DIR, appServicesFor, readOnServer, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';

const CHOICES = { tls: 'internal', restrictSignIn: false, allowedPrivateNetworks: [] } as const;

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('setup apply through a link that dies mid-way (fault proxy in front of real sshd)', () => {
  let env: LabEnv;
  let proxy: FaultProxy;
  let services: Services;
  let cleanup: () => Promise<void>;
  let profileId: string;

  beforeAll(async () => {
    env = loadLabEnv();
    await removeAppStack('a');
    proxy = await startFaultProxy({ listenHost: '127.0.0.1', targetHost: env.servers.a.ip, targetPort: 22 });
    let addProfile;
    ({ services, cleanup, addProfile } = await appServicesFor('a', { via: { host: '127.0.0.1', port: proxy.port } }));
    profileId = await addProfile({ name: 'A via proxy' });
  });
  afterAll(async () => {
    await proxy?.close();
    await cleanup?.();
    await removeAppStack('a');
    await restoreLabCaddyfile('a');
  });

  it('fails within a minute with CONNECTION_LOST, and a second run completes with the same secrets', async () => {
    let job: JobSnapshot = services.jobs.start('setup-apply', 't', (ctx) => services.setup.apply(profileId, CHOICES, ctx));
    // Let it write the files and start the stack, then the link goes silent.
    await until(() => services.jobs.get(job.id).log.some((l) => l.includes('default.yml')), 120_000);
    const written = await readOnServer('a', `${APP_STACK_DIR}/.config/default.yml`);
    proxy.setMode('stall');
    const cutAt = Date.now();
    job = await services.jobs.wait(job.id);
    const took = Date.now() - cutAt;
    expect(job).toMatchObject({ state: 'failed', error: { code: 'CONNECTION_LOST' } });
    expect(took).toBeLessThan(60_000);

    proxy.setMode('pass');
    const again = await services.jobs.wait(
      services.jobs.start('setup-apply', 't', (ctx) => services.setup.apply(profileId, CHOICES, ctx)).id,
    );
    if (again.state !== 'done') console.log('second run', JSON.stringify(again.error), again.log.slice(-10));
    expect(again).toMatchObject({ state: 'done', result: { url: `https://${env.servers.a.domain}` } });
    expect(await readOnServer('a', `${APP_STACK_DIR}/.config/default.yml`)).toBe(written);
  }, 300_000);
});
