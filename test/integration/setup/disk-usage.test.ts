import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../../src-main/services/app-services';
import { runInServer } from '../../lab/server';
import { APP_STACK_DIR, appServicesFor, removeAppStack, restoreLabCaddyfile } from '../../support/app-stack';

describe('disk use of a set-up instance, measured over SSH', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let addProfile: Awaited<ReturnType<typeof appServicesFor>>['addProfile'];
  let profileId: string;

  beforeAll(async () => {
    await removeAppStack('a');
    ({ services, cleanup, addProfile } = await appServicesFor('a'));
    profileId = await addProfile();
    const applied = await services.jobs.wait(
      services.jobs.start('a', 't', (ctx) =>
        services.setup.apply(profileId, { tls: 'internal', restrictSignIn: false, allowedPrivateNetworks: [] }, ctx),
      ).id,
    );
    expect(applied, JSON.stringify(applied.error)).toMatchObject({ state: 'done' });
  }, 300_000);
  afterAll(async () => {
    await cleanup?.();
    await removeAppStack('a');
    await restoreLabCaddyfile('a');
  });

  it('reports the files directory and the database as the server itself sees them', async () => {
    await runInServer('a', ['sh', '-c', `head -c 3145728 /dev/urandom > ${APP_STACK_DIR}/files/media.bin`]);
    const job = await services.jobs.wait(services.jobs.start('d', 't', (ctx) => services.setup.diskUsage(profileId, ctx)).id);
    expect(job, JSON.stringify(job.error)).toMatchObject({ state: 'done' });
    const r = job.result as { filesBytes: number; dbBytes: number };
    const du = Number((await runInServer('a', ['du', '-sb', `${APP_STACK_DIR}/files`])).stdout.toString().split(/\s/)[0]);
    expect(r.filesBytes).toBe(du);
    expect(r.filesBytes).toBeGreaterThanOrEqual(3 << 20);
    const psql = await runInServer('a', [
      'sh',
      '-c',
      `cd ${APP_STACK_DIR} && docker compose -f compose.yml exec -T db sh -c 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "select pg_database_size(current_database())"' </dev/null`,
    ]);
    const expected = Number(psql.stdout.toString().trim());
    // The double writes to its tables now and then; the size is the same to within a few pages.
    expect(Math.abs(r.dbBytes - expected)).toBeLessThan(1 << 20);
    expect(r.dbBytes).toBeGreaterThan(1 << 20);
  }, 120_000);
});
