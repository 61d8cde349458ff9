import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/shared/errors';
import { assertClockSkew, clockSkewMs, mapStorageError, MAX_CLOCK_SKEW_MS } from '../../../src-main/services/storage/storage-errors';

/** Error objects shaped like @aws-sdk/client-s3's service exceptions and Node's socket errors. */
const sdk = (name: string, status?: number) =>
  Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });
const node = (code: string) => Object.assign(new Error(code), { code });

describe('mapStorageError', () => {
  it.each([
    ['InvalidAccessKeyId', 403, 'STORAGE_AUTH_FAILED'],
    ['SignatureDoesNotMatch', 403, 'STORAGE_AUTH_FAILED'],
    ['AccessDenied', 403, 'STORAGE_AUTH_FAILED'],
    ['Forbidden', 403, 'STORAGE_AUTH_FAILED'],
    ['UnknownError', 401, 'STORAGE_AUTH_FAILED'],
    ['NoSuchBucket', 404, 'STORAGE_BUCKET_MISSING'],
    ['RequestTimeTooSkewed', 403, 'STORAGE_CLOCK_SKEW'],
    ['InternalError', 500, 'STORAGE_REJECTED'],
    ['NoSuchKey', 404, 'STORAGE_REJECTED'],
  ])('%s (%s) → %s', (name, status, code) => {
    const e = mapStorageError(sdk(name, status));
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ name, status });
  });

  it('HeadBucket’s bodiless 404 (NotFound) is a missing bucket; elsewhere it is not', () => {
    expect(mapStorageError(sdk('NotFound', 404), 'head-bucket').code).toBe('STORAGE_BUCKET_MISSING');
    expect(mapStorageError(sdk('NotFound', 404), 'get').code).toBe('STORAGE_REJECTED');
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'])('%s → STORAGE_UNREACHABLE', (code) => {
    expect(mapStorageError(node(code)).code).toBe('STORAGE_UNREACHABLE');
    // Also when wrapped as a cause.
    expect(mapStorageError(new Error('fetch failed', { cause: node(code) })).code).toBe('STORAGE_UNREACHABLE');
  });

  it('timeouts and aborts → STORAGE_UNREACHABLE', () => {
    expect(mapStorageError(sdk('TimeoutError')).code).toBe('STORAGE_UNREACHABLE');
    expect(mapStorageError(sdk('AbortError')).code).toBe('STORAGE_UNREACHABLE');
  });

  it.each([
    'CERT_HAS_EXPIRED',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
  ])('%s → STORAGE_TLS', (code) => {
    expect(mapStorageError(node(code)).code).toBe('STORAGE_TLS');
    expect(mapStorageError(Object.assign(new Error('x'), { cause: node(code) })).code).toBe('STORAGE_TLS');
  });

  it('passes AppErrors through and never uses the SDK message as the words', () => {
    const a = new AppError('CANCELLED', 'Cancelled');
    expect(mapStorageError(a)).toBe(a);
    expect(mapStorageError(sdk('AccessDenied', 403)).message).toBe('The storage refused the access keys');
  });
});

describe('clock skew', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  it('compares the storage Date header with the local clock', () => {
    expect(clockSkewMs('Thu, 26 Nov 2026 12:04:59 GMT', now)).toBe(299_000);
    expect(clockSkewMs('Thu, 26 Nov 2026 11:50:00 GMT', now)).toBe(-600_000);
    expect(clockSkewMs(undefined, now)).toBeUndefined();
    expect(clockSkewMs('garbage', now)).toBeUndefined();
  });

  it('refuses more than 5 minutes either way, accepts up to it', () => {
    expect(() => assertClockSkew(MAX_CLOCK_SKEW_MS)).not.toThrow();
    expect(() => assertClockSkew(-MAX_CLOCK_SKEW_MS)).not.toThrow();
    expect(() => assertClockSkew(undefined)).not.toThrow();
    for (const skew of [MAX_CLOCK_SKEW_MS + 1000, -(MAX_CLOCK_SKEW_MS + 1000)]) {
      try {
        assertClockSkew(skew);
        expect.unreachable();
      } catch (e) {
        expect((e as AppError).code).toBe('STORAGE_CLOCK_SKEW');
      }
    }
  });
});
