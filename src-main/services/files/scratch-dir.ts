import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where decrypted data waits on this computer: a restore's staging copy and the private temp
 * folders of parts being verified live in `<dataDir>/scratch/<pid>/` (0700, created by whoever
 * writes there first). Each task removes its own files on every path it controls; a killed app or
 * a power cut cannot, so at start-up {@link sweepScratch} removes the folders of every process
 * that no longer runs — decrypted backup data never outlives the app that made it for longer
 * than the next start.
 */
export const SCRATCH = 'scratch';

/** This process's scratch folder (not created here). */
export function scratchDir(dataDir: string, pid: number = process.pid): string {
  return join(dataDir, SCRATCH, String(pid));
}

/** Whether a process with this PID runs (EPERM: it runs, as another user). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the scratch folders of processes that no longer run (and anything else in `scratch/`
 * that is not a PID), plus the `restore/` staging folder of versions before the scratch folder.
 * Returns what was removed, relative to `dataDir`; what cannot be removed is left for the next start.
 */
export async function sweepScratch(dataDir: string, runs: (pid: number) => boolean = processRuns): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(join(dataDir, SCRATCH)).catch(() => [] as string[]);
  for (const name of entries) {
    const pid = /^\d+$/.test(name) ? Number(name) : NaN;
    if (pid === process.pid || (Number.isSafeInteger(pid) && pid > 0 && runs(pid))) continue;
    if (await tryRemove(join(dataDir, SCRATCH, name))) removed.push(join(SCRATCH, name));
  }
  const legacy = await readdir(join(dataDir, 'restore')).catch(() => undefined);
  if (legacy && (await tryRemove(join(dataDir, 'restore')))) removed.push('restore');
  return removed;
}

/** Best effort: a folder that cannot be removed (permissions) must not keep the app from starting. */
const tryRemove = (path: string): Promise<boolean> =>
  rm(path, { recursive: true, force: true }).then(
    () => true,
    () => false,
  );
