/** Drive upload and custom emoji endpoints. */
import type { Endpoints } from 'misskey-js';
import type pg from 'pg';
import { ApiError, E } from './api-error';
import { importEmojiZip, insertEmoji } from './emoji-import';
import { addDriveFile, isValidFileName } from './drive-store';
import { defineEndpoint, type AnyEndpoint } from './endpoint-kit';
import { logger } from './log';
import { packDriveFile, packEmoji, type DriveFileRow, type EmojiRow } from './pack-misc';
import { moderationLog } from './state';

const log = logger('api');

const invalidFileName = { message: 'Invalid file name.', code: 'INVALID_FILE_NAME', id: 'f449b209-0c60-4e51-84d5-29486263bfd4' } as const;

type ListReq = Endpoints['admin/emoji/list']['req'];

async function listEmojis(ps: ListReq, pool: pg.Pool): Promise<EmojiRow[]> {
  const limit = ps.limit ?? 10;
  const q = ps.query ?? null;
  const r = await pool.query<EmojiRow>(
    `SELECT * FROM "emoji" WHERE "host" IS NULL AND ($1::text IS NULL OR "id" < $1) AND ($2::text IS NULL OR "id" > $2)
     AND ($3::text IS NULL OR "name" LIKE '%' || $3 || '%' OR "category" LIKE '%' || $3 || '%' OR $3 = ANY("aliases"))
     ORDER BY "id" DESC LIMIT $4`,
    [ps.untilId ?? null, ps.sinceId ?? null, q, limit],
  );
  return r.rows;
}

export const driveEndpoints: AnyEndpoint[] = [
  defineEndpoint(
    'drive/files/create',
    { requireCredential: true, requireFile: true, kind: 'write:drive' },
    {
      type: 'object',
      properties: {
        folderId: { type: 'string', nullable: true },
        name: { type: 'string', nullable: true },
        comment: { type: 'string', nullable: true, maxLength: 512 },
        isSensitive: { type: 'boolean' },
        force: { type: 'boolean' },
      },
    },
    async (ps, ctx) => {
      const me = ctx.me;
      if (!me) throw new ApiError(E.credentialRequired);
      const file = ps.file as unknown;
      if (!(file instanceof Blob)) throw new ApiError(E.invalidParam, { param: '#/properties/file', reason: 'file is required' });
      let name = ps.name ?? (file instanceof File ? file.name : null);
      if (name === 'blob' || name === '') name = null;
      if (name != null && !isValidFileName(name)) throw new ApiError(invalidFileName);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const row = await addDriveFile(ctx.deps, bytes, {
        userId: me.id,
        name: name ?? 'untitled',
        comment: ps.comment ?? null,
        isSensitive: ps.isSensitive ?? false,
      });
      log.info(`drive file stored: ${row.id} (${row.size} bytes, md5 ${row.md5})`);
      return packDriveFile(row, ctx.deps.cfg.url);
    },
  ),
  defineEndpoint(
    'admin/emoji/add',
    { requireCredential: true, requireRolePolicy: 'canManageCustomEmojis', kind: 'write:admin:emoji' },
    {
      type: 'object',
      required: ['name', 'fileId'],
      properties: {
        name: { type: 'string', pattern: '^[a-zA-Z0-9_]+$' },
        fileId: { type: 'string' },
        category: { type: 'string', nullable: true },
        aliases: { type: 'array', items: { type: 'string' } },
        license: { type: 'string', nullable: true },
        isSensitive: { type: 'boolean' },
        localOnly: { type: 'boolean' },
        roleIdsThatCanBeUsedThisEmojiAsReaction: { type: 'array', items: { type: 'string' } },
      },
    },
    async (ps, ctx) => {
      const { pool } = ctx.deps;
      const f = await pool.query<DriveFileRow>(`SELECT * FROM "drive_file" WHERE "id" = $1`, [ps.fileId]);
      const file = f.rows[0];
      if (!file) throw new ApiError(E.noSuchFile);
      const dup = await pool.query(`SELECT 1 FROM "emoji" WHERE "name" = $1 AND "host" IS NULL`, [ps.name]);
      if (dup.rowCount) throw new ApiError(E.duplicateEmojiName);
      const id = await insertEmoji(ctx.deps, file, ps);
      const row = (await pool.query<EmojiRow>(`SELECT * FROM "emoji" WHERE "id" = $1`, [id])).rows[0];
      if (!row) throw new Error('emoji vanished after insert');
      if (ctx.me) await moderationLog(ctx.deps, ctx.me, 'addCustomEmoji', { emojiId: id, emoji: packEmoji(row) });
      return packEmoji(row);
    },
  ),
  defineEndpoint(
    'admin/emoji/list',
    { requireCredential: true, requireRolePolicy: 'canManageCustomEmojis', kind: 'read:admin:emoji' },
    {
      type: 'object',
      properties: {
        query: { type: 'string', nullable: true },
        limit: { type: 'integer', minimum: 1, maximum: 100 },
        sinceId: { type: 'string' },
        untilId: { type: 'string' },
      },
    },
    async (ps, ctx) => (await listEmojis(ps, ctx.deps.pool)).map(packEmoji),
  ),
  defineEndpoint(
    'admin/emoji/import-zip',
    { secure: true, requireCredential: true, requireRolePolicy: 'canManageCustomEmojis' },
    {
      type: 'object',
      required: ['fileId'],
      properties: { fileId: { type: 'string' } },
    },
    async (ps, ctx) => {
      // Misskey only enqueues a job here and answers 204; the job reports failures in the log.
      setImmediate(() => void importEmojiZip(ctx.deps, ps.fileId));
      return undefined;
    },
  ),
];
