import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backupIdFor, partName } from '../../../src-main/services/backup-format/format';
import type { BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { classifyBackups, type ListedObject, type ManifestOutcome } from '../../../src-main/services/backups/backup-classify';
import { ABANDONED_AFTER_MS, BACKUP_STATES, isFlagged, pickLatestGenuine, type BackupEntry } from '../../../src-main/shared/backups';

const SERVER = 'srv1';
const FOLDER = `ohitori/${SERVER}/`;
const NOW = new Date('2026-11-26T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;

function manifest(sequence: number, finishedAt: Date, parts = 2, backupId = backupIdFor(finishedAt, sequence)): BackupManifest {
  return {
    format: 'ohitori-backup',
    formatVersion: 1,
    serverId: SERVER,
    backupId,
    sequence,
    startedAt: finishedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    versions: { misskey: '2025.4.0', postgres: '15.8' },
    contents: ['db'],
    recipients: ['A'.repeat(40)],
    signingKey: 'B'.repeat(40),
    archive: 'tar',
    compression: 'zstd',
    encryption: 'openpgp-seipdv1',
    partSize: 1024,
    parts: Array.from({ length: parts }, (_, i) => ({ name: partName(i), size: 100 + i, sha256: '0'.repeat(64), plainSize: 90 })),
  };
}

/** What a folder in the generated bucket is meant to be. */
const KINDS = ['ok', 'unsigned', 'forged', 'damaged', 'missing-part', 'wrong-size', 'copy', 'abandoned', 'in-progress'] as const;
type Kind = (typeof KINDS)[number];
const EXPECTED: Record<Kind, BackupEntry['state']> = {
  ok: 'genuine',
  unsigned: 'unsigned',
  forged: 'forged',
  damaged: 'damaged',
  'missing-part': 'incomplete',
  'wrong-size': 'incomplete',
  copy: 'replayed',
  abandoned: 'incomplete',
  'in-progress': 'in-progress',
};

/** Builds a bucket listing: folder i has sequence i+1, finished i days before NOW, made `kinds[i]`. */
function bucket(kinds: readonly Kind[]) {
  const objects: ListedObject[] = [];
  const manifests = new Map<string, ManifestOutcome>();
  const n = kinds.length;
  const okIds = kinds.flatMap((k, i) => (k === 'ok' ? [i] : []));
  kinds.forEach((kind, i) => {
    const finished = new Date(NOW.getTime() - (n - i) * DAY);
    const m = manifest(i + 1, finished);
    const dir = `${FOLDER}${m.backupId}/`;
    const lastModified = kind === 'in-progress' ? new Date(NOW.getTime() - 60_000) : finished;
    m.parts.forEach((p, j) => {
      if (kind === 'missing-part' && j === 1) return;
      const size = kind === 'wrong-size' && j === 0 ? p.size + 1 : p.size;
      objects.push({ key: dir + p.name, size, lastModified: lastModified.toISOString(), etag: `"${i}-${j}"` });
    });
    if (kind === 'abandoned' || kind === 'in-progress') return;
    const key = `${dir}manifest.json.pgp`;
    objects.push({ key, size: 500, lastModified: finished.toISOString(), etag: `"${i}-m"` });
    if (kind === 'unsigned') manifests.set(key, { ok: false, code: 'BACKUP_UNSIGNED' });
    else if (kind === 'forged') manifests.set(key, { ok: false, code: 'BACKUP_SIGNATURE_INVALID' });
    else if (kind === 'damaged') manifests.set(key, { ok: false, code: 'BACKUP_DAMAGED' });
    else if (kind === 'copy') {
      // A bucket writer copies an older genuine manifest (or one of another time) into this folder.
      const source = manifest(okIds.length ? okIds[0]! + 1 : 999, new Date(finished.getTime() - DAY));
      manifests.set(key, { ok: true, manifest: { ...source, parts: m.parts } });
    } else manifests.set(key, { ok: true, manifest: m });
  });
  return { objects, manifests };
}

const entryArb = fc.record({
  state: fc.constantFrom(...BACKUP_STATES),
  sequence: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
  time: fc.integer({ min: 0, max: 1000 }).map((d) => new Date(Date.UTC(2026, 0, 1) + d * 3600_000).toISOString()),
  backupId: fc.string({ minLength: 1, maxLength: 6 }),
});

describe('pickLatestGenuine', () => {
  it('picks a genuine entry with the highest sequence, never a flagged one, whatever the order', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 40 }), (entries) => {
        const latest = pickLatestGenuine(entries);
        const genuine = entries.filter((e) => e.state === 'genuine' && e.sequence !== undefined);
        if (genuine.length === 0) {
          expect(latest).toBeUndefined();
          return;
        }
        expect(latest?.state).toBe('genuine');
        expect(latest!.sequence).toBe(Math.max(...genuine.map((e) => e.sequence!)));
        expect(pickLatestGenuine([...entries].reverse())).toEqual(latest);
      }),
    );
  });

  it('never returns a flagged entry even when it has the highest sequence', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 20 }),
        fc.constantFrom(...BACKUP_STATES.filter((s) => s !== 'genuine')),
        (entries, bad) => {
          const top = { state: bad, sequence: 10_000, time: '2030-01-01T00:00:00.000Z', backupId: 'zzz' };
          expect(pickLatestGenuine([...entries, top])).not.toBe(top);
        },
      ),
    );
  });
});

