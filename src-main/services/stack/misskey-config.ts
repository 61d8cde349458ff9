import { Document, parse } from 'yaml';
import { AppError } from '../../shared/errors';
import { ID_METHODS, PgIdentSchema, SecretSchema, effectiveId, instanceUrl, type IdMethod, type StackModel } from './stack-model';

/** Port Misskey listens on inside its container (the compose file publishes it on 127.0.0.1). */
export const MISSKEY_PORT = 3000;

/** Misskey's `.config/default.yml` as data: only the keys a single-user Docker instance needs. */
export interface MisskeyConfig {
  readonly url: string;
  readonly port: number;
  readonly db: { readonly host: 'db'; readonly port: 5432; readonly db: string; readonly user: string; readonly pass: string };
  readonly redis: { readonly host: 'redis'; readonly port: 6379 };
  readonly fulltextSearch: { readonly provider: 'sqlLike' };
  readonly id: IdMethod;
  readonly setupPassword: string;
  readonly allowedPrivateNetworks?: readonly string[];
}

/**
 * The config object for `model`. Host names are the compose service names; `fulltextSearch` is
 * required since 2025.1.0; `allowedPrivateNetworks` appears only when the model asks for it.
 */
export function misskeyConfig(model: StackModel): MisskeyConfig {
  return {
    url: instanceUrl(model),
    port: MISSKEY_PORT,
    db: { host: 'db', port: 5432, db: model.db.name, user: model.db.user, pass: model.db.password },
    redis: { host: 'redis', port: 6379 },
    fulltextSearch: { provider: 'sqlLike' },
    id: effectiveId(model),
    setupPassword: model.setupPassword,
    ...(model.allowedPrivateNetworks ? { allowedPrivateNetworks: [...model.allowedPrivateNetworks] } : {}),
  };
}

/** `.config/default.yml` text, serialised by the yaml package (it quotes whatever needs quoting). */
export function renderMisskeyConfig(model: StackModel): string {
  const doc = new Document(misskeyConfig(model));
  doc.commentBefore = [
    ' Misskey configuration, written by Ohitori from its stack model.',
    ' Never change url or id after the first start: remote servers know this instance by them.',
    ' The previous version of this file is kept as default.yml.prev.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** One `KEY=value` line; values are checked again here because Compose v1 reads them literally and v2 interpolates. */
function envLine(key: string, value: string): string {
  if (!/^[A-Za-z0-9._~-]+$/.test(value)) throw new AppError('INVALID_ARGUMENT', `${key} has characters an env file cannot hold safely`);
  return `${key}=${value}\n`;
}

/** `.config/docker.env`: what the postgres image's entrypoint reads on the first start (and pg_isready's healthcheck). */
export function renderDockerEnv(model: StackModel): string {
  return (
    '# PostgreSQL credentials for the db container, written by Ohitori. Only read when ./db is first initialised.\n' +
    envLine('POSTGRES_PASSWORD', model.db.password) +
    envLine('POSTGRES_USER', model.db.user) +
    envLine('POSTGRES_DB', model.db.name)
  );
}

/** What an existing `default.yml` fixes for good: re-running setup must keep all of it. */
export interface ExistingConfig {
  /** As written; compare with `sameOrigin`. */
  readonly url: string;
  readonly id: string;
  readonly dbPassword: string;
  readonly dbUser: string;
  readonly dbName: string;
  readonly setupPassword?: string;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** Reads the identity and credentials out of an existing `default.yml`; throws INVALID_ARGUMENT when they are missing. */
export function parseExistingConfig(text: string): ExistingConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new AppError('INVALID_ARGUMENT', `The existing Misskey config is not valid YAML: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new AppError('INVALID_ARGUMENT', 'The existing Misskey config is empty');
  const c = raw as Record<string, unknown>;
  const db = (typeof c.db === 'object' && c.db !== null ? c.db : {}) as Record<string, unknown>;
  const url = str(c.url);
  const id = str(c.id);
  const dbPassword = str(db.pass);
  const dbUser = str(db.user);
  const dbName = str(db.db);
  const missing = Object.entries({ url, id, 'db.pass': dbPassword, 'db.user': dbUser, 'db.db': dbName })
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length > 0 || !url || !id || !dbPassword || !dbUser || !dbName)
    throw new AppError('INVALID_ARGUMENT', `The existing Misskey config lacks ${missing.join(', ')}`, { missing });
  const setupPassword = str(c.setupPassword);
  return { url, id, dbPassword, dbUser, dbName, ...(setupPassword ? { setupPassword } : {}) };
}

/** Misskey keeps only the origin of `url` (a trailing slash does not matter). */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/**
 * The model to write on a server that already has an instance: the existing url, id and database
 * name, user and password always win (the database was initialised with them; remote servers know
 * the instance by url and id). Asking for another domain or id is refused, never applied.
 */
export function mergeWithExisting(model: StackModel, existing: ExistingConfig): StackModel {
  if (!sameOrigin(instanceUrl(model), existing.url))
    throw new AppError(
      'INVALID_ARGUMENT',
      `This server already runs the instance ${existing.url}. Its url can never change after the first start (other servers know its users by it); set up the new domain as a new instance on another server or directory instead.`,
      { field: 'domain', existing: existing.url, requested: instanceUrl(model) },
    );
  if (!(ID_METHODS as readonly string[]).includes(existing.id))
    throw new AppError(
      'INVALID_ARGUMENT',
      `The existing config uses id "${existing.id}", which Ohitori does not know; it cannot rewrite it safely.`,
      {
        field: 'id',
        existing: existing.id,
      },
    );
  if (model.id !== undefined && model.id !== existing.id)
    throw new AppError(
      'INVALID_ARGUMENT',
      `This instance uses the id generator "${existing.id}". It can never change after the first start (existing ids would clash); "${model.id}" was not applied.`,
      { field: 'id', existing: existing.id, requested: model.id },
    );
  const unsafe = (['dbPassword', 'dbUser', 'dbName', 'setupPassword'] as const).filter((k) => {
    const v = existing[k];
    if (v === undefined) return false;
    return !(k === 'dbUser' || k === 'dbName' ? PgIdentSchema : SecretSchema).safeParse(v).success;
  });
  if (unsafe.length > 0)
    throw new AppError(
      'INVALID_ARGUMENT',
      `The existing config's ${unsafe.join(', ')} cannot be written back safely (characters that need quoting, or too short); change them by hand first.`,
      { fields: unsafe },
    );
  return {
    ...model,
    id: existing.id as IdMethod,
    db: { name: existing.dbName, user: existing.dbUser, password: existing.dbPassword },
    setupPassword: existing.setupPassword ?? model.setupPassword,
  };
}
