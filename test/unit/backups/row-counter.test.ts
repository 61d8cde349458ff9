import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countDumpRows, DumpRowCounter } from '../../../src-main/services/pgdump/row-counter';

/** Real pg_dump -Fc -Z0 output of PostgreSQL 15 and count(*) of every table (fixtures/make-row-dump.sh). */
const DUMP = readFileSync(join(import.meta.dirname, 'fixtures/rows-pg15.dump'));
const COUNTS = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/rows-pg15.counts.json'), 'utf8')) as Record<string, number>;

function feed(dump: Buffer, sizes: (i: number) => number) {
  const c = new DumpRowCounter();
  for (let pos = 0, i = 0; pos < dump.length; i++) {
    const n = Math.max(1, sizes(i));
    c.push(dump.subarray(pos, pos + n));
    pos += n;
  }
  return c.finish();
}

/**
 * Re-encodes the archive-1.14 fixture as a newer archive version, writing exactly the fields
 * pg_backup_archiver.c's WriteHead/WriteToc add: 1.15 stores the compression algorithm as one
 * byte instead of an int level, 1.16 adds each entry's relkind (an int) after its table AM.
 */
function asVersion(dump: Buffer, minor: 15 | 16): Buffer {
  let p = 0;
  const out: Buffer[] = [];
  const copy = (n: number) => {
    out.push(dump.subarray(p, p + n));
    p += n;
  };
  const int = () => {
    let v = 0;
    for (let i = 3; i >= 0; i--) v = v * 256 + dump[p + 1 + i]!;
    return dump[p] ? -v : v;
  };
  const copyStr = () => {
    const n = int();
    copy(5 + Math.max(0, n));
    return n;
  };
  expect(dump.subarray(0, 8)).toEqual(Buffer.from([0x50, 0x47, 0x44, 0x4d, 0x50, 1, 14, 0]));
  out.push(Buffer.from([0x50, 0x47, 0x44, 0x4d, 0x50, 1, minor, 0]));
  p = 8;
  expect([dump[8], dump[9], dump[10]]).toEqual([4, 8, 1]); // intSize, offSize, custom
  copy(3);
  expect(int()).toBe(0); // compression level 0 …
  p += 5;
  out.push(Buffer.from([0])); // … is algorithm "none"
  copy(7 * 5);
  for (let i = 0; i < 3; i++) copyStr();
  const count = int();
  copy(5);
  for (let e = 0; e < count; e++) {
    copy(10); // dumpId, hadDumper
    for (let s = 0; s < 4; s++) copyStr(); // tableoid, oid, tag, desc
    copy(5); // section
    for (let s = 0; s < 6; s++) copyStr(); // defn, dropStmt, copyStmt, namespace, tablespace, tableam
    if (minor === 16) out.push(Buffer.from([0, 0x72, 0, 0, 0])); // relkind 'r'
    copyStr(); // owner
    copyStr(); // with oids
    while (copyStr() !== -1) if (p >= dump.length) throw new Error('ran off the end'); // dependencies
    copy(1 + 8); // offset
  }
  out.push(dump.subarray(p));
  return Buffer.concat(out);
}

describe('row counts from a custom-format dump (real pg_dump 15 output)', () => {
  it('counts every table like count(*): non-ASCII rows, escaped newline/tab/CR, values like the end marker, no columns, empty, partitions, large', () => {
    const r = countDumpRows(DUMP);
    expect(r).toEqual({ ok: true, version: '1.14.0', tables: COUNTS });
    // What the fixture holds, so a regenerated fixture still tests the same things.
    expect(COUNTS).toMatchObject({
      'public.note': 4,
      'public.empty_table': 0,
      'public.big': 4000,
      'Other Schema.Mixed Case.Table': 2,
      'public.tricky': 4,
      'public.no_columns': 2,
    });
    // A partitioned parent, a materialized view and a sequence have no TABLE DATA; the large object is not a table.
    expect(Object.keys(COUNTS)).not.toContain('public.parted');
    expect(Object.keys(COUNTS).some((k) => k.includes('mv') || k.includes('seq'))).toBe(false);
  });

  it('gives the same counts however the stream is cut', () => {
    expect(feed(DUMP, () => 1)).toEqual(countDumpRows(DUMP));
    for (const size of [2, 3, 5, 7, 64, 4096, 65536, 1 << 20]) expect(feed(DUMP, () => size)).toEqual(countDumpRows(DUMP));
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % 300);
    expect(feed(DUMP, random)).toEqual(countDumpRows(DUMP));
  });

  it('reads the archive versions of PostgreSQL 16 (1.15) and 17 (1.16)', () => {
    expect(countDumpRows(asVersion(DUMP, 15))).toEqual({ ok: true, version: '1.15.0', tables: COUNTS });
    const v16 = asVersion(DUMP, 16);
    expect(countDumpRows(v16)).toEqual({ ok: true, version: '1.16.0', tables: COUNTS });
    expect(feed(v16, () => 13)).toEqual({ ok: true, version: '1.16.0', tables: COUNTS });
  });

  it('gives no counts, without throwing, for what it cannot follow', () => {
    const bad = (r: ReturnType<typeof countDumpRows>, re: RegExp) => {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(re);
    };
    bad(countDumpRows(DUMP.subarray(0, 200)), /header or TOC/);
    bad(countDumpRows(DUMP.subarray(0, DUMP.length - 3)), /inside a data block/);
    bad(countDumpRows(Buffer.from('-- PostgreSQL database dump\n')), /PGDMP/);
    const newer = Buffer.from(DUMP);
    newer[6] = 17;
    bad(countDumpRows(newer), /version 1\.17\.0/);
    const compressed = Buffer.from(DUMP);
    compressed[12] = 6; // compression level 6 (archive 1.14: an int after the format byte)
    bad(countDumpRows(compressed), /compressed/);
    const garbage = Buffer.concat([DUMP, Buffer.from([9, 0, 1, 0, 0, 0])]);
    bad(countDumpRows(garbage), /block type 9/);
    bad(new DumpRowCounter().finish(), /header or TOC \(0 bytes\)/);
  });
});
