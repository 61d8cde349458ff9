/**
 * Reads Misskey's config file the way Misskey does: `/misskey/.config/default.yml`, or the file
 * named by MISSKEY_CONFIG_YML (a name relative to `.config/`, or an absolute path), plus the
 * 2024.7.0 env overrides (MISSKEY_URL, DATABASE_DB/USER/PASSWORD).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import type { IdMethod } from './ids';

/** The subset of Misskey's config the double uses. */
export interface DoubleConfig {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly db: { readonly host: string; readonly port: number; readonly db: string; readonly user: string; readonly pass: string };
  readonly redis: { readonly host: string; readonly port: number; readonly pass: string | undefined };
  readonly id: IdMethod;
  readonly setupPassword: string | undefined;
  readonly maxFileSize: number;
  readonly filesDir: string;
  readonly configPath: string;
}

/** Thrown for a missing or invalid config; the message is the log line. */
export class ConfigError extends Error {}

/** Where Misskey would look for its config, given the environment. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.MISSKEY_CONFIG_DIR ?? '/misskey/.config';
  const name = env.MISSKEY_CONFIG_YML;
  if (name === undefined || name === '') return join(dir, 'default.yml');
  return isAbsolute(name) ? name : join(dir, name);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Parses config YAML text; pure so it can be unit-tested. */
export function parseConfig(text: string, path: string, env: NodeJS.ProcessEnv = process.env): DoubleConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigError(`config ${path} is not valid YAML: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object') throw new ConfigError(`config ${path} is empty or not a mapping`);
  const c = raw as Record<string, unknown>;
  const db = (c.db ?? {}) as Record<string, unknown>;
  const redis = (c.redis ?? {}) as Record<string, unknown>;
  const url = env.MISSKEY_URL ?? str(c.url);
  if (url === undefined) throw new ConfigError(`config ${path}: "url" is missing`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`config ${path}: "url" is not a URL: ${url}`);
  }
  const dbName = env.DATABASE_DB ?? str(db.db);
  const dbUser = env.DATABASE_USER ?? str(db.user);
  const dbPass = env.DATABASE_PASSWORD ?? str(db.pass);
  const dbHost = str(db.host);
  if (!dbHost || !dbName || !dbUser) throw new ConfigError(`config ${path}: "db.host", "db.db" and "db.user" are required`);
  const redisHost = str(redis.host);
  if (!redisHost) throw new ConfigError(`config ${path}: "redis.host" is required`);
  const idRaw = str(c.id) ?? 'aidx';
  return {
    url: parsed.origin,
    host: parsed.host.toLowerCase(),
    port: Number(c.port ?? 3000),
    db: { host: dbHost, port: Number(db.port ?? 5432), db: dbName, user: dbUser, pass: dbPass ?? '' },
    redis: { host: redisHost, port: Number(redis.port ?? 6379), pass: str(redis.pass) },
    id: idRaw === 'aid' ? 'aid' : 'aidx',
    setupPassword: str(c.setupPassword),
    maxFileSize: Number(c.maxFileSize ?? 262144000),
    filesDir: env.DOUBLE_FILES_DIR ?? '/misskey/files',
    configPath: path,
  };
}

/** Loads the config from disk, or throws ConfigError with a line fit for the log. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): DoubleConfig {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, path, env);
}