describe('classifyBackups', () => {
  it('shows every folder once, flags each kind of tampering, and never offers a flagged one as latest', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...KINDS), { minLength: 1, maxLength: 25 }), (kinds) => {
        const { objects, manifests } = bucket(kinds);
        const c = classifyBackups({
          serverFolder: FOLDER,
          serverId: SERVER,
          objects,
          manifests,
          knownBefore: new Set(),
          verified: {},
          now: NOW,
        });
        expect(c.entries).toHaveLength(kinds.length); // nothing hidden
        const byId = new Map(c.entries.map((e) => [e.backupId, e]));
        kinds.forEach((kind, i) => {
          const id = backupIdFor(new Date(NOW.getTime() - (kinds.length - i) * DAY), i + 1);
          expect(byId.get(id)?.state, `${kind} at ${i}`).toBe(EXPECTED[kind]);
        });
        const okSeqs = kinds.flatMap((k, i) => (k === 'ok' ? [i + 1] : []));
        expect(c.latestGenuine?.sequence).toBe(okSeqs.length ? Math.max(...okSeqs) : undefined);
        if (c.latestGenuine) expect(isFlagged(c.latestGenuine.state)).toBe(false);
        // newest first
        for (let i = 1; i < c.entries.length; i++) expect(c.entries[i - 1]!.time >= c.entries[i]!.time).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('sums part sizes, keeps versions, and marks abandoned folders after an hour only', () => {
    const { objects, manifests } = bucket(['ok', 'abandoned', 'in-progress']);
    const c = classifyBackups({
      serverFolder: FOLDER,
      serverId: SERVER,
      objects,
      manifests,
      knownBefore: new Set(),
      verified: {},
      now: NOW,
    });
    const ok = c.entries.find((e) => e.state === 'genuine')!;
    expect(ok.size).toBe(201);
    expect(ok.versions).toEqual({ misskey: '2025.4.0', postgres: '15.8' });
    expect(c.entries.find((e) => e.reasons.includes('abandoned'))?.state).toBe('incomplete');
    const fresh = c.entries.find((e) => e.state === 'in-progress')!;
    expect(NOW.getTime() - Date.parse(fresh.time)).toBeLessThan(ABANDONED_AFTER_MS);
  });

  it('flags a backup newly appearing below the highest sequence seen, but not one an earlier listing already showed', () => {
    const { objects, manifests } = bucket(['ok', 'ok', 'ok']);
    const keys = [...manifests.keys()];
    const base = { serverFolder: FOLDER, serverId: SERVER, objects, manifests, verified: {}, now: NOW };
    const first = classifyBackups({ ...base, knownBefore: new Set() });
    expect(first.knownHighest).toBe(3);
    expect(first.entries.every((e) => e.state === 'genuine')).toBe(true);
    // Same listing later: the two older ones were seen genuine before, so they stay genuine.
    const again = classifyBackups({ ...base, knownHighest: 3, knownBefore: new Set(keys) });
    expect(again.entries.every((e) => e.state === 'genuine')).toBe(true);
    // Backup 1 never seen before (deleted newer ones, old one re-uploaded): older-than-known.
    const reupload = classifyBackups({ ...base, knownHighest: 3, knownBefore: new Set(keys.slice(1)) });
    const one = reupload.entries.find((e) => e.sequence === 1)!;
    expect(one.state).toBe('replayed');
    expect(one.reasons).toContain('older-than-known');
  });

  it('attaches stored verify results by backup id', () => {
    const { objects, manifests } = bucket(['ok']);
    const id = [...manifests.values()][0]!.ok ? ([...manifests.values()][0] as { manifest: BackupManifest }).manifest.backupId : '';
    const c = classifyBackups({
      serverFolder: FOLDER,
      serverId: SERVER,
      objects,
      manifests,
      knownBefore: new Set(),
      verified: { [id]: { at: NOW.toISOString(), ok: true, dumpCheck: 'local' } },
      now: NOW,
    });
    expect(c.entries[0]?.verified?.ok).toBe(true);
  });
});
