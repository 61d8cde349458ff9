import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreflightReport } from '../../../src-main/shared/setup';
import type { Services } from '../../../src-main/services/app-services';
import { runInServer } from '../../lab/server';
import { appServicesFor } from '../../support/app-stack';

/**
 * A real Btrfs filesystem (a loop-mounted image) under a stack directory of server A, mounted in
 * that server's own mount namespace: preflight recognises it and the fix makes the stack directory
 * a subvolume, as the guide recommends for snapshots.
 */
describe('preflight on Btrfs: the stack directory becomes a subvolume', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let addProfile: Awaited<ReturnType<typeof appServicesFor>>['addProfile'];
  let work: string;
  let profileId: string;
  const MOUNT = '/var/servers/btrfs-test';
  const STACK = `${MOUNT}/docker/misskey`;

  beforeAll(async () => {
    // Not under /tmp: each lab server has its own /tmp; /var/lib is the same on host and servers.
    work = await mkdtemp('/var/lib/ohitori-btrfs-test-');
    execFileSync('truncate', ['-s', '160M', join(work, 'fs.img')]);
    execFileSync('mkfs.btrfs', ['-q', join(work, 'fs.img')]);
    const m = await runInServer('a', [
      'sh',
      '-c',
      `mkdir -p ${MOUNT} && mount -o loop ${join(work, 'fs.img')} ${MOUNT} && mkdir -p ${MOUNT}/docker`,
    ]);
    expect(m.code, m.stderr.toString()).toBe(0);
    ({ services, cleanup, addProfile } = await appServicesFor('a'));
    profileId = await addProfile({ name: 'A on btrfs', stackDir: STACK });
  });
  afterAll(async () => {
    await runInServer('a', ['sh', '-c', `umount ${MOUNT}; rmdir ${MOUNT}`]);
    await cleanup?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('recognises Btrfs, offers the fix, and creates the subvolume once accepted', async () => {
    const pre = await services.jobs.wait(services.jobs.start('p', 't', (ctx) => services.setup.preflight(profileId, ctx)).id);
    const report = pre.result as PreflightReport;
    expect(report.checks.find((c) => c.id === 'btrfs')).toMatchObject({ status: 'pass', fix: 'create-subvolume' });

    const job = services.jobs.start('f', 't', (ctx) => services.setup.fix(profileId, 'create-subvolume', ctx));
    for (let i = 0; i < 600 && !services.jobs.get(job.id).prompt; i++) await new Promise((r) => setTimeout(r, 50));
    services.jobs.answer(job.id, services.jobs.get(job.id).prompt!.id, { accepted: true });
    const end = await services.jobs.wait(job.id);
    expect(end, JSON.stringify(end.error)).toMatchObject({ state: 'done' });
    const show = await runInServer('a', ['btrfs', 'subvolume', 'show', STACK]);
    expect(show.code, show.stderr.toString()).toBe(0);
    expect(show.stdout.toString()).toContain('docker/misskey');
  }, 120_000);
});
