import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/shared/errors';
import { MisskeyClient } from '../../../src-main/services/misskey/misskey-client';
import { ENVELOPES, fakeFetch, type Canned } from './fake-misskey';

async function failure(endpoint: string, canned: Canned): Promise<AppError> {
  const { fetch } = fakeFetch(() => canned);
  const client = new MisskeyClient({ origin: 'https://misskey.test', token: 'secret-token-123', fetch });
  const e = await client.requestUntyped(endpoint, {}).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect(JSON.stringify((e as AppError).toData())).not.toContain('secret-token-123');
  return e as AppError;
}

describe('Misskey error envelopes (misskey.md §10) → app error codes', () => {
  it.each([
    ['admin/accounts/create', 'incorrectInitialPassword', 'MISSKEY_SETUP_PASSWORD_WRONG'],
    ['admin/accounts/create', 'accessDenied', 'MISSKEY_ALREADY_SET_UP'],
    ['admin/emoji/import-zip', 'accessDenied', 'MISSKEY_NATIVE_TOKEN_REQUIRED'],
    ['admin/meta', 'credentialRequired', 'MISSKEY_AUTH_FAILED'],
    ['admin/meta', 'authenticationFailed', 'MISSKEY_AUTH_FAILED'],
    ['admin/meta', 'rolePermissionDenied', 'MISSKEY_PERMISSION_DENIED'],
    ['admin/relays/add', 'permissionDenied', 'MISSKEY_PERMISSION_DENIED'],
    ['admin/meta', 'suspended', 'MISSKEY_PERMISSION_DENIED'],
    ['admin/update-meta', 'invalidParam', 'INVALID_ARGUMENT'],
    ['admin/relays/add', 'invalidUrl', 'INVALID_ARGUMENT'],
    ['admin/relays/add', 'duplicateKey', 'MISSKEY_ALREADY_EXISTS'],
    ['admin/accounts/create', 'duplicatedUsername', 'MISSKEY_ALREADY_EXISTS'],
    ['admin/relays/remove', 'relayNotFound', 'NOT_FOUND'],
    ['admin/federation/update-instance', 'instanceNotFound', 'NOT_FOUND'],
    ['admin/suspend-user', 'userNotFound', 'NOT_FOUND'],
    ['admin/suspend-user', 'cannotSuspendModerator', 'MISSKEY_PROTECTED_USER'],
    ['users/show', 'noSuchUser', 'NOT_FOUND'],
    ['admin/does-not-exist', 'fastifyNotFound', 'MISSKEY_VERSION_TOO_OLD'],
    ['admin/meta', 'fastifyInvalidJson', 'MISSKEY_API_ERROR'],
    ['meta', 'methodNotAllowed', 'MISSKEY_API_ERROR'],
    ['admin/meta', 'badGateway', 'MISSKEY_UNREACHABLE'],
  ] as const)('%s %s → %s', async (endpoint, envelope, code) => {
    expect((await failure(endpoint, ENVELOPES[envelope])).code).toBe(code);
  });

  it('names the missing permission when the endpoint is known', async () => {
    const e = await failure('admin/relays/add', ENVELOPES.permissionDenied);
    expect(e.details).toMatchObject({ reason: 'token', permission: 'write:admin:relays', misskeyCode: 'PERMISSION_DENIED' });
    expect((await failure('admin/meta', ENVELOPES.rolePermissionDenied)).details).toMatchObject({ reason: 'role' });
  });

  it('keeps the parameter Misskey refused', async () => {
    expect((await failure('admin/update-meta', ENVELOPES.invalidParam)).details).toMatchObject({
      param: '#/properties/blockedHosts/type',
      reason: 'must be array',
    });
  });

  it('says which thing was not found', async () => {
    expect((await failure('admin/relays/remove', ENVELOPES.relayNotFound)).details).toMatchObject({ what: 'relay' });
    expect((await failure('admin/federation/update-instance', ENVELOPES.instanceNotFound)).details).toMatchObject({ what: 'instance' });
  });

  it('204 is null and 200 is the JSON body', async () => {
    const { fetch, calls } = fakeFetch((ep) => (ep === 'admin/update-meta' ? { status: 204 } : { status: 200, body: { pong: 1 } }));
    const client = new MisskeyClient({ origin: 'https://misskey.test/', token: 'tok', fetch });
    expect(await client.requestUntyped('admin/update-meta', { name: 'x' })).toBeNull();
    expect(await client.request('ping', {})).toEqual({ pong: 1 });
    expect(calls[0]).toEqual({ endpoint: 'admin/update-meta', body: { name: 'x', i: 'tok' } });
  });

  it('a refused connection is MISSKEY_UNREACHABLE', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const client = new MisskeyClient({ origin: `http://127.0.0.1:${port}` });
    await expect(client.request('meta', {})).rejects.toMatchObject({ code: 'MISSKEY_UNREACHABLE' });
  });

  it('a server that never answers is TIMEOUT; the caller cancelling is CANCELLED', async () => {
    const sockets: Socket[] = [];
    const srv = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    try {
      const client = new MisskeyClient({ origin, timeoutMs: 300 });
      await expect(client.request('meta', {})).rejects.toMatchObject({ code: 'TIMEOUT' });
      const ac = new AbortController();
      const p = client.request('meta', {}, { signal: ac.signal, timeoutMs: 10_000 });
      setTimeout(() => ac.abort(), 50);
      await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
