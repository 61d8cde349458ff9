import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreflightReport } from '../../../src-main/shared/setup';
import { createServices, type Services } from '../../../src-main/services/app-services';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { APP_STACK_DIR } from '../../support/app-stack';
import { makeTempDir } from '../../support/temp-dir';

/**
 * The install-Caddy fix on a real server: asked first, then the distribution's package manager
 * runs through sudo. The lab's servers share the host's packages, where Caddy is installed, so
 * apt-get finds it already there (no network needed) and the checks run again afterwards.
 */
describe('preflight fix: install Caddy through the package manager', () => {
  let env: LabEnv;
  let services: Services;
  let cleanup: () => Promise<void>;
  let profileId: string;

  beforeAll(async () => {
    env = loadLabEnv();
    const t = await makeTempDir();
    cleanup = t.cleanup;
    services = await createServices({ dataDir: t.dir, mode: 'browser', version: 'test', broadcast: () => {} });
    await new HostKeyStore(t.dir).pin(env.servers.a.ip, 22, { algorithm: 'ssh-ed25519', fingerprint: env.servers.a.hostKeyFingerprint });
    profileId = (
      await services.profiles.save({
        name: 'A',
        host: env.servers.a.ip,
        port: 22,
        user: env.admin.user,
        auth: 'key',
        keyPath: env.admin.keyPath,
        domain: env.servers.a.domain,
        stackDir: APP_STACK_DIR,
      })
    ).id;
  });
  afterAll(async () => cleanup?.());

  async function waitPrompt(id: string): Promise<string> {
    for (let i = 0; i < 600; i++) {
      const j = services.jobs.get(id);
      if (j.prompt) return j.prompt.id;
      if (['done', 'failed', 'cancelled'].includes(j.state)) throw new Error(`job ended: ${JSON.stringify(j.error)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no prompt');
  }

  it('declining runs nothing; accepting runs apt-get and checks again', async () => {
    const declined = services.jobs.start('f', 't', (ctx) => services.setup.fix(profileId, 'install-caddy', ctx));
    const p1 = await waitPrompt(declined.id);
    expect(services.jobs.get(declined.id).prompt).toMatchObject({
      kind: 'confirm',
      values: { command: expect.stringContaining('apt-get install -y') },
    });
    services.jobs.answer(declined.id, p1, { accepted: false });
    expect(await services.jobs.wait(declined.id)).toMatchObject({ state: 'cancelled' });

    const accepted = services.jobs.start('f', 't', (ctx) => services.setup.fix(profileId, 'install-caddy', ctx));
    services.jobs.answer(accepted.id, await waitPrompt(accepted.id), { accepted: true });
    const end = await services.jobs.wait(accepted.id);
    expect(end, JSON.stringify(end.error)).toMatchObject({ state: 'done' });
    expect(end.log.join('\n')).toMatch(/caddy is already the newest version|0 newly installed/);
    const report = end.result as PreflightReport;
    expect(report.checks.find((c) => c.id === 'caddy')?.status).toBe('pass');
  }, 120_000);
});
