import { MANIFEST_NAME, parseManifestKey } from './format';
import type { BackupManifest } from './manifest';

/** A manifest that verified against the pinned key, with the object key it was found under. */
export interface ListedManifest {
  readonly key: string;
  readonly manifest: BackupManifest;
}

export type ReplayReason =
  /** Found under another server's or backup's folder than the one it records (copied). */
  | 'location-mismatch'
  /** Sequence not greater than that of a backup that finished earlier (or the same number twice). */
  | 'sequence-not-increasing'
  /** Sequence not greater than the highest the desktop has already seen for this server. */
  | 'older-than-known';

export interface ReplayFlag {
  readonly key: string;
  readonly reasons: readonly ReplayReason[];
}

/**
 * Flags replayed or stale manifests (reliability G3). A bucket writer without the signing key can
 * only copy genuine manifests around; a copy keeps its signed serverId/backupId/sequence, so it is
 * either in the wrong place or out of sequence. Entries are ordered by their signed finish time;
 * `knownHighest` is the highest sequence the desktop verified before (pinned per server), so that
 * deleting newer backups and re-uploading old ones is noticed too. Flagged entries must be excluded
 * from "latest" and from retention's notion of a safe backup.
 */
export function detectReplays(entries: readonly ListedManifest[], opts: { serverId: string; knownHighest?: number }): ReplayFlag[] {
  const flags = new Map<string, Set<ReplayReason>>();
  const flag = (key: string, r: ReplayReason) => (flags.get(key) ?? flags.set(key, new Set()).get(key)!).add(r);

  for (const e of entries) {
    const loc = parseManifestKey(e.key);
    if (!loc || loc.serverId !== e.manifest.serverId || loc.backupId !== e.manifest.backupId || e.manifest.serverId !== opts.serverId) {
      flag(e.key, 'location-mismatch');
    }
    if (opts.knownHighest !== undefined && e.manifest.sequence < opts.knownHighest) flag(e.key, 'older-than-known');
  }

  const ordered = [...entries].sort(
    (a, b) =>
      a.manifest.finishedAt.localeCompare(b.manifest.finishedAt) || a.manifest.sequence - b.manifest.sequence || a.key.localeCompare(b.key),
  );
  let highest = -Infinity;
  const seen = new Set<number>();
  for (const e of ordered) {
    if (flags.get(e.key)?.has('location-mismatch')) continue; // a copy says nothing about order
    const seq = e.manifest.sequence;
    if (seq <= highest || seen.has(seq)) flag(e.key, 'sequence-not-increasing');
    else highest = seq;
    seen.add(seq);
  }
  return entries.filter((e) => flags.has(e.key)).map((e) => ({ key: e.key, reasons: [...flags.get(e.key)!] }));
}

/** The object key of a backup's manifest, `<prefix>/<serverId>/<backupId>/manifest.json.pgp`. */
export function manifestKey(folder: string): string {
  return `${folder}${MANIFEST_NAME}`;
}
