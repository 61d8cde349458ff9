import { MANIFEST_NAME } from '../backup-format/format';
import type { BackupManifest } from '../backup-format/manifest';
import { detectReplays } from '../backup-format/replay';
import { ABANDONED_AFTER_MS, pickLatestGenuine, type BackupEntry, type BackupState, type VerifyRecord } from '../../shared/backups';
import type { ErrorCode } from '../../shared/errors';

/** One object as ListObjectsV2 reports it. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: string;
  readonly etag: string;
}

/** What checking one manifest object gave: the verified manifest, or the BACKUP_* code it failed with. */
export type ManifestOutcome = { readonly ok: true; readonly manifest: BackupManifest } | { readonly ok: false; readonly code: ErrorCode };

export interface ClassifyInput {
  /** `<prefix><serverId>/`: the folder every backup of this server lives under. */
  readonly serverFolder: string;
  readonly serverId: string;
  readonly objects: readonly ListedObject[];
  /** Outcome per manifest object key (every `…/manifest.json.pgp` in `objects` must have one). */
  readonly manifests: ReadonlyMap<string, ManifestOutcome>;
  /** Highest sequence seen before in a genuine manifest of this server. */
  readonly knownHighest?: number;
  /**
   * Manifest keys earlier listings already showed (and did not flag as older than known). The
   * knownHighest rule applies to the others only: an old backup that was always there is
   * history; one that newly appears below the highest sequence seen is a re-upload (reliability G3).
   */
  readonly knownBefore: ReadonlySet<string>;
  readonly verified: Readonly<Record<string, VerifyRecord>>;
  readonly now: Date;
}

export interface Classified {
  /** Newest first. */
  readonly entries: readonly BackupEntry[];
  readonly knownHighest?: number;
  readonly latestGenuine?: BackupEntry;
}

const SEVERITY: readonly BackupState[] = ['unsigned', 'forged', 'damaged', 'replayed', 'incomplete'];

function stateForCode(code: ErrorCode): BackupState {
  switch (code) {
    case 'BACKUP_UNSIGNED':
      return 'unsigned';
    case 'BACKUP_SIGNATURE_INVALID':
      return 'forged';
    case 'BACKUP_REPLAYED':
      return 'replayed';
    case 'BACKUP_INCOMPLETE':
      return 'incomplete';
    default:
      return 'damaged';
  }
}

/**
 * Turns a server folder's object listing and its checked manifests into catalog entries (pure, so
 * it is property-tested). Every folder becomes one entry: nothing is hidden. A folder is genuine
 * only when its manifest verified, detectReplays found nothing, and each listed part is present
 * with the manifest's size.
 */
export function classifyBackups(input: ClassifyInput): Classified {
  const folders = new Map<string, ListedObject[]>();
  for (const o of input.objects) {
    if (!o.key.startsWith(input.serverFolder)) continue;
    const rest = o.key.slice(input.serverFolder.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || rest.indexOf('/', slash + 1) !== -1) continue; // not `<backupId>/<name>`
    const id = rest.slice(0, slash);
    (folders.get(id) ?? folders.set(id, []).get(id)!).push(o);
  }

  const good = [...folders.entries()].flatMap(([id, objs]) => {
    const key = `${input.serverFolder}${id}/${MANIFEST_NAME}`;
    const out = objs.some((o) => o.key === key) ? input.manifests.get(key) : undefined;
    return out?.ok ? [{ key, manifest: out.manifest }] : [];
  });
  const replayReasons = new Map<string, string[]>();
  for (const f of detectReplays(good, {
    serverId: input.serverId,
    ...(input.knownHighest !== undefined ? { knownHighest: input.knownHighest } : {}),
  })) {
    const reasons = f.reasons.filter((r) => r !== 'older-than-known' || !input.knownBefore.has(f.key));
    if (reasons.length) replayReasons.set(f.key, [...reasons]);
  }

  const entries: BackupEntry[] = [];
  for (const [backupId, objs] of folders) {
    const byName = new Map(objs.map((o) => [o.key.slice(input.serverFolder.length + backupId.length + 1), o]));
    const manifestObj = byName.get(MANIFEST_NAME);
    const parts = objs.filter((o) => o !== manifestObj);
    const verified = input.verified[backupId];
    const newest = parts.reduce((t, o) => (o.lastModified > t ? o.lastModified : t), manifestObj?.lastModified ?? '');
    if (!manifestObj) {
      const abandoned = input.now.getTime() - Date.parse(newest) > ABANDONED_AFTER_MS;
      entries.push({
        backupId,
        key: `${input.serverFolder}${backupId}/`,
        state: abandoned ? 'incomplete' : 'in-progress',
        reasons: abandoned ? ['abandoned'] : [],
        time: newest,
        size: parts.reduce((n, o) => n + o.size, 0),
        partCount: parts.length,
        ...(verified ? { verified } : {}),
      });
      continue;
    }
    const outcome = input.manifests.get(manifestObj.key);
    if (!outcome) throw new Error(`no manifest outcome for ${manifestObj.key}`);
    if (!outcome.ok) {
      entries.push({
        backupId,
        key: manifestObj.key,
        state: stateForCode(outcome.code),
        reasons: [outcome.code],
        time: newest,
        size: parts.reduce((n, o) => n + o.size, 0),
        partCount: parts.length,
        ...(verified ? { verified } : {}),
      });
      continue;
    }
    const m = outcome.manifest;
    const reasons: string[] = [];
    const states: BackupState[] = [];
    const replay = replayReasons.get(manifestObj.key);
    if (replay) {
      reasons.push(...replay);
      states.push('replayed');
    }
    for (const p of m.parts) {
      const o = byName.get(p.name);
      if (!o) reasons.push(`missing:${p.name}`);
      else if (o.size !== p.size) reasons.push(`size:${p.name}`);
    }
    if (reasons.some((r) => r.startsWith('missing:') || r.startsWith('size:'))) states.push('incomplete');
    const state = SEVERITY.find((s) => states.includes(s)) ?? 'genuine';
    entries.push({
      backupId,
      key: manifestObj.key,
      state,
      reasons,
      time: m.finishedAt,
      size: m.parts.reduce((n, p) => n + p.size, 0),
      partCount: m.parts.length,
      sequence: m.sequence,
      versions: m.versions,
      ...(verified ? { verified } : {}),
    });
  }
  entries.sort((a, b) => b.time.localeCompare(a.time) || b.backupId.localeCompare(a.backupId));

  let knownHighest = input.knownHighest;
  for (const e of entries) if (e.state === 'genuine' && e.sequence !== undefined) knownHighest = Math.max(knownHighest ?? 0, e.sequence);
  const latestGenuine = pickLatestGenuine(entries);
  return { entries, ...(knownHighest !== undefined ? { knownHighest } : {}), ...(latestGenuine ? { latestGenuine } : {}) };
}
