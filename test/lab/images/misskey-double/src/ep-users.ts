/** Account endpoints: first admin, `i`, users/show, admin/show-user, suspend/unsuspend, notes/create. */
import type { entities } from 'misskey-js';
import { ApiError, E } from './api-error';
import { defineEndpoint, type AnyEndpoint, type CallContext } from './endpoint-kit';
import { remoteHostOrNull } from './hosts';
import { genId } from './ids';
import { versionFeatures } from './version-gates';
import { packDriveFile, packNote, type DriveFileRow, type NoteRow } from './pack-misc';
import { packAdminUser, packMe, packUserDetailed, type PackEnv } from './pack-user';
import { createLocalUser, findUserById, findUserByName, getMeta, isAdministrator, isModerator, moderationLog, type UserRow } from './state';

async function packEnv(ctx: CallContext): Promise<PackEnv> {
  const meta = await getMeta(ctx.deps.pool);
  return { url: ctx.deps.cfg.url, rootUserId: meta.rootUserId, policies: meta.policies };
}

async function userDetailed(ctx: CallContext, u: UserRow, env: PackEnv): Promise<entities.UserDetailed> {
  return ctx.me?.id === u.id ? packMe(u, env) : packUserDetailed(u, env, ctx.me !== null);
}

/** Misskey's localUsernameSchema and passwordSchema. */
const accountParams = {
  type: 'object',
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', pattern: '^\\w{1,20}$' },
    password: { type: 'string', minLength: 1 },
    setupPassword: { type: 'string', nullable: true },
  },
} as const;

const userIdParams = { type: 'object', required: ['userId'], properties: { userId: { type: 'string' } } } as const;

