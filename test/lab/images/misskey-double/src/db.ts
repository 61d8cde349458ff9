/**
 * The double's state lives in the stack's PostgreSQL, in tables named like Misskey's, so that a
 * `pg_dump`/`pg_restore` of the real database carries the instance across for real. Migrations
 * run on every start and are idempotent, as Misskey's `migrateandstart` is.
 */
import pg from 'pg';
import type { DoubleConfig } from './config';
import { logger } from './log';

const log = logger('db');

/** Bumped when the schema below changes; recorded in the `migrations` table. */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS "migrations" ("id" serial PRIMARY KEY, "timestamp" bigint NOT NULL, "name" varchar NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS "meta" (
  "id" varchar(32) PRIMARY KEY DEFAULT 'x',
  "rootUserId" varchar(32),
  "settings" jsonb NOT NULL DEFAULT '{}',
  "policies" jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS "user" (
  "id" varchar(32) PRIMARY KEY,
  "createdAt" timestamptz NOT NULL,
  "username" varchar(128) NOT NULL,
  "usernameLower" varchar(128) NOT NULL,
  "host" varchar(512),
  "name" varchar(128),
  "description" text,
  "token" char(16) UNIQUE,
  "password" varchar(256),
  "isRoot" boolean NOT NULL DEFAULT false,
  "isAdmin" boolean NOT NULL DEFAULT false,
  "isModerator" boolean NOT NULL DEFAULT false,
  "isSuspended" boolean NOT NULL DEFAULT false,
  "isBot" boolean NOT NULL DEFAULT false,
  "isCat" boolean NOT NULL DEFAULT false,
  "isLocked" boolean NOT NULL DEFAULT false,
  "moderationNote" text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS "IDX_5deb01ae162d1d70b80d064c27" ON "user" ("usernameLower", "host");
CREATE TABLE IF NOT EXISTS "access_token" (
  "id" varchar(32) PRIMARY KEY,
  "createdAt" timestamptz NOT NULL,
  "token" varchar(128) NOT NULL UNIQUE,
  "userId" varchar(32) NOT NULL REFERENCES "user"("id") ON DELETE CASCADE,
  "name" varchar(128),
  "permission" varchar(64)[] NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS "drive_file" (
  "id" varchar(32) PRIMARY KEY,
  "createdAt" timestamptz NOT NULL,
  "userId" varchar(32) REFERENCES "user"("id") ON DELETE SET NULL,
  "name" varchar(256) NOT NULL,
  "type" varchar(128) NOT NULL,
  "size" integer NOT NULL,
  "md5" varchar(32) NOT NULL,
  "accessKey" varchar(256) NOT NULL UNIQUE,
  "comment" varchar(512),
  "isSensitive" boolean NOT NULL DEFAULT false,
  "isLink" boolean NOT NULL DEFAULT false,
  "properties" jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS "note" (
  "id" varchar(32) PRIMARY KEY,
  "createdAt" timestamptz NOT NULL,
  "userId" varchar(32) NOT NULL REFERENCES "user"("id") ON DELETE CASCADE,
  "text" text,
  "cw" varchar(512),
  "visibility" varchar(16) NOT NULL DEFAULT 'public',
  "localOnly" boolean NOT NULL DEFAULT false,
  "fileIds" varchar(32)[] NOT NULL DEFAULT '{}',
  "emojis" varchar(128)[] NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS "relay" (
  "id" varchar(32) PRIMARY KEY,
  "inbox" varchar(512) NOT NULL,
  "status" varchar(16) NOT NULL DEFAULT 'requesting'
);
CREATE UNIQUE INDEX IF NOT EXISTS "IDX_0d9a1738f2cf7f3b1c3334dfab" ON "relay" ("inbox");
CREATE TABLE IF NOT EXISTS "instance" (
  "id" varchar(32) PRIMARY KEY,
  "firstRetrievedAt" timestamptz NOT NULL,
  "host" varchar(512) NOT NULL UNIQUE,
  "usersCount" integer NOT NULL DEFAULT 0,
  "notesCount" integer NOT NULL DEFAULT 0,
  "isNotResponding" boolean NOT NULL DEFAULT false,
  "suspensionState" varchar(32) NOT NULL DEFAULT 'none',
  "softwareName" varchar(64),
  "softwareVersion" varchar(64),
  "moderationNote" varchar(16384) NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS "emoji" (
  "id" varchar(32) PRIMARY KEY,
  "updatedAt" timestamptz,
  "name" varchar(128) NOT NULL,
  "host" varchar(512),
  "category" varchar(128),
  "aliases" varchar(128)[] NOT NULL DEFAULT '{}',
  "originalUrl" varchar(512) NOT NULL,
  "publicUrl" varchar(512) NOT NULL DEFAULT '',
  "type" varchar(64),
  "license" varchar(1024),
  "isSensitive" boolean NOT NULL DEFAULT false,
  "localOnly" boolean NOT NULL DEFAULT false,
  "driveFileId" varchar(32)
);
CREATE UNIQUE INDEX IF NOT EXISTS "IDX_4f4d35e1256c84ae3d1f0eab10" ON "emoji" ("name", "host");
CREATE TABLE IF NOT EXISTS "moderation_log" (
  "id" varchar(32) PRIMARY KEY,
  "createdAt" timestamptz NOT NULL,
  "userId" varchar(32) NOT NULL,
  "type" varchar(128) NOT NULL,
  "info" jsonb NOT NULL
);
ALTER TABLE "access_token" ADD COLUMN IF NOT EXISTS "session" varchar(128);
ALTER TABLE "access_token" ADD COLUMN IF NOT EXISTS "fetched" boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS "system_webhook" (
  "id" varchar(32) PRIMARY KEY,
  "isActive" boolean NOT NULL DEFAULT true,
  "updatedAt" timestamptz NOT NULL,
  "latestSentAt" timestamptz,
  "latestStatus" integer,
  "name" varchar(255) NOT NULL,
  "on" varchar(128)[] NOT NULL DEFAULT '{}',
  "url" varchar(1024) NOT NULL,
  "secret" varchar(1024) NOT NULL DEFAULT ''
);
INSERT INTO "meta" ("id") VALUES ('x') ON CONFLICT DO NOTHING;
`;

/** Opens a pool for the configured database. */
export function createPool(cfg: DoubleConfig): pg.Pool {
  const pool = new pg.Pool({
    host: cfg.db.host,
    port: cfg.db.port,
    database: cfg.db.db,
    user: cfg.db.user,
    password: cfg.db.pass,
    max: 5,
    connectionTimeoutMillis: 3000,
  });
  pool.on('error', (e) => log.warn(`idle connection error: ${e.message}`));
  return pool;
}

/** Waits until SELECT 1 succeeds, like Misskey retrying its first DB connection. */
export async function waitForDb(pool: pg.Pool, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (e) {
      if (signal?.aborted) throw e;
      const delay = Math.min(250 * attempt, 2000);
      log.warn(`database not reachable yet (attempt ${attempt}): ${(e as Error).message}; retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Creates or completes the schema; safe to run at every start. */
export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(4242001)');
    await client.query(SCHEMA);
    await client.query('INSERT INTO "migrations" ("timestamp", "name") VALUES ($1, $2) ON CONFLICT ("name") DO NOTHING', [
      Date.now(),
      `MisskeyDoubleSchema${SCHEMA_VERSION}`,
    ]);
    await client.query('SELECT pg_advisory_unlock(4242001)');
  } finally {
    client.release();
  }
  log.succ(`schema ready (double schema v${SCHEMA_VERSION})`);
}
