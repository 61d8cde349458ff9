import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreflightReport } from '../../../src-main/shared/setup';
import type { Services } from '../../../src-main/services/app-services';
import { appServicesFor } from '../../support/app-stack';

/**
 * The install-Caddy fix on a real server: asked first, then the distribution's package manager
 * runs through sudo. The lab's servers share the host's packages, where Caddy is installed, so
 * apt-get finds it already there (no network needed) and the checks run again afterwards.
 */
describe('preflight fix: install Caddy through the package manager', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let addProfile: Awaited<ReturnType<typeof appServicesFor>>['addProfile'];
  let profileId: string;

  beforeAll(async () => {
    ({ services, cleanup, addProfile } = await appServicesFor('a'));
    profileId = await addProfile();
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
