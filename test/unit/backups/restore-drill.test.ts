import { describe, expect, it } from 'vitest';
import { canonicalJson, parseManifestJson } from '../../../src-main/services/backup-format/manifest';
import { judgeRestoreDrill } from '../../../src-main/services/backups/backup-verify';
import { compareRowCounts, COUNT_ROWS_SQL, parseRowCounts, RESTORE_DRILL_SCRIPT } from '../../../src-main/services/backups/dump-check';
import { isAppError } from '../../../src-main/shared/errors';

const manifest = {
  format: 'ohitori-backup',
  formatVersion: 1,
  serverId: 'srv1',
  backupId: '20261101T030000Z-00000001',
  sequence: 1,
  startedAt: '2026-11-01T03:00:00.000Z',
  finishedAt: '2026-11-01T03:01:00.000Z',
  versions: { postgres: '15.8' },
  contents: ['db'],
  recipients: ['A'.repeat(40)],
  signingKey: 'B'.repeat(40),
  archive: 'tar',
  compression: 'zstd',
  encryption: 'openpgp-seipdv1',
  partSize: 4096,
  parts: [{ name: 'part-00000.pgp', size: 10, sha256: '0'.repeat(64), plainSize: 5 }],
};
const enc = (s: string) => new TextEncoder().encode(s);

describe('manifest row counts (`tables`)', () => {
  it('is optional: manifests without it still read; with it, canonical form sorts the table names', () => {
    expect(parseManifestJson(enc(canonicalJson(manifest))).tables).toBeUndefined();
    const withTables = { ...manifest, tables: { 'public.note': 3, 'Other Schema.Mixed Case.Table': 0, 'public.drive_file': 12 } };
    const json = canonicalJson(withTables);
    expect(json).toContain('"tables":{"Other Schema.Mixed Case.Table":0,"public.drive_file":12,"public.note":3}');
    expect(parseManifestJson(enc(json)).tables).toEqual(withTables.tables);
  });

  it('refuses counts that are not whole non-negative numbers', () => {
    for (const bad of [{ 'public.note': -1 }, { 'public.note': 1.5 }, { 'public.note': '3' }, { '': 1 }])
      expect(() => parseManifestJson(enc(canonicalJson({ ...manifest, tables: bad })))).toThrow(/does not match/);
  });
});

describe('restore drill: comparing row counts', () => {
  const expected = { 'public.note': 4, 'public.user': 2, 'public.empty': 0 };

  it('passes when every table the manifest names has exactly its rows (extra tables are not compared)', () => {
    expect(compareRowCounts(expected, { ...expected, 'public.other': 9 })).toEqual([]);
    const v = judgeRestoreDrill(expected, { ...expected, 'public.other': 9 });
    expect(v.error).toBeUndefined();
    expect(v.record).toEqual({ tables: 4, rows: 15, compared: true, mismatches: [] });
  });

  it('flags a table with other rows, and a missing table, with BACKUP_ROW_COUNT_MISMATCH', () => {
    const actual = { 'public.note': 3, 'public.empty': 0 };
    expect(compareRowCounts(expected, actual)).toEqual([
      { table: 'public.note', expected: 4, actual: 3 },
      { table: 'public.user', expected: 2, actual: null },
    ]);
    const v = judgeRestoreDrill(expected, actual);
    expect(isAppError(v.error) && v.error.code).toBe('BACKUP_ROW_COUNT_MISMATCH');
    expect(v.error?.message).toMatch(
      /2 table\(s\).*public\.note: 4 in the manifest, 3 restored; public\.user: 2 in the manifest, missing restored/,
    );
    expect(v.record).toMatchObject({ compared: true, tables: 2, rows: 3 });
    expect(v.record.mismatches).toHaveLength(2);
    // An empty table the restore lost entirely is a mismatch too.
    expect(compareRowCounts({ 'public.empty': 0 }, {})).toEqual([{ table: 'public.empty', expected: 0, actual: null }]);
  });

  it('keeps at most 50 mismatches in the record', () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`public.t${String(i).padStart(2, '0')}`, 1]));
    const v = judgeRestoreDrill(many, {});
    expect(v.record.mismatches).toHaveLength(50);
    expect(v.error?.details?.count).toBe(80);
  });

  it('restores without comparing when the manifest names no counts (a backup made before they were recorded)', () => {
    const v = judgeRestoreDrill(undefined, { 'public.note': 4 });
    expect(v.error).toBeUndefined();
    expect(v.record).toEqual({ tables: 1, rows: 4, compared: false, mismatches: [] });
  });

  it('reads the counting query’s output strictly', () => {
    expect(parseRowCounts('{"public.note" : 4, "x.y" : 0}\n')).toEqual({ 'public.note': 4, 'x.y': 0 });
    expect(parseRowCounts('{}\n')).toEqual({});
    for (const bad of ['', 'ERROR', '[1]', '{"a": -1}', '{"a": "1"}', '{"a": 1.5}'])
      expect(() => parseRowCounts(bad)).toThrow(expect.objectContaining({ code: 'REMOTE_COMMAND_FAILED' }));
  });

  it('the throwaway container restores strictly into a fresh database and counts exactly', () => {
    expect(RESTORE_DRILL_SCRIPT).toMatch(/pg_restore --no-owner --no-privileges --exit-on-error -d drill/);
    expect(RESTORE_DRILL_SCRIPT).toMatch(/listen_addresses= /);
    expect(COUNT_ROWS_SQL).toMatch(/count\(\*\) AS c FROM ONLY %I\.%I/);
  });
});
