import { BACKUP_ID_PATTERN, MANIFEST_NAME } from '../services/backup-format/format';

/** One backup folder `<prefix><serverId>/<backupId>/` as a listing shows it. */
export interface ListedFolder {
  readonly backupId: string;
  /** Every object key in the folder. */
  readonly keys: readonly string[];
  /** The manifest exists (the backup is complete in the writer's eyes). */
  readonly hasManifest: boolean;
  /** The manifest verified against this server's signing key; `undefined` when it was not checked. */
  readonly genuine?: boolean;
}

export interface RetentionPlan {
  /** Genuine backups kept, newest first. */
  readonly keep: readonly string[];
  /** Folders whose every object is deleted. */
  readonly delete: readonly string[];
  /** Manifests that are not genuine: never counted, never deleted here (the desktop flags them). */
  readonly flagged: readonly string[];
}

/**
 * Pure retention planner (reliability G17): keep the newest `keep` GENUINE backups; delete older
 * genuine backups and folders without a manifest that are older than the run that just finished
 * (abandoned parts of killed runs). Never deletes the newest genuine backup or `current`, never
 * touches a manifest that did not verify, refuses a policy that keeps nothing.
 */
export function planRetention(folders: readonly ListedFolder[], opts: { keep: number; current: string }): RetentionPlan {
  if (!Number.isInteger(opts.keep) || opts.keep < 1) throw new RangeError('retention must keep at least one backup');
  const valid = folders.filter((f) => BACKUP_ID_PATTERN.test(f.backupId));
  const genuine = valid.filter((f) => f.hasManifest && f.genuine === true).sort((a, b) => b.backupId.localeCompare(a.backupId));
  const keep = genuine.slice(0, opts.keep).map((f) => f.backupId);
  if (!keep.includes(opts.current) && genuine.some((f) => f.backupId === opts.current)) keep.push(opts.current);
  const del: string[] = [];
  for (const f of genuine.slice(opts.keep)) if (f.backupId !== opts.current) del.push(f.backupId);
  for (const f of valid) if (!f.hasManifest && f.backupId < opts.current) del.push(f.backupId);
  const flagged = valid.filter((f) => f.hasManifest && f.genuine !== true).map((f) => f.backupId);
  return { keep, delete: del.sort(), flagged: flagged.sort() };
}

/** Groups listed object keys below `<base>` (= `<prefix><serverId>/`) into backup folders. */
export function foldersFromKeys(base: string, keys: readonly string[]): ListedFolder[] {
  const byId = new Map<string, string[]>();
  for (const k of keys) {
    if (!k.startsWith(base)) continue;
    const rest = k.slice(base.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue;
    const id = rest.slice(0, slash);
    (byId.get(id) ?? byId.set(id, []).get(id)!).push(k);
  }
  return [...byId].map(([backupId, ks]) => ({ backupId, keys: ks, hasManifest: ks.includes(`${base}${backupId}/${MANIFEST_NAME}`) }));
}
