/**
 * The closed set of error codes that cross the process boundary. The renderer maps each code to
 * words in both languages and to a retry action (see src-renderer/i18n). Adding a code means adding
 * its words in ja and en; a unit test checks that.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNKNOWN_CHANNEL',
  'FORBIDDEN',
  'NOT_FOUND',
  'CANCELLED',
  'TIMEOUT',
  'INTERNAL',
  // secrets / vault
  'VAULT_LOCKED',
  'VAULT_WRONG_PASSPHRASE',
  'VAULT_UNAVAILABLE',
  // keys / crypto / backup format
  'KEY_WRONG_PASSPHRASE',
  'KEY_INVALID',
  'KEY_NOT_RECIPIENT',
  'KEY_IN_USE',
  'BACKUP_DAMAGED',
  'BACKUP_SIGNATURE_INVALID',
  'BACKUP_UNSIGNED',
  'BACKUP_REPLAYED',
  'BACKUP_INCOMPLETE',
  // nightly backup job
  'BACKUP_JOB_LOCKED',
  'BACKUP_JOB_NOT_INSTALLED',
  'BACKUP_JOB_FAILED',
  'BACKUP_DUMP_FAILED',
  // restore
  'RESTORE_IDENTITY_MISMATCH',
  'RESTORE_PG_TOO_OLD',
  'RESTORE_ROLLED_BACK',
  'RESTORE_IN_PROGRESS',
  // backups on the desktop (list, verify)
  'BACKUP_KEY_NOT_PINNED',
  'BACKUP_DUMP_UNREADABLE',
  'BACKUP_RESTORE_DRILL_FAILED',
  'BACKUP_ROW_COUNT_MISMATCH',
  // network / ssh
  'HOST_UNREACHABLE',
  'HOST_KEY_CHANGED',
  'HOST_KEY_REJECTED',
  'AUTH_FAILED',
  'CONNECTION_LOST',
  'REMOTE_COMMAND_FAILED',
  'DISK_FULL',
  // storage
  'STORAGE_AUTH_FAILED',
  'STORAGE_BUCKET_MISSING',
  'STORAGE_CLOCK_SKEW',
  'STORAGE_UNREACHABLE',
  'STORAGE_TLS',
  'STORAGE_REJECTED',
  // misskey
  'MISSKEY_UNREACHABLE',
  'MISSKEY_PERMISSION_DENIED',
  'MISSKEY_ALREADY_SET_UP',
  'MISSKEY_API_ERROR',
  'MISSKEY_AUTH_FAILED',
  'MISSKEY_NOT_CONNECTED',
  'MISSKEY_SETUP_PASSWORD_WRONG',
  'MISSKEY_CHANGED_ELSEWHERE',
  'MISSKEY_PROTECTED_USER',
  'MISSKEY_ALREADY_EXISTS',
  'MISSKEY_NATIVE_TOKEN_REQUIRED',
  'MISSKEY_VERSION_TOO_OLD',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Error data as it crosses IPC / the browser-mode socket. */
export interface AppErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Thrown inside main-process services; the IPC layer turns it into `{ ok: false, error }`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    if (details) this.details = details;
  }

  toData(): AppErrorData {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** A file-system error that means "no room left": the disk is full or the user's quota is used up. */
export function isDiskFullError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Abort-aware helper: throws CANCELLED when the signal is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
}
