import { describe, expect, it } from 'vitest';
import { ApiError, E, fastifyNotFound, renderApiError, toInternalError } from '../../lab/images/misskey-double/src/api-error';

describe('error envelopes', () => {
  it('401s carry the Bearer challenge; AUTHENTICATION_FAILED says invalid_token', () => {
    expect(renderApiError(new ApiError(E.credentialRequired))).toEqual({
      status: 401,
      wwwAuthenticate: 'Bearer realm="Misskey"',
      body: {
        error: { message: 'Credential required.', code: 'CREDENTIAL_REQUIRED', id: '1384574d-a912-4b81-8601-c7b1c4085df1', kind: 'client' },
      },
    });
    expect(renderApiError(new ApiError(E.authenticationFailed)).wwwAuthenticate).toContain('error="invalid_token"');
  });

  it('permission kinds are 403, client 400, NO_SUCH_USER 404', () => {
    expect(renderApiError(new ApiError(E.notAdmin)).status).toBe(403);
    expect(renderApiError(new ApiError(E.permissionDenied)).wwwAuthenticate).toContain('insufficient_scope');
    expect(renderApiError(new ApiError(E.invalidUrl)).status).toBe(400);
    expect(renderApiError(new ApiError(E.noSuchUser)).status).toBe(404);
  });

  it('internal errors keep the constant outer id and put the reason in info.e', () => {
    const a = renderApiError(toInternalError(new Error('relay not found')));
    const b = renderApiError(toInternalError(new Error('relay not found')));
    expect(a.status).toBe(500);
    expect(a.body.error).toMatchObject({
      code: 'INTERNAL_ERROR',
      id: '5d37dbcb-891e-41ca-a3d6-e690c97775ac',
      kind: 'server',
      info: { e: { message: 'relay not found', code: 'Error' } },
    });
    expect((a.body.error.info as { e: { id: string } }).e.id).not.toBe((b.body.error.info as { e: { id: string } }).e.id);
  });

  it("a Postgres error is reported as TypeORM's QueryFailedError", () => {
    const pgErr = Object.assign(new Error('duplicate key value violates unique constraint "IDX_0d9a1738f2cf7f3b1c3334dfab"'), {
      code: '23505',
      severity: 'ERROR',
    });
    expect(toInternalError(pgErr).info).toMatchObject({ e: { code: 'QueryFailedError', message: pgErr.message } });
  });

  it("unknown routes use Fastify's shape (row 38)", () => {
    expect(fastifyNotFound('POST', '/api/admin/does-not-exist')).toEqual({
      message: 'Route POST:/api/admin/does-not-exist not found',
      error: 'Not Found',
      statusCode: 404,
    });
  });
});
