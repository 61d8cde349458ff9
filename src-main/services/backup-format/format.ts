/**
 * Names and numbers of the backup format (docs/backup-format.md). Changing anything here that a
 * reader depends on means a new FORMAT_VERSION.
 */
export const FORMAT_NAME = 'ohitori-backup';
/**
 * What this code writes. 2 added each part's `plainSha256`, `headSha256` and `mdc` (one-pass
 * reading); 3 added `stepSha256` (the SHA-256 of every whole {@link CHECK_STEP} prefix of a part's
 * plaintext), so that a reader releases a part's data step by step instead of only after the whole part.
 */
export const FORMAT_VERSION = 3;
/** What this code reads. */
export const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2, 3];
/**
 * Format 3: a part's plaintext is checked against the signed manifest at every multiple of this many
 * bytes (`stepSha256`): the SHA-256 of the part's first k × CHECK_STEP bytes, k = 1, 2, … while
 * that is shorter than the part (its whole plaintext is `plainSha256`).
 */
export const CHECK_STEP = 1024 * 1024;

/** Default plaintext bytes per part. Bounded so a part fits a private temp file and a worker's queue. */
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
/** Hard upper bound a reader accepts (reliability §2.2: parts of at most 64 MiB). */
export const MAX_PART_SIZE = 64 * 1024 * 1024;
/** Input is fed to openpgp.js in chunks of this size (performance §1: 64 KiB chunks cost 1.6×). */
export const CHUNK_SIZE = 1024 * 1024;

/** File name of the signed manifest inside a backup's folder; written last. */
export const MANIFEST_NAME = 'manifest.json.pgp';
/** File name of the archive's inner header entry (first tar entry). */
export const ARCHIVE_HEADER_NAME = 'ohitori-backup.json';

/** `part-00000.pgp` … five digits so that a shell glob sorts them in order. */
export function partName(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 99_999) throw new RangeError(`part index ${index}`);
  return `part-${String(index).padStart(5, '0')}.pgp`;
}

/** `20261126T125500Z-00000042`: sortable UTC time plus the server's sequence number. */
export function backupIdFor(date: Date, sequence: number): string {
  const iso = date.toISOString(); // 2026-11-26T12:55:00.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return `${stamp}-${String(sequence).padStart(8, '0')}`;
}

export const BACKUP_ID_PATTERN = /^\d{8}T\d{6}Z-\d{8}$/;
export const SERVER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `<prefix>/<serverId>/<backupId>/` — the folder holding one backup's parts and manifest. */
export function backupFolder(prefix: string, serverId: string, backupId: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return `${p ? p + '/' : ''}${serverId}/${backupId}/`;
}

/** Splits an object key `<prefix>/<serverId>/<backupId>/manifest.json.pgp` back into its parts. */
export function parseManifestKey(key: string): { prefix: string; serverId: string; backupId: string } | undefined {
  const segs = key.split('/');
  if (segs.length < 3 || segs[segs.length - 1] !== MANIFEST_NAME) return undefined;
  const backupId = segs[segs.length - 2] ?? '';
  const serverId = segs[segs.length - 3] ?? '';
  if (!BACKUP_ID_PATTERN.test(backupId) || !SERVER_ID_PATTERN.test(serverId)) return undefined;
  return { prefix: segs.slice(0, -3).join('/'), serverId, backupId };
}
