/**
 * Backups as the desktop lists them (the catalog) and the verify results it keeps. Plain data and
 * pure functions only: the renderer imports this file.
 */

/**
 * What the listing found out about one backup folder, from its manifest and the object listing:
 *  - `genuine`: the manifest is signed by a pinned server key, sits where it says, is in sequence,
 *    and every part it lists is in the bucket with the size it names;
 *  - `unsigned`: the manifest carries no signature at all;
 *  - `forged`: a signature that does not verify, or one by a key that is not pinned;
 *  - `damaged`: signed manifest bytes that do not parse (truncated, not canonical, unknown version);
 *  - `replayed`: a genuine manifest copied to another place or out of sequence (detectReplays);
 *  - `incomplete`: parts the manifest lists are missing or have another size, or (with
 *    `abandoned`) parts without any manifest, older than an hour: a run that never finished;
 *  - `in-progress`: parts without a manifest, younger than an hour (a run may still be writing).
 * Only `genuine` entries may be offered as "latest" or verified; the rest are shown, flagged.
 */
export const BACKUP_STATES = ['genuine', 'unsigned', 'forged', 'damaged', 'replayed', 'incomplete', 'in-progress'] as const;
export type BackupState = (typeof BACKUP_STATES)[number];

/** A parts folder without a manifest counts as abandoned after this long. */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** The last verify of one backup, stored on the desktop. */
export interface VerifyRecord {
  readonly at: string;
  readonly ok: boolean;
  /** Error code when it failed (BACKUP_* for a backup that is not whole and genuine). */
  readonly code?: string;
  /** How the database dump was read: pg_restore here, on the server, or no dump in the backup. */
  readonly dumpCheck?: 'local' | 'server' | 'none';
  /** The restore drill, when it ran: the dump restored into a throwaway database on the server. */
  readonly restoreDrill?: RestoreDrillRecord;
}

/** A table whose restored row count differs from the manifest's. */
export interface RowCountMismatchRecord {
  readonly table: string;
  /** Rows the signed manifest names (counted from the dump when the backup was made). */
  readonly expected: number;
  /** Rows in the restored database; null when the table is missing. */
  readonly actual: number | null;
}

/** What the restore drill found (part of a verify result). */
export interface RestoreDrillRecord {
  /** Tables in the restored database, and their rows in all. */
  readonly tables: number;
  readonly rows: number;
  /** False when the manifest names no row counts (a backup made before they were recorded): restored, not compared. */
  readonly compared: boolean;
  /** Tables whose rows differ (at most 50); empty when every table matched. */
  readonly mismatches: readonly RowCountMismatchRecord[];
}

export interface BackupEntry {
  /** The folder's backup id (`YYYYMMDDTHHMMSSZ-NNNNNNNN`), unique within a server's listing. */
  readonly backupId: string;
  /** Object key of the manifest, or of the folder when there is none. */
  readonly key: string;
  readonly state: BackupState;
  /** Why it is flagged: replay reasons, `missing:part-00003.pgp`, `size:part-00001.pgp`, error codes, `abandoned`. */
  readonly reasons: readonly string[];
  /** When it was taken: the manifest's `finishedAt`, or else the newest part's upload time. */
  readonly time: string;
  /** Ciphertext bytes: the sum of the manifest's parts, or of the listed parts without one. */
  readonly size: number;
  readonly partCount: number;
  readonly sequence?: number;
  readonly versions?: { readonly misskey?: string; readonly postgres?: string; readonly redis?: string };
  readonly verified?: VerifyRecord;
}

export interface BackupListing {
  readonly profileId: string;
  readonly serverId: string;
  /** Newest first. */
  readonly entries: readonly BackupEntry[];
  /** backupId of the newest genuine backup, if any (never a flagged one). */
  readonly latestGenuine?: string;
  /** Highest sequence the desktop has seen in a genuine manifest of this server. */
  readonly knownHighest?: number;
  readonly listedAt: string;
  /** Manifests fetched this time (the rest came from the desktop's cache). */
  readonly fetched: number;
}

/** The dashboard's line per server. */
export interface BackupSummary {
  readonly profileId: string;
  /** `unconfigured`: no storage settings or no pinned key yet; `error`: the listing failed. */
  readonly status: 'ok' | 'unconfigured' | 'error';
  readonly errorCode?: string;
  readonly latest?: BackupEntry;
  /** How many entries are flagged (not genuine and not in progress). */
  readonly flagged: number;
  readonly total: number;
  /** When the list this summary comes from was read from the bucket. */
  readonly listedAt?: string;
}

/** Weekly drill settings of one server profile. */
export interface DrillSettings {
  readonly enabled: boolean;
  /**
   * The drill also restores the backup's database into a throwaway container on the server and
   * compares every table's row count with the manifest's.
   */
  readonly restoreDrill: boolean;
  readonly lastRunAt?: string;
  readonly nextDueAt?: string;
}

export const DRILL_INTERVAL_MS = 7 * 24 * 60 * 60 * 1000;

/** True for states that are neither genuine nor a run still being written. */
export function isFlagged(state: BackupState): boolean {
  return state !== 'genuine' && state !== 'in-progress';
}

/**
 * The newest genuine backup: highest sequence among `genuine` entries, ties (which detectReplays
 * already flags) broken by time then id. Flagged or unfinished entries are never "latest".
 */
export function pickLatestGenuine<T extends Pick<BackupEntry, 'state' | 'sequence' | 'time' | 'backupId'>>(
  entries: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const e of entries) {
    if (e.state !== 'genuine' || e.sequence === undefined) continue;
    if (
      !best ||
      e.sequence > best.sequence! ||
      (e.sequence === best.sequence && (e.time > best.time || (e.time === best.time && e.backupId > best.backupId)))
    )
      best = e;
  }
  return best;
}

/** When the next drill is due: a week after the last run, or now when it never ran. */
export function drillDueAt(lastRunAt: string | undefined, now: Date): Date {
  return lastRunAt ? new Date(Date.parse(lastRunAt) + DRILL_INTERVAL_MS) : now;
}
