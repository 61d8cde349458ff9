import { AppError, isAppError } from '../../shared/errors';

/** More than this between the storage's `Date` and this computer's clock is refused (S3 itself allows 15 min). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Storage `Date` header minus the local clock, in ms; undefined when the header is missing or unreadable. */
export function clockSkewMs(dateHeader: string | undefined, now: number = Date.now()): number | undefined {
  if (!dateHeader) return undefined;
  const t = Date.parse(dateHeader);
  return Number.isNaN(t) ? undefined : t - now;
}

/** Throws STORAGE_CLOCK_SKEW when |skew| exceeds MAX_CLOCK_SKEW_MS. */
export function assertClockSkew(skewMs: number | undefined): void {
  if (skewMs !== undefined && Math.abs(skewMs) > MAX_CLOCK_SKEW_MS) {
    throw new AppError('STORAGE_CLOCK_SKEW', `This computer's clock is ${Math.round(skewMs / 1000)} s away from the storage's`, {
      skewSeconds: Math.round(skewMs / 1000),
    });
  }
}

const AUTH_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'Forbidden',
  'InvalidToken',
  'ExpiredToken',
  'AuthorizationHeaderMalformed',
  'Unauthorized',
]);
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const NET_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'AbortError']);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Walks `cause` links (Node wraps socket errors) and returns every error in the chain. */
function chain(e: unknown): ErrorShape[] {
  const out: ErrorShape[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    out.push(cur as ErrorShape);
    cur = (cur as ErrorShape).cause;
  }
  return out;
}

/** Which operation failed; HeadBucket's 404 has no body, so it only says `NotFound`. */
export type StorageOp = 'head-bucket' | 'list' | 'put' | 'get' | 'delete';

/**
 * Maps an @aws-sdk/client-s3 error (by `name` and `$metadata.httpStatusCode`) or a Node socket/TLS
 * error (by `code`, also on `cause`) to a contract code. Never passes the SDK's message through as
 * the user's words; `details` carries the name and status for the log and the UI's fine print.
 */
export function mapStorageError(e: unknown, op?: StorageOp): AppError {
  if (isAppError(e)) return e;
  const all = chain(e);
  const top = all[0] ?? {};
  const name = typeof top.name === 'string' ? top.name : 'Error';
  const status = top.$metadata?.httpStatusCode;
  const details: Record<string, unknown> = { name, ...(status ? { status } : {}), ...(op ? { op } : {}) };
  const codes = all.map((x) => (typeof x.code === 'string' ? x.code : '')).filter(Boolean);
  const names = all.map((x) => (typeof x.name === 'string' ? x.name : ''));
  if (codes.length) details.errno = codes[0];

  if (name === 'RequestTimeTooSkewed') return new AppError('STORAGE_CLOCK_SKEW', 'The storage says the clocks differ too much', details);
  if (name === 'NoSuchBucket' || (op === 'head-bucket' && status === 404))
    return new AppError('STORAGE_BUCKET_MISSING', 'The bucket does not exist', details);
  if (AUTH_NAMES.has(name) || status === 401 || status === 403)
    return new AppError('STORAGE_AUTH_FAILED', 'The storage refused the access keys', details);
  if (codes.some((c) => TLS_CODES.has(c) || c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_')))
    return new AppError('STORAGE_TLS', 'The storage’s TLS certificate or handshake failed', details);
  if (codes.some((c) => NET_CODES.has(c)) || names.some((n) => NET_NAMES.has(n)))
    return new AppError('STORAGE_UNREACHABLE', 'The storage cannot be reached', details);
  if (status !== undefined) return new AppError('STORAGE_REJECTED', `The storage answered ${name} (${status})`, details);
  return new AppError('STORAGE_UNREACHABLE', 'The storage cannot be reached', details);
}
