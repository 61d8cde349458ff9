/**
 * Restore on lab server A from a backup its nightly job made (issue #8 part 3; G1, G2, G22, G23):
 * the state at backup time comes back (every table, every file), the old data is kept aside until
 * confirmed; a tampered backup is refused with nothing sent to the server and the live database
 * unchanged; another instance's backup is refused; a lost connection mid-swap leaves the server to
 * finish on its own, and running the same restore again picks its swap up.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRunView } from '../../../src-main/shared/backup-job';
import type { RestoreResult, RestoreServerState } from '../../../src-main/shared/restore';
import { APP_STACK_DIR } from '../../support/app-stack';
import { uniqueName } from '../lab/lab-ssh';
import { DESKTOP_PASSPHRASE, mustOnA, onA, psql, runJob, scanServerForPrivateKeys, setUpJobLab, type JobLab } from './job-lab';

async function dbDigest(): Promise<Record<string, string>> {
  const tables = (await mustOnA(psql("select tablename from pg_tables where schemaname = 'public' order by 1"))).trim().split('\n');
  const out: Record<string, string> = {};
  for (const t of tables)
    out[t] = (
      await mustOnA(psql(`select count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from "${t}" x`))
    ).trim();
  return out;
}
const filesDigest = () => mustOnA(`cd ${APP_STACK_DIR}/files && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`);

describe('restore onto lab server A', () => {
  let lab: JobLab;
  let backupId: string;
  let atBackup: { db: Record<string, string>; files: string };
  const restore = (over: Partial<{ backupId: string; migrate: boolean }> = {}) =>
    runJob<RestoreResult>(lab.services, (ctx) =>
      lab.services.restore.run({ sourceProfileId: lab.profileId, targetProfileId: lab.profileId, backupId, ...over }, ctx),
    );

  beforeAll(async () => {
    lab = await setUpJobLab({ bucket: uniqueName('ohrest') });
    await mustOnA(
      psql(
        "create table restore_probe(id int primary key, body text); insert into restore_probe select g, '投稿 ' || g from generate_series(1, 2000) g",
      ),
    );
    await mustOnA(
      `mkdir -p "${APP_STACK_DIR}/files/2026" && head -c 500000 /dev/urandom >"${APP_STACK_DIR}/files/2026/写真.webp" && chown -R 991:991 ${APP_STACK_DIR}/files`,
    );
    const job = await runJob<BackupRunView>(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    if (job.state !== 'done') throw new Error(`backup failed: ${JSON.stringify(job.error)}`);
    backupId = job.result!.backupId!;
    atBackup = { db: await dbDigest(), files: await filesDigest() };
    await lab.services.keys.keyring.unlock(DESKTOP_PASSPHRASE);
  }, 600_000);
  afterAll(async () => {
    await lab?.cleanup();
  });

  it('refuses a tampered backup (one flipped byte) with zero bytes sent to the server and the live database unchanged', async () => {
    const key = `ohitori/a-ohitori-test/${backupId}/part-00000.pgp`;
    const original = await (await lab.s3.send(new GetObjectCommand({ Bucket: lab.bucket, Key: key }))).Body!.transformToByteArray();
    const bad = Buffer.from(original);
    bad[Math.floor(bad.length / 2)]! ^= 0x40;
    await lab.s3.send(new PutObjectCommand({ Bucket: lab.bucket, Key: key, Body: bad }));
    await mustOnA(psql("insert into restore_probe values (100001, 'after the backup')"));
    const live = await dbDigest();
    const uploadsBefore = (await onA('ls -A /home/ohadmin/.ohitori-restore 2>/dev/null | wc -l')).out.trim();
    try {
      const r = await restore();
      expect(r.state).toBe('failed');
      expect(r.error?.code).toBe('BACKUP_DAMAGED');
      expect((await onA('ls -A /home/ohadmin/.ohitori-restore 2>/dev/null | wc -l')).out.trim()).toBe(uploadsBefore);
      expect((await onA('test -e /var/lib/ohitori/restore/state.json')).code).not.toBe(0);
      expect(await dbDigest()).toEqual(live);
    } finally {
      await lab.s3.send(new PutObjectCommand({ Bucket: lab.bucket, Key: key, Body: original }));
    }
  }, 300_000);

  it('refuses a backup of another instance (url differs) unless migrating', async () => {
    await mustOnA(`sed -i.bak 's#^url: .*#url: https://elsewhere.example/#' ${APP_STACK_DIR}/.config/default.yml`);
    try {
      const r = await restore();
      expect(r.state).toBe('failed');
      expect(r.error?.code).toBe('RESTORE_IDENTITY_MISMATCH');
    } finally {
      await mustOnA(`mv ${APP_STACK_DIR}/.config/default.yml.bak ${APP_STACK_DIR}/.config/default.yml`);
    }
  }, 300_000);

  it('brings back every table and file as they were at backup time, keeps the old data aside until confirmed', async () => {
    // Changes after the backup: rows added and removed, a file deleted and one added.
    await mustOnA(psql("delete from restore_probe where id <= 10; insert into restore_probe values (200000, 'later')"));
    await mustOnA(`rm -f "${APP_STACK_DIR}/files/2026/写真.webp" && echo new >${APP_STACK_DIR}/files/new.txt`);
    const r = await restore();
    expect(r.state, JSON.stringify(r.error) + r.log.join('\n')).toBe('done');
    expect(r.result).toMatchObject({ backupId, phase: 'healthy' });
    expect(await dbDigest()).toEqual(atBackup.db);
    expect(await filesDigest()).toBe(atBackup.files);
    // The old state is kept until the user confirms.
    const kept = r.result!.keptAside;
    expect((await mustOnA(psql(`select count(*) from pg_database where datname = '${kept}'`))).trim()).toBe('1');
    expect((await onA(`test -f ${APP_STACK_DIR}/files.pre-${r.result!.stamp}/new.txt`)).code).toBe(0);
    // The instance answers again.
    expect((await onA('curl -fsS http://127.0.0.1:3000/healthz')).code).toBe(0);
    const confirm = await runJob<RestoreServerState>(lab.services, (ctx) => lab.services.restore.confirm(lab.profileId, ctx));
    expect(confirm.state).toBe('done');
    expect(confirm.result).toMatchObject({ phase: 'confirmed' });
    expect((await mustOnA(psql(`select count(*) from pg_database where datname = '${kept}'`))).trim()).toBe('0');
    expect((await onA(`test -e ${APP_STACK_DIR}/files.pre-${r.result!.stamp}`)).code).not.toBe(0);
  }, 600_000);

  it('a connection lost during the swap does not stop it: the server finishes on its own, healthy, and waits for confirmation', async () => {
    await mustOnA(psql("insert into restore_probe values (300000, 'again later')"));
    const job = lab.services.jobs.start('restore', 't', (ctx) =>
      lab.services.restore.run({ sourceProfileId: lab.profileId, targetProfileId: lab.profileId, backupId }, ctx),
    );
    for (let i = 0; i < 600; i++) {
      const step = lab.services.jobs.list().find((j) => j.id === job.id)?.step ?? '';
      if (/restore\.(steps\.swap|phases\.)/.test(step)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    lab.services.jobs.cancel(job.id); // closes the SSH connection
    await lab.services.jobs.wait(job.id);
    let state: RestoreServerState | null = null;
    for (let i = 0; i < 120; i++) {
      const s = await runJob<RestoreServerState | null>(lab.services, (ctx) => lab.services.restore.status(lab.profileId, ctx));
      state = s.result ?? null;
      if (state && ['healthy', 'rolled-back', 'failed'].includes(state.phase)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(state?.phase).toBe('healthy');
    expect(await dbDigest()).toEqual(atBackup.db);
    // Running the same restore again picks up the server's swap (nothing is swapped twice).
    const again = await restore();
    expect(again.state, JSON.stringify(again.error)).toBe('done');
    expect(again.result).toMatchObject({ backupId, phase: 'healthy', stamp: state?.stamp, adopted: true });
    expect((await runJob(lab.services, (ctx) => lab.services.restore.confirm(lab.profileId, ctx))).state).toBe('done');
  }, 600_000);

  it('after setup, backups and restores, no private-key material of the desktop is on the server', async () => {
    expect(await scanServerForPrivateKeys(lab)).toEqual(['/etc/ohitori/signing-key.asc']);
  }, 300_000);
});
