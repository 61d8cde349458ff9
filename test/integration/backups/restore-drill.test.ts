import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPrivateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { COUNT_ROWS_SQL } from '../../../src-main/services/backups/dump-check';
import { serverIdFor } from '../../../src-main/services/backups/signing-pins';
import { countDumpRows } from '../../../src-main/services/pgdump/row-counter';
import type { VerifyRecord } from '../../../src-main/shared/backups';
import { dropBucket, makeBackup } from '../../support/s3-backups';
import { mustOnA, psql, runJob, setUpJobLab, type JobLab } from '../backup-job/job-lab';
import { uniqueName } from '../lab/lab-ssh';

/** Tables the row counter must get right, added to the live Misskey database before the backup. */
const SEED = `
create table drill_probe (id int primary key, body text);
insert into drill_probe select g, 'row ' || g || ' ✓ 日本語の行' from generate_series(1, 20000) g;
insert into drill_probe values (0, E'line one\\nline two\\twith a tab, a backslash \\\\ and a CR\\r');
create table drill_empty (x int);
create schema "drill schema";
create table "drill schema"."odd.Name" (v text);
insert into "drill schema"."odd.Name" values ('ü'), (E'\\\\.'), ('');
`;

/** Real pg_dump 15 -Fc -Z0 output with partitions, a large object, odd names (test/unit/backups/fixtures). */
const FIXTURE_DUMP = readFileSync(join(import.meta.dirname, '../../unit/backups/fixtures/rows-pg15.dump'));

/** psql -c through job-lab's quoting takes one line. */
const oneLine = (sql: string): string => sql.replace(/\n/g, ' ');

const liveCounts = async (): Promise<Record<string, number>> =>
  JSON.parse(await mustOnA(psql(oneLine(COUNT_ROWS_SQL)))) as Record<string, number>;

/**
 * Issue 8's drill, end to end on lab server A: the real nightly job (installed by the app) writes
 * row counts into the signed manifest, taken from the dump as it streams; the weekly drill with the
 * restore option restores that dump into a throwaway container on the server and finds the same
 * counts; a genuine manifest whose counts disagree with its dump is flagged.
 */
