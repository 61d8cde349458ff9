/**
 * Row types and the queries every endpoint shares (meta, users, tokens, moderation log). Queries
 * go straight to PostgreSQL on every call, with no cache, so a restored database is what the
 * double serves at once.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type pg from 'pg';
import type { entities } from 'misskey-js';
import type { DoubleConfig } from './config';
import { genId, secureRndstr, NATIVE_TOKEN_LENGTH } from './ids';
import { defaultSettings, DEFAULT_POLICIES, type ServerSettings } from './meta-defaults';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number) => Promise<Buffer>;

/** Settings that public `meta` shows but `admin/meta` does not. */
export interface ExtraSettings {
  langs: string[];
  serverRules: string[];
  logoImageUrl: string | null;
}
export type StoredSettings = ServerSettings & ExtraSettings;

/** Everything a handler needs: the pool, the config, and how the double presents itself. */
export interface Deps {
  readonly pool: pg.Pool;
  readonly cfg: DoubleConfig;
  readonly misskeyVersion: string;
}

/** A row of "user", plus its note count. */
export interface UserRow {
  id: string;
  createdAt: Date;
  username: string;
  usernameLower: string;
  host: string | null;
  name: string | null;
  description: string | null;
  token: string | null;
  password: string | null;
  isRoot: boolean;
  isAdmin: boolean;
  isModerator: boolean;
  isSuspended: boolean;
  isBot: boolean;
  isCat: boolean;
  isLocked: boolean;
  moderationNote: string;
  notesCount: number;
}

/** An app (non-native) token; native tokens are `user.token` and carry every permission. */
export interface AppToken {
  id: string;
  token: string;
  userId: string;
  permission: string[];
}

export interface MetaRow {
  rootUserId: string | null;
  settings: StoredSettings;
  policies: entities.RolePolicies;
}

const USER_SELECT = `SELECT u.*, (SELECT count(*) FROM "note" n WHERE n."userId" = u."id")::int AS "notesCount" FROM "user" u`;

/** The single meta row, with defaults filled in for keys a newer double added. */
export async function getMeta(db: pg.Pool | pg.PoolClient): Promise<MetaRow> {
  const r = await db.query<{ rootUserId: string | null; settings: Partial<StoredSettings>; policies: Partial<entities.RolePolicies> }>(
    `SELECT "rootUserId", "settings", "policies" FROM "meta" WHERE "id" = 'x'`,
  );
  const row = r.rows[0];
  const extras: ExtraSettings = { langs: [], serverRules: [], logoImageUrl: null };
  return {
    rootUserId: row?.rootUserId ?? null,
    settings: { ...defaultSettings(), ...extras, ...(row?.settings ?? {}) },
    policies: { ...DEFAULT_POLICIES, ...(row?.policies ?? {}) },
  };
}

export async function saveSettings(db: pg.Pool | pg.PoolClient, settings: StoredSettings): Promise<void> {
  await db.query(`UPDATE "meta" SET "settings" = $1 WHERE "id" = 'x'`, [JSON.stringify(settings)]);
}

export async function findUserById(db: pg.Pool, id: string): Promise<UserRow | null> {
  const r = await db.query<UserRow>(`${USER_SELECT} WHERE u."id" = $1`, [id]);
  return r.rows[0] ?? null;
}

/** Local users have host NULL; `host` must already be punycoded or null. */
export async function findUserByName(db: pg.Pool, username: string, host: string | null): Promise<UserRow | null> {
  const r = await db.query<UserRow>(`${USER_SELECT} WHERE u."usernameLower" = $1 AND u."host" IS NOT DISTINCT FROM $2`, [
    username.toLowerCase(),
    host,
  ]);
  return r.rows[0] ?? null;
}

/** AuthenticateService: 16-char tokens are native user tokens, others are app tokens. */
export async function authenticate(db: pg.Pool, token: string): Promise<{ user: UserRow; app: AppToken | null } | null> {
  if (token.length === NATIVE_TOKEN_LENGTH) {
    const r = await db.query<UserRow>(`${USER_SELECT} WHERE u."token" = $1 AND u."host" IS NULL`, [token]);
    return r.rows[0] ? { user: r.rows[0], app: null } : null;
  }
  const t = await db.query<AppToken>(`SELECT "id", "token", "userId", "permission" FROM "access_token" WHERE "token" = $1`, [token]);
  const app = t.rows[0];
  if (!app) return null;
  const user = await findUserById(db, app.userId);
  return user ? { user, app } : null;
}

/** Moderators include admins and the root user (RoleService.isModerator). */
export function isModerator(u: UserRow, rootUserId: string | null): boolean {
  return u.id === rootUserId || u.isAdmin || u.isModerator;
}

export function isAdministrator(u: UserRow, rootUserId: string | null): boolean {
  return u.id === rootUserId || u.isAdmin;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const got = await scrypt(password, Buffer.from(salt, 'base64'), 32);
  return timingSafeEqual(got, Buffer.from(hash, 'base64'));
}

/**
 * SignupService.signup for a local user: the first real user becomes root (meta.rootUserId) and
 * admin; a taken name throws Error('DUPLICATED_USERNAME') → INTERNAL_ERROR like Misskey.
 */
export async function createLocalUser(
  deps: Deps,
  username: string,
  password: string,
  opts: { createdAt?: Date; isBot?: boolean } = {},
): Promise<UserRow> {
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT 1 FROM "meta" WHERE "id" = 'x' FOR UPDATE`);
    const dup = await client.query(`SELECT 1 FROM "user" WHERE "usernameLower" = $1 AND "host" IS NULL`, [username.toLowerCase()]);
    if (dup.rowCount) throw new Error('DUPLICATED_USERNAME');
    const meta = await getMeta(client);
    const isRoot = meta.rootUserId === null;
    const createdAt = opts.createdAt ?? new Date();
    const id = genId(deps.cfg.id, createdAt.getTime());
    await client.query(
      `INSERT INTO "user" ("id", "createdAt", "username", "usernameLower", "host", "token", "password", "isRoot", "isAdmin", "isBot")
       VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $7, $8)`,
      [
        id,
        createdAt,
        username,
        username.toLowerCase(),
        secureRndstr(NATIVE_TOKEN_LENGTH),
        await hashPassword(password),
        isRoot,
        opts.isBot ?? false,
      ],
    );
    if (isRoot) await client.query(`UPDATE "meta" SET "rootUserId" = $1 WHERE "id" = 'x'`, [id]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
  const user = await findUserByName(deps.pool, username, null);
  if (!user) throw new Error('user vanished after insert');
  return user;
}

/** Creates an app token limited to `permission` (what MiAuth would hand out). */
export async function createAppToken(deps: Deps, userId: string, name: string, permission: readonly string[]): Promise<string> {
  const token = secureRndstr(32);
  await deps.pool.query(
    `INSERT INTO "access_token" ("id", "createdAt", "token", "userId", "name", "permission") VALUES ($1, now(), $2, $3, $4, $5)`,
    [genId(deps.cfg.id), token, userId, name, permission],
  );
  return token;
}

/** ModerationLogService.log. */
export async function moderationLog(deps: Deps, me: UserRow, type: string, info: Record<string, unknown>): Promise<void> {
  await deps.pool.query(`INSERT INTO "moderation_log" ("id", "createdAt", "userId", "type", "info") VALUES ($1, now(), $2, $3, $4)`, [
    genId(deps.cfg.id),
    me.id,
    type,
    JSON.stringify(info),
  ]);
}

/** md5 hex, as Misskey stores for drive files. */
export function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
