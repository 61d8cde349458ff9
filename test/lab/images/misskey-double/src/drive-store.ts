/**
 * Drive storage: bytes go to `<filesDir>/<accessKey>` (Misskey's internal storage keeps files
 * under /misskey/files named by a uuid), metadata to the drive_file table. A write that the
 * filesystem refuses (typically EACCES when ./files is not owned by UID 991) is logged the way
 * Misskey's drive logger reports it and surfaces as INTERNAL_ERROR.
 */
import { randomUUID } from 'node:crypto';
import { access, constants, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { genId } from './ids';
import { logger } from './log';
import type { DriveFileRow } from './pack-misc';
import { md5, type Deps } from './state';

const log = logger('drive');

/** Sniffs the MIME type from magic bytes (Misskey uses file-type; this covers what tests upload). */
export function detectMime(data: Uint8Array): string {
  const starts = (...sig: number[]) => sig.every((b, i) => data[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && data[8] === 0x57 && data[9] === 0x45 && data[10] === 0x42 && data[11] === 0x50) return 'image/webp';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'application/zip';
  return 'application/octet-stream';
}

/** DriveFileEntityService.validateFileName. */
export function isValidFileName(name: string): boolean {
  return name.trim().length > 0 && name.length <= 200 && !name.includes('\\') && !name.includes('/') && !name.includes('..');
}

/** Reads PNG width/height from the IHDR chunk when present, as Misskey's file info does. */
function imageProperties(data: Uint8Array, mime: string): Record<string, number> {
  if (mime !== 'image/png' || data.length < 24) return {};
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Stores bytes and inserts the drive_file row; `userId` null is a system file (emoji import). */
export async function addDriveFile(
  deps: Deps,
  data: Uint8Array,
  opts: { userId: string | null; name: string; comment?: string | null; isSensitive?: boolean; createdAt?: Date },
): Promise<DriveFileRow> {
  const accessKey = randomUUID();
  const path = join(deps.cfg.filesDir, accessKey);
  try {
    await mkdir(deps.cfg.filesDir, { recursive: true });
    await writeFile(path, data);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    log.error(
      `Failed to save file ${JSON.stringify(opts.name)} to ${path}: ${err.message}` +
        (err.code === 'EACCES'
          ? ` (uid ${process.getuid?.() ?? '?'} cannot write ${deps.cfg.filesDir}; Misskey's image runs as UID 991: chown -R 991:991 files)`
          : ''),
    );
    throw e;
  }
  const mime = detectMime(data);
  const row: DriveFileRow = {
    id: genId(deps.cfg.id, (opts.createdAt ?? new Date()).getTime()),
    createdAt: opts.createdAt ?? new Date(),
    userId: opts.userId,
    name: opts.name,
    type: mime,
    size: data.byteLength,
    md5: md5(data),
    accessKey,
    comment: opts.comment ?? null,
    isSensitive: opts.isSensitive ?? false,
    properties: imageProperties(data, mime),
  };
  await deps.pool.query(
    `INSERT INTO "drive_file" ("id", "createdAt", "userId", "name", "type", "size", "md5", "accessKey", "comment", "isSensitive", "properties")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      row.id,
      row.createdAt,
      row.userId,
      row.name,
      row.type,
      row.size,
      row.md5,
      row.accessKey,
      row.comment,
      row.isSensitive,
      JSON.stringify(row.properties),
    ],
  );
  return row;
}

/** Path of a stored file, for serving and for the emoji-zip import. */
export function drivePath(deps: Deps, accessKey: string): string {
  return join(deps.cfg.filesDir, accessKey);
}

/** Startup check: warn early if the files volume is not writable by this process. */
export async function checkFilesDirWritable(deps: Deps): Promise<boolean> {
  try {
    await mkdir(deps.cfg.filesDir, { recursive: true });
    await access(deps.cfg.filesDir, constants.W_OK);
    return true;
  } catch (e) {
    log.error(
      `EACCES-like problem: ${deps.cfg.filesDir} is not writable by uid ${process.getuid?.() ?? '?'} (${(e as Error).message}); uploads will fail. Misskey's image runs as UID 991: chown -R 991:991 files`,
    );
    return false;
  }
}
