/**
 * Decrypted data a killed app left on this computer (restore staging, parts being verified) is
 * removed at the next start: the scratch folders of processes that no longer run, real processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServices } from '../../../src-main/services/app-services';
import { createPrivateTempDir } from '../../../src-main/services/backup-format/private-temp';
import { processRuns, scratchDir, sweepScratch } from '../../../src-main/services/files/scratch-dir';
import { withTempDir } from '../../support/temp-dir';

/** The PID of a process that ran and has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  expect(processRuns(r.pid)).toBe(false);
  return r.pid;
}

async function leftover(dataDir: string, pid: number): Promise<string> {
  const dump = join(scratchDir(dataDir, pid), 'restore-20261126T030000Z-00000042', 'out', 'db', 'misskey.dump');
  await mkdir(join(dump, '..'), { recursive: true, mode: 0o700 });
  await writeFile(dump, 'PGDMP decrypted rows');
  return dump;
}

describe('scratch folders', () => {
  it('the sweep removes the folders of exited processes and junk, keeps those of running ones and its own', async () => {
    await withTempDir(async (dataDir) => {
      const dead = deadPid();
      const sleeper = spawn('sleep', ['30']);
      try {
        await leftover(dataDir, dead);
        await leftover(dataDir, sleeper.pid!);
        await leftover(dataDir, process.pid);
        await mkdir(join(dataDir, 'scratch', 'not-a-pid'), { recursive: true });
        await mkdir(join(dataDir, 'restore', '20261101T030000Z-00000001', 'out'), { recursive: true }); // earlier versions' staging
        const removed = await sweepScratch(dataDir);
        expect(removed.sort()).toEqual([join('scratch', String(dead)), join('scratch', 'not-a-pid'), 'restore'].sort());
        expect((await readdir(join(dataDir, 'scratch'))).sort()).toEqual([String(process.pid), String(sleeper.pid)].sort());
        expect(await readdir(dataDir)).not.toContain('restore');
        // Once that process is gone too, the next sweep takes its folder.
        sleeper.kill('SIGKILL');
        await new Promise((r) => sleeper.once('exit', r));
        expect(await sweepScratch(dataDir)).toEqual([join('scratch', String(sleeper.pid))]);
      } finally {
        sleeper.kill('SIGKILL');
      }
    });
  });

  it('starting the app removes what a killed run left, and private temp folders go under this process’s scratch folder (0700)', async () => {
    await withTempDir(async (dataDir) => {
      const dump = await leftover(dataDir, deadPid());
      await createServices({ dataDir, mode: 'browser', version: 'test', broadcast: () => {} });
      await expect(stat(dump)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readdir(join(dataDir, 'scratch'))).toEqual([]);
      const tmp = await createPrivateTempDir(scratchDir(dataDir));
      try {
        expect(tmp.path.startsWith(join(dataDir, 'scratch', String(process.pid)) + '/')).toBe(true);
        expect((await stat(scratchDir(dataDir))).mode & 0o777).toBe(0o700);
        expect((await stat(tmp.path)).mode & 0o777).toBe(0o700);
      } finally {
        await tmp.remove();
      }
    });
  });
});
