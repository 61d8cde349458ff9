import { AppError } from '../../shared/errors';

/** The token permission each endpoint we call needs (Misskey endpoint `meta.kind`). */
export const ENDPOINT_PERMISSION: Readonly<Record<string, string>> = {
  i: 'read:account',
  'admin/meta': 'read:admin:meta',
  'admin/update-meta': 'write:admin:meta',
  'admin/roles/update-default-policies': 'write:admin:roles',
  'admin/relays/add': 'write:admin:relays',
  'admin/relays/list': 'read:admin:relays',
  'admin/relays/remove': 'write:admin:relays',
  'admin/federation/update-instance': 'write:admin:federation',
  'admin/show-user': 'read:admin:show-user',
  'admin/suspend-user': 'write:admin:suspend-user',
  'admin/unsuspend-user': 'write:admin:unsuspend-user',
  'admin/drive/clean-remote-files': 'write:admin:drive',
  'drive/files/create': 'write:drive',
  'admin/emoji/add': 'write:admin:emoji',
  'admin/emoji/list': 'read:admin:emoji',
};

/** A Misskey error as misskey-js rejects with it (`{[MK_API_ERROR]: true, ...body.error}`). */
export interface MisskeyApiErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly id?: unknown;
  readonly kind?: unknown;
  readonly info?: unknown;
}

/** The reason Misskey hides inside `500 INTERNAL_ERROR` (`info.e.message`), if any. */
export function internalReason(e: MisskeyApiErrorLike): string | undefined {
  const info = e.info as { e?: { message?: unknown } } | undefined;
  return typeof info?.e?.message === 'string' ? info.e.message : undefined;
}

/**
 * Maps a Misskey error envelope (misskey.md §10) to the app's closed set of codes. Messages are
 * for logs; the UI shows words for the code. Tokens never appear in either.
 */
export function mapApiError(e: MisskeyApiErrorLike, endpoint: string, status?: number): AppError {
  const code = typeof e.code === 'string' ? e.code : '';
  const base = { endpoint, misskeyCode: code, ...(status ? { status } : {}) };
  switch (code) {
    case 'CREDENTIAL_REQUIRED':
    case 'AUTHENTICATION_FAILED':
      return new AppError('MISSKEY_AUTH_FAILED', `Misskey refused the credential (${code})`, base);
    case 'ROLE_PERMISSION_DENIED':
      return new AppError('MISSKEY_PERMISSION_DENIED', 'The account is not an administrator or moderator', { ...base, reason: 'role' });
    case 'PERMISSION_DENIED': {
      const permission = ENDPOINT_PERMISSION[endpoint];
      return new AppError('MISSKEY_PERMISSION_DENIED', `The token lacks ${permission ?? 'a permission'}`, {
        ...base,
        reason: 'token',
        ...(permission ? { permission } : {}),
      });
    }
    case 'YOUR_ACCOUNT_SUSPENDED':
      return new AppError('MISSKEY_PERMISSION_DENIED', 'The account of this token is suspended', { ...base, reason: 'suspended' });
    case 'ACCESS_DENIED':
      return endpoint === 'admin/accounts/create'
        ? new AppError('MISSKEY_ALREADY_SET_UP', 'The instance already has an administrator', base)
        : new AppError('MISSKEY_NATIVE_TOKEN_REQUIRED', 'This endpoint takes only the account’s own token', base);
    case 'INCORRECT_INITIAL_PASSWORD':
      return new AppError('MISSKEY_SETUP_PASSWORD_WRONG', 'The setup password is wrong', base);
    case 'INVALID_PARAM': {
      const info = (e.info ?? {}) as { param?: unknown; reason?: unknown };
      return new AppError('INVALID_ARGUMENT', 'Misskey refused a parameter', {
        ...base,
        ...(typeof info.param === 'string' ? { param: info.param } : {}),
        ...(typeof info.reason === 'string' ? { reason: info.reason } : {}),
      });
    }
    case 'INVALID_URL':
      return new AppError('INVALID_ARGUMENT', 'Misskey refused the URL', { ...base, field: 'inbox' });
    case 'NO_SUCH_USER':
    case 'FAILED_TO_RESOLVE_REMOTE_USER':
      return new AppError('NOT_FOUND', 'No such user', { ...base, what: 'user' });
    case 'NO_SUCH_FILE':
      return new AppError('NOT_FOUND', 'No such file', { ...base, what: 'file' });
    case 'DUPLICATE_NAME':
      return new AppError('MISSKEY_ALREADY_EXISTS', 'The name is taken', { ...base, what: 'emoji' });
    case 'RATE_LIMIT_EXCEEDED':
      return new AppError('MISSKEY_API_ERROR', 'Rate limit exceeded', { ...base, reason: 'rate-limit' });
    case 'INTERNAL_ERROR': {
      const reason = internalReason(e) ?? '';
      const notFound = /^(instance|relay|user|file|emoji) not found$/i.exec(reason);
      if (notFound) return new AppError('NOT_FOUND', reason, { ...base, what: notFound[1]!.toLowerCase() });
      if (/cannot suspend (moderator|admin)/i.test(reason))
        return new AppError('MISSKEY_PROTECTED_USER', reason, { ...base, reason: 'moderator' });
      if (reason === 'DUPLICATED_USERNAME') return new AppError('MISSKEY_ALREADY_EXISTS', reason, { ...base, what: 'user' });
      if (/duplicate key value/i.test(reason)) return new AppError('MISSKEY_ALREADY_EXISTS', 'Already there', { ...base, what: 'row' });
      return new AppError('MISSKEY_API_ERROR', `Misskey failed internally: ${reason.slice(0, 200)}`, base);
    }
    default:
      return new AppError('MISSKEY_API_ERROR', `Misskey refused the request (${code || 'no code'})`, base);
  }
}

/** A non-Misskey HTTP answer (Fastify's own errors, a proxy's 502 page, an empty 405). */
export function mapHttpFailure(status: number, endpoint: string, body: string): AppError {
  const details = { endpoint, status };
  if (status === 502 || status === 503 || status === 504)
    return new AppError('MISSKEY_UNREACHABLE', `The instance is not answering behind its proxy (${status})`, details);
  if (status === 404 && /Route (POST|GET):/.test(body))
    return new AppError('MISSKEY_VERSION_TOO_OLD', `The instance has no endpoint ${endpoint}`, details);
  if (status === 413)
    return new AppError('INVALID_ARGUMENT', 'The instance refused the size of the upload', { ...details, reason: 'too-large' });
  if (status === 400 && /FST_ERR_CTP/.test(body))
    return new AppError('MISSKEY_API_ERROR', 'The instance could not read the request', details);
  return new AppError('MISSKEY_API_ERROR', `Unexpected answer ${status}`, details);
}

/** Node/undici network errors (`fetch failed` with a cause), TLS failures included. */
export function mapNetworkError(e: unknown, origin: string): AppError {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const code =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof (e as { code?: unknown })?.code === 'string'
        ? String((e as { code: string }).code)
        : '';
  const tls = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code);
  return new AppError('MISSKEY_UNREACHABLE', `Cannot reach ${origin}${code ? ` (${code})` : ''}`, {
    origin,
    ...(code ? { cause: code } : {}),
    ...(tls ? { reason: 'tls' } : {}),
  });
}
