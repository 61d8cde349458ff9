import { AppError } from '../../shared/errors';

/** `@user@host`, `user@host`, `@user` or `user`; host null for a local user (or our own domain). */
export interface Acct {
  readonly username: string;
  readonly host: string | null;
}

const USERNAME = /^[A-Za-z0-9_.-]{1,128}$/;
const HOST = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(:\d{1,5})?$/;

/** Parses what a user types; throws INVALID_ARGUMENT (field `acct`) when it is not an acct. */
export function parseAcct(input: string, localDomain?: string): Acct {
  const s = input.trim().replace(/^@/, '');
  const parts = s.split('@');
  if (parts.length > 2) throw new AppError('INVALID_ARGUMENT', 'Not an account address', { field: 'acct' });
  const [username = '', rawHost] = parts;
  if (!USERNAME.test(username)) throw new AppError('INVALID_ARGUMENT', 'Not an account address', { field: 'acct' });
  if (rawHost === undefined || rawHost === '') return { username, host: null };
  const host = rawHost.toLowerCase();
  if (!HOST.test(host)) throw new AppError('INVALID_ARGUMENT', 'Not an account address', { field: 'acct' });
  return { username, host: localDomain && host === localDomain.toLowerCase() ? null : host };
}

export function formatAcct(a: Acct): string {
  return a.host ? `@${a.username}@${a.host}` : `@${a.username}`;
}

/** Misskey's own system actors (#15525): suspending them breaks federation of the whole instance. */
export const SYSTEM_ACTORS: readonly string[] = ['instance.actor', 'relay.actor'];

export type ProtectedReason = 'system-actor' | 'administrator' | 'moderator';

/** What we know about a user before suspending it. */
export interface SuspendTarget {
  readonly username: string;
  readonly host: string | null;
  readonly isAdmin?: boolean;
  readonly isModerator?: boolean;
  readonly roles?: readonly { readonly isAdministrator?: boolean; readonly isModerator?: boolean }[];
}

/** Why this user must not be suspended, or null when it may be. Checked before any call. */
export function suspendRefusal(u: SuspendTarget): ProtectedReason | null {
  if (u.host === null && SYSTEM_ACTORS.includes(u.username.toLowerCase())) return 'system-actor';
  if (u.isAdmin || u.roles?.some((r) => r.isAdministrator)) return 'administrator';
  if (u.isModerator || u.roles?.some((r) => r.isModerator)) return 'moderator';
  return null;
}