describe('row counts in the manifest and the restore drill (real nightly job, lab server A)', () => {
  let lab: JobLab;
  let manifest: BackupManifest;

  beforeAll(async () => {
    lab = await setUpJobLab({ bucket: uniqueName('drill') });
    await mustOnA(psql(oneLine(SEED)));
  }, 900_000);

  afterAll(async () => {
    if (lab) {
      await lab.services.backups.drill.set(lab.profileId, false, false);
      await dropBucket(lab.s3, lab.bucket);
      await lab.cleanup();
    }
  }, 300_000);

  it('the job counts every table into the manifest: exactly count(*) of the live database', async () => {
    const run = await runJob(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    expect(run.state, JSON.stringify(run.error) + run.log.slice(-20).join('\n')).toBe('done');
    expect(run.log.join('\n')).not.toMatch(/no row counts/);
    const listing = await lab.services.backups.catalog.list(lab.profileId);
    const t = await lab.services.backups.catalog.target(lab.profileId);
    try {
      ({ manifest } = await lab.services.backups.catalog.freshManifest(t, listing.latestGenuine!));
    } finally {
      t.client.destroy();
    }
    const live = await liveCounts();
    expect(manifest.tables).toEqual(live);
    expect(manifest.tables).toMatchObject({ 'public.drill_probe': 20001, 'public.drill_empty': 0, 'drill schema.odd.Name': 3 });
    // The Misskey double's own tables are there too.
    expect(Object.keys(live).length).toBeGreaterThan(3);
  });

  it('the weekly drill with the restore option restores into a throwaway container and finds every count', async () => {
    const containers = async () => (await mustOnA('docker ps -aq | sort')).trim();
    const volumes = async () => (await mustOnA('docker volume ls -q | sort')).trim();
    const before = { containers: await containers(), volumes: await volumes() };
    const settings = await lab.services.backups.drill.set(lab.profileId, true, true);
    expect(settings).toMatchObject({ enabled: true, restoreDrill: true });
    const [id, ...more] = await lab.services.backups.drill.tick();
    expect(more).toEqual([]);
    const job = await lab.services.jobs.wait(id!);
    expect(job.state, JSON.stringify(job.error) + job.log.slice(-20).join('\n')).toBe('done');
    const tables = manifest.tables!;
    const result = job.result as VerifyRecord & { backupId: string };
    expect(result).toMatchObject({ backupId: manifest.backupId, ok: true, dumpCheck: 'server' });
    expect(result.restoreDrill).toEqual({
      tables: Object.keys(tables).length,
      rows: Object.values(tables).reduce((a, b) => a + b, 0),
      compared: true,
      mismatches: [],
    });
    expect(job.log.join('\n')).toMatch(/restore drill: \d+ tables, \d+ rows; 0 differ/);
    // The drill keeps its restore option across runs, and the stored result says what it found.
    expect(await lab.services.backups.drill.get(lab.profileId)).toMatchObject({ enabled: true, restoreDrill: true });
    expect((await lab.services.backups.catalog.summary(lab.profileId)).latest?.verified?.restoreDrill?.compared).toBe(true);
    // Nothing is left on the server: no container, no volume.
    expect(await containers()).toBe(before.containers);
    expect(await volumes()).toBe(before.volumes);
  });

  it('a genuine backup whose manifest counts differ from its dump fails the restore drill with BACKUP_ROW_COUNT_MISMATCH', async () => {
    // Signed by the server's own key (read from the server: only a test may), so it lists as genuine.
    const signingKey = await readPrivateKey({ armoredKey: await mustOnA('cat /etc/ohitori/signing-key.asc') });
    const counted = countDumpRows(FIXTURE_DUMP);
    if (!counted.ok) throw new Error(counted.reason);
    const [first, ...rest] = Object.keys(counted.tables).sort();
    const wrong = { ...counted.tables, [first!]: counted.tables[first!]! + 1, 'public.ghost': 5 };
    const profile = await lab.services.profiles.get(lab.profileId);
    const bad = await makeBackup({
      s3: lab.s3,
      bucket: lab.bucket,
      prefix: 'ohitori/',
      serverId: serverIdFor(profile.domain),
      sequence: manifest.sequence + 1,
      at: new Date(),
      recipients: await lab.services.keys.keyring.recipientKeys(),
      signingKey,
      dump: FIXTURE_DUMP,
      tables: wrong,
    });
    expect(rest.length).toBeGreaterThan(0);
    const listing = await lab.services.backups.catalog.list(lab.profileId);
    expect(listing.latestGenuine).toBe(bad.backupId);
    const job = await runJob(lab.services, (ctx) =>
      lab.services.backups.verifier.verify(lab.profileId, bad.backupId, ctx, { restoreDrill: true }),
    );
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('BACKUP_ROW_COUNT_MISMATCH');
    const expected = [
      { table: first, expected: counted.tables[first!]! + 1, actual: counted.tables[first!] },
      { table: 'public.ghost', expected: 5, actual: null },
    ].sort((a, b) => (a.table! < b.table! ? -1 : 1));
    expect(job.error?.details?.mismatches).toEqual(expected);
    const stored = (await lab.services.backups.catalog.summary(lab.profileId)).latest?.verified;
    expect(stored).toMatchObject({ ok: false, code: 'BACKUP_ROW_COUNT_MISMATCH', restoreDrill: { compared: true, mismatches: expected } });
    // Without the restore option the same backup verifies: its dump itself is fine.
    const plain = await runJob(lab.services, (ctx) => lab.services.backups.verifier.verify(lab.profileId, bad.backupId, ctx));
    expect(plain.state, JSON.stringify(plain.error)).toBe('done');
  });

  it('a dump that does not restore fails the restore drill with BACKUP_RESTORE_DRILL_FAILED, and pg_restore says why', async () => {
    const signingKey = await readPrivateKey({ armoredKey: await mustOnA('cat /etc/ohitori/signing-key.asc') });
    const profile = await lab.services.profiles.get(lab.profileId);
    const latest = (await lab.services.backups.catalog.list(lab.profileId)).entries[0]!;
    const cut = await makeBackup({
      s3: lab.s3,
      bucket: lab.bucket,
      prefix: 'ohitori/',
      serverId: serverIdFor(profile.domain),
      sequence: latest.sequence! + 1,
      at: new Date(),
      recipients: await lab.services.keys.keyring.recipientKeys(),
      signingKey,
      // Cut inside the large table's data: the archive is whole, its dump is not.
      dump: FIXTURE_DUMP.subarray(0, FIXTURE_DUMP.length - 60_000),
    });
    const job = await runJob(lab.services, (ctx) =>
      lab.services.backups.verifier.verify(lab.profileId, cut.backupId, ctx, { restoreDrill: true }),
    );
    expect(job.error?.code, JSON.stringify(job.error)).toBe('BACKUP_RESTORE_DRILL_FAILED');
    expect(String(job.error?.details?.stderr)).toMatch(/pg_restore: error: .*\n.*pg_restore into a fresh database failed$/s);
    expect((await lab.services.backups.catalog.summary(lab.profileId)).latest?.verified).toMatchObject({
      ok: false,
      code: 'BACKUP_RESTORE_DRILL_FAILED',
    });
  });
});
