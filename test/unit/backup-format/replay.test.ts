import { describe, expect, it } from 'vitest';
import { backupFolder, backupIdFor, parseManifestKey, partName } from '../../../src-main/services/backup-format/format';
import type { BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { canonicalJson, parseManifestJson } from '../../../src-main/services/backup-format/manifest';
import { detectReplays, manifestKey, type ListedManifest } from '../../../src-main/services/backup-format/replay';

function m(sequence: number, finishedAt: string, serverId = 'srv1'): BackupManifest {
  const backupId = backupIdFor(new Date(finishedAt), sequence);
  return {
    format: 'ohitori-backup',
    formatVersion: 1,
    serverId,
    backupId,
    sequence,
    startedAt: finishedAt,
    finishedAt,
    versions: {},
    contents: ['db'],
    recipients: ['A'.repeat(40)],
    signingKey: 'B'.repeat(40),
    archive: 'tar',
    compression: 'zstd',
    encryption: 'openpgp-seipdv1',
    partSize: 1024,
    parts: [{ name: partName(0), size: 1, sha256: '0'.repeat(64), plainSize: 1 }],
  };
}
const at = (x: BackupManifest, prefix = 'backups'): ListedManifest => ({
  key: manifestKey(backupFolder(prefix, x.serverId, x.backupId)),
  manifest: x,
});

describe('replay detection', () => {
  const a = m(1, '2026-11-01T03:00:00.000Z');
  const b = m(2, '2026-11-02T03:00:00.000Z');
  const c = m(3, '2026-11-03T03:00:00.000Z');

  it('accepts a clean increasing history', () => {
    expect(detectReplays([at(c), at(a), at(b)], { serverId: 'srv1' })).toEqual([]);
  });

  it('flags an old manifest copied under a new name', () => {
    const copy = { key: manifestKey(backupFolder('backups', 'srv1', '20261104T030000Z-00000004')), manifest: a };
    expect(detectReplays([at(a), at(b), at(c), copy], { serverId: 'srv1' })).toEqual([{ key: copy.key, reasons: ['location-mismatch'] }]);
  });

  it('flags a manifest of another server', () => {
    const foreign = at(m(9, '2026-11-05T03:00:00.000Z', 'srv2'));
    expect(detectReplays([at(a), foreign], { serverId: 'srv1' })).toEqual([{ key: foreign.key, reasons: ['location-mismatch'] }]);
  });

  it('flags a sequence that goes backwards or repeats', () => {
    const back = m(2, '2026-11-04T03:00:00.000Z'); // finished after c but sequence 2
    const flags = detectReplays([at(a), at(b), at(c), at(back)], { serverId: 'srv1' });
    expect(flags).toEqual([{ key: at(back).key, reasons: ['sequence-not-increasing'] }]);
  });

  it('flags backups older than the highest sequence the desktop has seen', () => {
    expect(detectReplays([at(a), at(b)], { serverId: 'srv1', knownHighest: 2 })).toEqual([
      { key: at(a).key, reasons: ['older-than-known'] },
    ]);
  });
});

describe('format names', () => {
  it('backup ids sort by time and round-trip through object keys', () => {
    const id = backupIdFor(new Date('2026-11-26T12:55:07.123Z'), 42);
    expect(id).toBe('20261126T125507Z-00000042');
    expect(parseManifestKey(`p/q/srv1/${id}/manifest.json.pgp`)).toEqual({ prefix: 'p/q', serverId: 'srv1', backupId: id });
    expect(parseManifestKey(`srv1/${id}/part-00000.pgp`)).toBeUndefined();
    expect(partName(7)).toBe('part-00007.pgp');
  });

  it('the manifest parser accepts only the canonical form of a valid v1, v2 or v3 manifest', () => {
    const x = m(1, '2026-11-01T03:00:00.000Z');
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(parseManifestJson(enc(canonicalJson(x)))).toEqual(x);
    expect(() => parseManifestJson(enc(JSON.stringify(x, null, 1)))).toThrow(/canonical/);
    expect(() => parseManifestJson(enc(canonicalJson({ ...x, formatVersion: 4 })))).toThrow(/version 4/);
    // v2: each part carries its check (all three fields) and no ciphertext SHA-256; v1 the reverse
    const check = { plainSha256: 'a'.repeat(64), headSha256: 'b'.repeat(64), mdc: 'c'.repeat(40) };
    const v2 = { ...x, formatVersion: 2 as const, parts: x.parts.map(({ sha256: _s, ...p }) => ({ ...p, ...check })) };
    expect(parseManifestJson(enc(canonicalJson(v2)))).toEqual(v2);
    expect(() => parseManifestJson(enc(canonicalJson({ ...x, formatVersion: 2 })))).toThrow(/match the format/);
    expect(() => parseManifestJson(enc(canonicalJson({ ...v2, formatVersion: 1 })))).toThrow(/match the format/);
    expect(() => parseManifestJson(enc(canonicalJson({ ...v2, parts: [{ ...v2.parts[0], mdc: undefined }] })))).toThrow(/match the format/);
    expect(() => parseManifestJson(enc(canonicalJson({ ...v2, parts: [{ ...v2.parts[0], sha256: 'd'.repeat(64) }] })))).toThrow(
      /match the format/,
    );
    // v3: the v2 check plus one step digest per whole MiB before the part's end (none for one MiB or less)
    const step = (n: number) => 'e'.repeat(64 * n);
    const v3part = (plainSize: number, steps: number) => ({ ...v2.parts[0]!, plainSize, stepSha256: step(steps) });
    for (const [plainSize, steps] of [
      [1, 0],
      [1024 * 1024, 0],
      [1024 * 1024 + 1, 1],
      [5 * 1024 * 1024, 4],
      [5 * 1024 * 1024 + 7, 5],
    ] as const) {
      const v3 = { ...v2, formatVersion: 3 as const, parts: [v3part(plainSize, steps)] };
      expect(parseManifestJson(enc(canonicalJson(v3)))).toEqual(v3);
      for (const wrong of [steps + 1, steps - 1].filter((n) => n >= 0))
        expect(() => parseManifestJson(enc(canonicalJson({ ...v3, parts: [v3part(plainSize, wrong)] })))).toThrow(/match the format/);
      expect(() => parseManifestJson(enc(canonicalJson({ ...v3, formatVersion: 2 })))).toThrow(/match the format/);
    }
    expect(() => parseManifestJson(enc(canonicalJson({ ...v2, formatVersion: 3 })))).toThrow(/match the format/); // no steps listed
    expect(() =>
      parseManifestJson(
        enc(canonicalJson({ ...v2, formatVersion: 3, parts: [{ ...v3part(1024 * 1024 + 1, 1), stepSha256: 'E'.repeat(64) }] })),
      ),
    ).toThrow(/match the format/);
    expect(() => parseManifestJson(enc(canonicalJson({ ...x, extra: 1 })))).toThrow();
    expect(() => parseManifestJson(enc(canonicalJson({ ...x, parts: [{ ...x.parts[0], name: 'part-00001.pgp' }] })))).toThrow(/named/);
  });
});
