/**
 * The app process itself SIGKILLed in the middle of a restore (issue #8 "killing the app … at each
 * restore step"; restore-faults.test.ts strikes at every step from inside one process, this one
 * kills the real thing): the built app runs in browser mode on the job lab's data directory and is
 * driven through its own HTTP API, as its window would. Killed during the upload, it leaves lab
 * server A serving its old data with a partial upload, and a decrypted staging copy on this
 * computer; the next start of the app removes that copy, and running the restore again resumes the
 * upload and finishes.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRunView } from '../../../src-main/shared/backup-job';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import type { RestoreResult } from '../../../src-main/shared/restore';
import { startBrowserMode, type BrowserModeApp } from '../../e2e/fixtures';
import { APP_STACK_DIR, stackDigest } from '../../support/app-stack';
import { uniqueName } from '../lab/lab-ssh';
import { DESKTOP_PASSPHRASE, JOB_LAB_VAULT, mustOnA, onA, psql, runJob, setUpJobLab, type JobLab } from './job-lab';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UPLOADS = '/home/ohadmin/.ohitori-restore';

/** One call of the app's contract over its loopback API, as the renderer makes it. */
async function invoke<T>(app: BrowserModeApp, channel: string, body: unknown): Promise<T> {
  const r = await fetch(`${app.origin}/api/invoke/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${app.token}`, origin: app.origin },
    body: JSON.stringify(body),
  });
  const j = (await r.json()) as { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
  if (!j.ok) throw new Error(`${channel}: ${j.error.code} ${j.error.message}`);
  return j.value;
}

const job = async (app: BrowserModeApp, id: string): Promise<JobSnapshot> =>
  (await invoke<JobSnapshot[]>(app, 'jobs:list', {})).find((j) => j.id === id)!;

async function jobEnd(app: BrowserModeApp, id: string): Promise<JobSnapshot> {
  for (let i = 0; i < 1200; i++) {
    const j = await job(app, id);
    if (['done', 'failed', 'cancelled'].includes(j.state)) return j;
    await sleep(250);
  }
  throw new Error('the job did not end within 5 minutes');
}

describe('restore: the app process killed mid-upload (browser mode on lab server A)', () => {
  let lab: JobLab;
  let app: BrowserModeApp | undefined;
  let backupId: string;
  let atBackup: Awaited<ReturnType<typeof stackDigest>>;

  async function start(): Promise<BrowserModeApp> {
    app = await startBrowserMode({ dataDir: lab.services.options.dataDir });
    await invoke(app, 'vault:unlock', { passphrase: JOB_LAB_VAULT });
    await invoke(app, 'keys:unlock', { passphrase: DESKTOP_PASSPHRASE });
    return app;
  }

  beforeAll(async () => {
    lab = await setUpJobLab({ bucket: uniqueName('ohrkill') });
    // ~192 MiB of media that does not compress: an upload that lasts long enough to be caught.
    await mustOnA(
      `mkdir -p ${APP_STACK_DIR}/files/big && for i in $(seq 1 12); do head -c 16000000 /dev/urandom >${APP_STACK_DIR}/files/big/$i.bin; done && chown -R 991:991 ${APP_STACK_DIR}/files`,
    );
    const b = await runJob<BackupRunView>(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    expect(b.state, JSON.stringify(b.error)).toBe('done');
    backupId = b.result!.backupId!;
    atBackup = await stackDigest('a');
  }, 600_000);
  afterAll(async () => {
    await app?.stop();
    await mustOnA(`rm -rf ${APP_STACK_DIR}/files/big`).catch(() => undefined);
    await lab?.cleanup();
  });

  it('SIGKILL during the upload: A serves its old data; the next start sweeps the decrypted copy; the rerun resumes and finishes', async () => {
    await mustOnA(psql('create table if not exists kill_probe(id int); insert into kill_probe values (1)'));
    const old = await stackDigest('a');
    expect(old).not.toEqual(atBackup);

    const first = await start();
    const started = await invoke<JobSnapshot>(first, 'restore:run', {
      sourceProfileId: lab.profileId,
      targetProfileId: lab.profileId,
      backupId,
    });
    let seen: JobSnapshot | undefined;
    for (let i = 0; i < 2400 && !seen; i++) {
      const j = await job(first, started.id);
      expect(['queued', 'running'], JSON.stringify(j.error)).toContain(j.state);
      if (j.step === 'restore.steps.upload' && (j.bytesDone ?? 0) > 0) seen = j;
      else await sleep(25);
    }
    expect(seen, 'the upload was seen under way').toBeDefined();
    const exited = new Promise((r) => first.process.once('exit', r));
    first.process.kill('SIGKILL');
    await exited;
    app = undefined;
    const total = seen!.bytesTotal!;
    expect(seen!.bytesDone!).toBeLessThan(total);

    // The server: the old instance serves, no swap began, a partial upload waits.
    expect((await onA('test -e /var/lib/ohitori/restore/state.json')).code, 'no swap began').not.toBe(0);
    expect((await onA('curl -fsS --max-time 10 http://127.0.0.1:3000/healthz')).code, 'Misskey answers').toBe(0);
    expect(await stackDigest('a')).toEqual(old);
    const partial = Number((await mustOnA(`cat ${UPLOADS}/${backupId}/* 2>/dev/null | wc -c`)).trim());
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(total);

    // This computer: the killed process's decrypted staging copy is still there …
    const scratch = join(lab.services.options.dataDir, 'scratch', String(first.process.pid));
    expect(await readdir(scratch)).toEqual([`restore-${backupId}`]);
    // … until the app starts again.
    const second = await start();
    expect(existsSync(scratch)).toBe(false);

    const again = await invoke<JobSnapshot>(second, 'restore:run', {
      sourceProfileId: lab.profileId,
      targetProfileId: lab.profileId,
      backupId,
    });
    const end = await jobEnd(second, again.id);
    expect(end.state, JSON.stringify(end.error)).toBe('done');
    expect(end.result as RestoreResult).toMatchObject({ backupId, phase: 'healthy' });
    expect(end.log.join('\n')).toMatch(/resuming at \d+|already on the server/);
    expect(await stackDigest('a')).toEqual(atBackup);
    const confirm = await invoke<JobSnapshot>(second, 'restore:confirm', { profileId: lab.profileId });
    expect((await jobEnd(second, confirm.id)).state).toBe('done');
    expect((await mustOnA(`ls -A ${UPLOADS} 2>/dev/null | wc -l`)).trim()).toBe('0');
    expect(await readdir(join(lab.services.options.dataDir, 'scratch', String(second.process.pid))).catch(() => [])).toEqual([]);
  }, 900_000);
});
