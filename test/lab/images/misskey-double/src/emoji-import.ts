/**
 * The `importCustomEmojis` job (ImportCustomEmojisProcessorService): unzip Misskey's own emoji
 * export format (`meta.json` + image files), replace same-name local emoji, add the rest. Runs
 * after the endpoint has answered 204, like the real queue job.
 */
import { readFile } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import { addDriveFile, drivePath } from './drive-store';
import { genId } from './ids';
import { logger } from './log';
import { packDriveFile, type DriveFileRow } from './pack-misc';
import type { Deps } from './state';

const log = logger('queue:db:importCustomEmojis');

/** One entry of meta.json in Misskey's emoji export. */
export interface EmojiZipRecord {
  downloaded: boolean;
  fileName: string;
  emoji: {
    name: string;
    category?: string | null;
    aliases?: string[];
    license?: string | null;
    isSensitive?: boolean;
    localOnly?: boolean;
  };
}

/** Parses meta.json, tolerating Misskey's historical shapes (`{emojis:[…]}` or a bare array). */
export function parseEmojiMeta(text: string): EmojiZipRecord[] {
  const raw: unknown = JSON.parse(text);
  const list = Array.isArray(raw) ? raw : (raw as { emojis?: unknown }).emojis;
  if (!Array.isArray(list)) throw new Error('meta.json has no emojis array');
  return list as EmojiZipRecord[];
}

/** Inserts one local emoji backed by a drive file; used by emoji/add, the import and the seed. */
export async function insertEmoji(deps: Deps, file: DriveFileRow, e: EmojiZipRecord['emoji']): Promise<string> {
  const id = genId(deps.cfg.id);
  const url = packDriveFile(file, deps.cfg.url).url;
  await deps.pool.query(
    `INSERT INTO "emoji" ("id", "updatedAt", "name", "host", "category", "aliases", "originalUrl", "publicUrl", "type", "license", "isSensitive", "localOnly", "driveFileId")
     VALUES ($1, now(), $2, NULL, $3, $4, $5, $5, $6, $7, $8, $9, $10)`,
    [
      id,
      e.name,
      e.category ?? null,
      (e.aliases ?? []).filter((a) => a !== ''),
      url,
      file.type,
      e.license ?? null,
      e.isSensitive ?? false,
      e.localOnly ?? false,
      file.id,
    ],
  );
  return id;
}

/** Runs the import for a drive file id; logs and swallows errors like a failed job. */
export async function importEmojiZip(deps: Deps, fileId: string): Promise<number> {
  log.info(`Importing custom emojis from drive file ${fileId} ...`);
  try {
    const r = await deps.pool.query<DriveFileRow>(`SELECT * FROM "drive_file" WHERE "id" = $1`, [fileId]);
    const file = r.rows[0];
    if (!file) {
      log.warn('file not found');
      return 0;
    }
    const entries = unzipSync(new Uint8Array(await readFile(drivePath(deps, file.accessKey))));
    const metaBytes = entries['meta.json'];
    if (!metaBytes) throw new Error('meta.json not found in zip');
    let count = 0;
    for (const record of parseEmojiMeta(new TextDecoder().decode(metaBytes))) {
      if (!record.downloaded) continue;
      if (!/^[a-zA-Z0-9_]+?$/.test(record.emoji.name)) {
        log.error(`invalid emoji name: ${record.emoji.name}`);
        continue;
      }
      const bytes = entries[record.fileName];
      if (!bytes) {
        log.error(`file ${record.fileName} listed in meta.json is missing`);
        continue;
      }
      await deps.pool.query(`DELETE FROM "emoji" WHERE "name" = $1 AND "host" IS NULL`, [record.emoji.name]);
      const drive = await addDriveFile(deps, bytes, { userId: null, name: record.fileName });
      await insertEmoji(deps, drive, record.emoji);
      count++;
    }
    log.succ(`Imported ${count} custom emojis`);
    return count;
  } catch (e) {
    log.error(`import failed: ${(e as Error).message}`);
    return 0;
  }
}