export const userEndpoints: AnyEndpoint[] = [
  defineEndpoint('admin/accounts/create', {}, accountParams, async (ps, ctx) => {
    const meta = await getMeta(ctx.deps.pool);
    // Before 2024.10.0 there was no setupPassword: whoever came first became root.
    const setup = versionFeatures(ctx.deps.misskeyVersion).setupPassword ? ctx.deps.cfg.setupPassword : undefined;
    const checkSent = versionFeatures(ctx.deps.misskeyVersion).setupPassword;
    if (meta.rootUserId === null && ctx.me === null && ctx.app === null) {
      if (setup !== undefined) {
        if (ps.setupPassword !== setup) throw new ApiError(E.incorrectInitialPassword);
      } else if (checkSent && ps.setupPassword != null && ps.setupPassword.trim() !== '') {
        throw new ApiError(E.incorrectInitialPassword);
      }
    } else if (ctx.app !== null || ctx.me === null || !isAdministrator(ctx.me, meta.rootUserId)) {
      throw new ApiError(E.accountsAccessDenied);
    }
    const user = await createLocalUser(ctx.deps, ps.username, ps.password);
    const env = await packEnv(ctx);
    return { ...packMe(user, env), token: user.token ?? '' };
  }),
  defineEndpoint('i', { requireCredential: true, kind: 'read:account' }, { type: 'object' }, async (_ps, ctx) => {
    if (!ctx.me) throw new ApiError(E.credentialRequired);
    return packMe(ctx.me, await packEnv(ctx));
  }),
  defineEndpoint(
    'users/show',
    {},
    {
      type: 'object',
      properties: { host: { type: 'string', nullable: true } },
      allOf: [
        {
          anyOf: [
            { type: 'object', required: ['userId'], properties: { userId: { type: 'string' } } },
            { type: 'object', required: ['userIds'], properties: { userIds: { type: 'array', items: { type: 'string' } } } },
            { type: 'object', required: ['username'], properties: { username: { type: 'string' } } },
          ],
        },
      ],
    },
    async (ps, ctx) => {
      const env = await packEnv(ctx);
      if ('userIds' in ps && Array.isArray(ps.userIds)) {
        const out: entities.UserDetailed[] = [];
        for (const id of ps.userIds) {
          const u = await findUserById(ctx.deps.pool, id);
          if (u) out.push(await userDetailed(ctx, u, env));
        }
        return out;
      }
      let user: UserRow | null;
      if ('userId' in ps && typeof ps.userId === 'string') {
        user = await findUserById(ctx.deps.pool, ps.userId);
      } else {
        const host = remoteHostOrNull(ps.host, ctx.deps.cfg.host);
        user = await findUserByName(ctx.deps.pool, (ps as { username: string }).username, host);
        // A remote user we never saw would be fetched over ActivityPub; the double never federates.
        if (user === null && host !== null) throw new ApiError(E.failedToResolveRemoteUser);
      }
      if (user === null) throw new ApiError(E.noSuchUser);
      return userDetailed(ctx, user, env);
    },
  ),
  defineEndpoint(
    'admin/show-user',
    { requireCredential: true, requireModerator: true, kind: 'read:admin:show-user' },
    userIdParams,
    async (ps, ctx) => {
      const user = await findUserById(ctx.deps.pool, ps.userId);
      if (user === null) throw new Error('user not found');
      return packAdminUser(user, await packEnv(ctx));
    },
  ),
  defineEndpoint(
    'admin/suspend-user',
    { requireCredential: true, requireModerator: true, kind: 'write:admin:suspend-user' },
    userIdParams,
    async (ps, ctx) => {
      const user = await findUserById(ctx.deps.pool, ps.userId);
      if (user === null) throw new Error('user not found');
      const meta = await getMeta(ctx.deps.pool);
      if (isModerator(user, meta.rootUserId)) throw new Error('cannot suspend moderator account');
      await ctx.deps.pool.query(`UPDATE "user" SET "isSuspended" = true WHERE "id" = $1`, [user.id]);
      if (ctx.me) await moderationLog(ctx.deps, ctx.me, 'suspend', { userId: user.id, userUsername: user.username, userHost: user.host });
      return undefined;
    },
  ),
  defineEndpoint(
    'admin/unsuspend-user',
    { requireCredential: true, requireModerator: true, kind: 'write:admin:unsuspend-user' },
    userIdParams,
    async (ps, ctx) => {
      const user = await findUserById(ctx.deps.pool, ps.userId);
      if (user === null) throw new Error('user not found');
      await ctx.deps.pool.query(`UPDATE "user" SET "isSuspended" = false WHERE "id" = $1`, [user.id]);
      if (ctx.me) await moderationLog(ctx.deps, ctx.me, 'unsuspend', { userId: user.id, userUsername: user.username, userHost: user.host });
      return undefined;
    },
  ),
  defineEndpoint(
    'notes/create',
    { requireCredential: true, kind: 'write:notes' },
    {
      type: 'object',
      properties: {
        visibility: { type: 'string', enum: ['public', 'home', 'followers', 'specified'] },
        cw: { type: 'string', nullable: true, maxLength: 100 },
        localOnly: { type: 'boolean' },
        text: { type: 'string', nullable: true, minLength: 1, maxLength: 3000 },
        fileIds: { type: 'array', items: { type: 'string' } },
      },
      allOf: [
        {
          anyOf: [
            { type: 'object', required: ['text'] },
            { type: 'object', required: ['fileIds'] },
          ],
        },
      ],
    },
    async (ps, ctx) => {
      const me = ctx.me;
      if (!me) throw new ApiError(E.credentialRequired);
      const fileIds = ps.fileIds ?? [];
      const files =
        fileIds.length === 0
          ? []
          : (await ctx.deps.pool.query<DriveFileRow>(`SELECT * FROM "drive_file" WHERE "id" = ANY($1) AND "userId" = $2`, [fileIds, me.id]))
              .rows;
      const now = new Date();
      const row: NoteRow = {
        id: genId(ctx.deps.cfg.id, now.getTime()),
        createdAt: now,
        userId: me.id,
        text: ps.text ?? null,
        cw: ps.cw ?? null,
        visibility: ps.visibility ?? 'public',
        localOnly: ps.localOnly ?? false,
        fileIds: files.map((f) => f.id),
      };
      await ctx.deps.pool.query(
        `INSERT INTO "note" ("id", "createdAt", "userId", "text", "cw", "visibility", "localOnly", "fileIds") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [row.id, row.createdAt, row.userId, row.text, row.cw, row.visibility, row.localOnly, row.fileIds],
      );
      const env = await packEnv(ctx);
      return {
        createdNote: packNote(
          row,
          { ...me, notesCount: me.notesCount + 1 },
          files.map((f) => packDriveFile(f, ctx.deps.cfg.url)),
          env,
        ),
      };
    },
  ),
];
