/**
 * The double, run as the lab runs it (image on server A, compose stack with real PostgreSQL and
 * Redis), called with misskey-js's real APIClient: calls must succeed and fail the way Misskey
 * 2026.5.4 does (misskey.md §10).
 */
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { api, type Endpoints } from 'misskey-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv } from '../../lab/env';
import { buildDoubleImage, DoubleStack } from './lab-stack';

const SETUP = 'lab-setup-password-1';
let stack: DoubleStack;
let anon: api.APIClient;
let rootToken = '';
let root: api.APIClient;

/** Runs a misskey-js call that must fail, and returns the APIError it rejected with. */
async function apiError(p: Promise<unknown>): Promise<{ code: string; id: string; kind: string; info?: unknown }> {
  const e: unknown = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (e === null || !api.isAPIError(e as Record<PropertyKey, unknown>)) throw new Error(`expected an APIError, got ${JSON.stringify(e)}`);
  return e as { code: string; id: string; kind: string; info?: unknown };
}

beforeAll(async () => {
  const lab = loadLabEnv();
  stack = new DoubleStack(lab, 'a', await buildDoubleImage(lab, 'a'), { setupPassword: SETUP });
  await stack.up();
  anon = new api.APIClient({ origin: stack.url });
});

afterAll(async () => {
  await stack?.down();
});

describe('health and identity', () => {
  it('/healthz is 200, empty, no-store; the double says what it is', async () => {
    const r = await fetch(`${stack.url}/healthz`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('x-ohitori-double')).toBe('1');
    expect(await r.text()).toBe('');
  });

  it('meta: version, requireSetup, 405 on GET', async () => {
    const meta = await anon.request('meta', { detail: true });
    expect(meta.version).toBe('2026.5.4');
    expect('requireSetup' in meta && meta.requireSetup).toBe(true);
    expect(meta.uri).toBe(`https://${loadLabEnv().servers.a.domain}`);
    const get = await fetch(`${stack.url}/api/meta`);
    expect(get.status).toBe(405);
    expect(await get.text()).toBe('');
  });
});

describe('first admin (setupPassword rule)', () => {
  it('refuses a missing or wrong setupPassword, accepts the right one once', async () => {
    expect(await apiError(anon.request('admin/accounts/create', { username: 'admin', password: 'adminpass123' }))).toMatchObject({
      code: 'INCORRECT_INITIAL_PASSWORD',
      id: '97147c55-1ae1-4f6f-91d6-e1c3e0e76d62',
    });
    expect(
      (await apiError(anon.request('admin/accounts/create', { username: 'admin', password: 'adminpass123', setupPassword: 'wrong' }))).code,
    ).toBe('INCORRECT_INITIAL_PASSWORD');
    const admin = await anon.request('admin/accounts/create', { username: 'admin', password: 'adminpass123', setupPassword: SETUP });
    expect(admin.token).toMatch(/^[0-9A-Za-z]{16}$/);
    expect(admin).toMatchObject({ username: 'admin', host: null, isAdmin: true, isModerator: true });
    rootToken = admin.token;
    root = new api.APIClient({ origin: stack.url, credential: rootToken });
    expect(
      await apiError(anon.request('admin/accounts/create', { username: 'admin2', password: 'x', setupPassword: SETUP })),
    ).toMatchObject({ code: 'ACCESS_DENIED', id: '1fb7cb09-d46a-4fff-b8df-057708cce513' });
    expect(((await anon.request('meta', {})) as { requireSetup?: boolean }).requireSetup).toBe(false);
  });
});

describe('auth errors as misskey-js sees them', () => {
  it('no token, wrong token, non-admin', async () => {
    expect(await apiError(anon.request('admin/meta', {}))).toMatchObject({ code: 'CREDENTIAL_REQUIRED' });
    expect(await apiError(anon.request('admin/meta', {}, 'notatoken'))).toMatchObject({
      code: 'AUTHENTICATION_FAILED',
      id: 'b0a7f5f8-dc2f-4171-b91f-de88ad238e14',
    });
    const alice = await root.request('admin/accounts/create', { username: 'alice', password: 'alicepass' });
    expect(alice.isAdmin).toBe(false);
    expect(await apiError(anon.request('admin/update-meta', { name: 'x' }, alice.token))).toMatchObject({
      code: 'ROLE_PERMISSION_DENIED',
      kind: 'permission',
    });
    expect(await apiError(root.request('admin/accounts/create', { username: 'alice', password: 'x' }))).toMatchObject({
      code: 'INTERNAL_ERROR',
      info: { e: { message: 'DUPLICATED_USERNAME' } },
    });
  });

  it('bad argument → INVALID_PARAM with ajv-style info', async () => {
    const bad = { blockedHosts: 'blocked.example' } as unknown as Endpoints['admin/update-meta']['req'];
    expect(await apiError(root.request('admin/update-meta', bad))).toMatchObject({
      code: 'INVALID_PARAM',
      info: { param: '#/properties/blockedHosts/type', reason: 'must be array' },
    });
  });
});

describe('settings, relays, federation', () => {
  it('update-meta: 204, host list rules, read back', async () => {
    expect(
      await root.request('admin/update-meta', {
        blockedHosts: [' Upper.Example ', 'blocked.example', ''],
        cacheRemoteFiles: true,
        name: 'Test Misskey',
      }),
    ).toBeNull();
    const m = await root.request('admin/meta', {});
    expect(m).toMatchObject({
      blockedHosts: [' upper.example ', 'blocked.example'],
      cacheRemoteFiles: true,
      name: 'Test Misskey',
      federation: 'none',
      version: '2026.5.4',
    });
    const logs = await root.request('admin/show-moderation-logs', { limit: 10, type: 'updateServerSettings' });
    expect(logs.length).toBe(1);
  });

  it('relays: https only, duplicate is a QueryFailedError, remove unknown is "relay not found"', async () => {
    const inbox = 'https://relay.example.com/inbox';
    expect(await root.request('admin/relays/add', { inbox })).toMatchObject({ inbox, status: 'requesting' });
    expect((await apiError(root.request('admin/relays/add', { inbox: 'http://relay.example.com/inbox' }))).code).toBe('INVALID_URL');
    expect(await apiError(root.request('admin/relays/add', { inbox }))).toMatchObject({
      code: 'INTERNAL_ERROR',
      info: { e: { code: 'QueryFailedError' } },
    });
    expect((await root.request('admin/relays/list', {})).map((r) => r.inbox)).toEqual([inbox]);
    expect(await root.request('admin/relays/remove', { inbox })).toBeNull();
    expect(await apiError(root.request('admin/relays/remove', { inbox }))).toMatchObject({
      code: 'INTERNAL_ERROR',
      info: { e: { message: 'relay not found' } },
    });
  });

  it('unknown instance: update → "instance not found", show → 204 (null)', async () => {
    expect(
      await apiError(root.request('admin/federation/update-instance', { host: 'unknown.example.org', isSuspended: true })),
    ).toMatchObject({ info: { e: { message: 'instance not found' } } });
    expect(await root.request('federation/show-instance', { host: 'unknown.example.org' })).toBeNull();
  });
});

describe('deliveries once federation is on (rows 26, 28, 41)', () => {
  it('a relay follow waits as delayed, its host is registered as not responding, clear empties it', async () => {
    await root.request('admin/update-meta', { federation: 'all' });
    await root.request('admin/relays/add', { inbox: 'https://relay2.example.com/inbox' });
    expect((await root.request('admin/queue/stats', {})).deliver.delayed).toBe(1);
    expect(await root.request('admin/queue/deliver-delayed', {})).toEqual([['relay2.example.com', 1]]);
    expect(await root.request('federation/show-instance', { host: 'relay2.example.com' })).toMatchObject({
      isNotResponding: true,
      suspensionState: 'none',
    });
    expect(
      await root.request('admin/federation/update-instance', { host: 'relay2.example.com', isSuspended: true, moderationNote: 'test' }),
    ).toBeNull();
    expect(await root.request('federation/show-instance', { host: 'relay2.example.com' })).toMatchObject({
      isSuspended: true,
      suspensionState: 'manuallySuspended',
      moderationNote: 'test',
    });
    expect(await root.request('admin/queue/clear', { queue: 'deliver', state: 'delayed' })).toBeNull();
    expect((await root.request('admin/queue/stats', {})).deliver.delayed).toBe(0);
    const types = (await root.request('admin/show-moderation-logs', { limit: 10 })).map((l) => l.type);
    expect(types.slice(0, 3)).toEqual(['clearQueue', 'updateRemoteInstanceNote', 'suspendRemoteInstance']);
  });
});

describe('server info and system webhooks', () => {
  it('server-info reports the real PostgreSQL; webhooks are stored, listed and deleted (native token only)', async () => {
    const info = await root.request('admin/server-info', {});
    expect(info.psql).toMatch(/^15\./);
    const hook = await root.request('admin/system-webhook/create', {
      isActive: true,
      name: 'ohitori alerts',
      on: ['userCreated', 'abuseReport'],
      url: 'http://10.231.0.1:9/hook',
    });
    expect(hook).toMatchObject({ name: 'ohitori alerts', isActive: true, latestSentAt: null, on: ['userCreated', 'abuseReport'] });
    expect((await root.request('admin/system-webhook/list', { on: ['userCreated'] })).map((h) => h.id)).toEqual([hook.id]);
    expect(await root.request('admin/system-webhook/delete', { id: hook.id })).toBeNull();
    expect(await root.request('admin/system-webhook/list', {})).toEqual([]);
  });
});

describe('seeded instance', () => {
  let seed: { tokens: { suspended: string; user1: string; limitedReadOnly: { token: string } }; users: { root: { id: string } } };

  beforeAll(async () => {
    seed = JSON.parse(
      (await stack.exec('web', ['node', '/double/server.mjs', 'seed', '--users', '2', '--notes', '30', '--files', '3'])).toString('utf8'),
    );
  });

  it('seed reuses the existing root and hands out limited tokens', async () => {
    const me = await root.request('i', {});
    expect(seed.users.root.id).toBe(me.id);
    const limited = seed.tokens.limitedReadOnly.token;
    expect((await anon.request('admin/meta', {}, limited)).blockedHosts).toContain('spam.example');
    expect(await apiError(anon.request('admin/update-meta', { name: 'x' }, limited))).toMatchObject({
      code: 'PERMISSION_DENIED',
      id: '1370e5b7-d4eb-4566-bb1d-7748ee6a1838',
      kind: 'permission',
    });
    expect(await apiError(anon.request('i', {}, seed.tokens.suspended))).toMatchObject({ code: 'YOUR_ACCOUNT_SUSPENDED' });
  });

  it('users/show, suspend rules, remote instance suspension', async () => {
    const remote = await anon.request('users/show', { username: 'alice', host: 'mastodon.example' });
    expect(remote).toMatchObject({ host: 'mastodon.example', isSuspended: false });
    expect(await apiError(anon.request('users/show', { username: 'nobody' }))).toMatchObject({ code: 'NO_SUCH_USER' });
    const u1 = await anon.request('users/show', { username: 'user1' });
    expect(await root.request('admin/suspend-user', { userId: (u1 as { id: string }).id })).toBeNull();
    expect((await root.request('admin/show-user', { userId: (u1 as { id: string }).id })).isSuspended).toBe(true);
    expect(await apiError(root.request('admin/suspend-user', { userId: seed.users.root.id }))).toMatchObject({
      info: { e: { message: 'cannot suspend moderator account' } },
    });
    expect(
      await root.request('admin/federation/update-instance', { host: 'mastodon.example', isSuspended: true, moderationNote: 'test' }),
    ).toBeNull();
    expect(await root.request('federation/show-instance', { host: 'mastodon.example' })).toMatchObject({
      isSuspended: true,
      suspensionState: 'manuallySuspended',
      moderationNote: 'test',
    });
  });
});

describe('drive and emoji', () => {
  it('uploads binary bytes under a non-ASCII name and serves them back unchanged', async () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
    const f = await root.request('drive/files/create', { file: new Blob([bytes]), name: '写真 2026-11-26.png' });
    expect(f).toMatchObject({ name: '写真 2026-11-26.png', size: 4096, md5: createHash('md5').update(bytes).digest('hex') });
    const served = new Uint8Array(await (await fetch(`${stack.url}${new URL(f.url).pathname}`)).arrayBuffer());
    expect(Buffer.from(served).equals(Buffer.from(bytes))).toBe(true);
  });

  it('import-zip adds emoji and replaces same-name ones', async () => {
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf00000301010018dd8db40000000049454e44ae426082',
      'hex',
    );
    const zip = (category: string) =>
      zipSync({
        'meta.json': Buffer.from(
          JSON.stringify({
            emojis: [
              { downloaded: true, fileName: 'zipcat.png', emoji: { name: 'zipcat', category, aliases: ['ねこ'] } },
              { downloaded: false, fileName: 'x.png', emoji: { name: 'skipped' } },
            ],
          }),
        ),
        'zipcat.png': png,
      });
    const waitFor = async (category: string) => {
      for (let i = 0; i < 50; i++) {
        const list = await root.request('admin/emoji/list', { query: 'zipcat', limit: 100 });
        if (list.length === 1 && list[0]?.category === category) return list;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`emoji zipcat with category ${category} never appeared`);
    };
    for (const category of ['first', 'second']) {
      const file = await root.request('drive/files/create', { file: new Blob([zip(category)]), name: 'emojis.zip' });
      expect(await root.request('admin/emoji/import-zip', { fileId: file.id })).toBeNull();
      expect(await waitFor(category)).toHaveLength(1);
    }
    expect((await root.request('admin/emoji/list', { query: 'skipped' })).length).toBe(0);
  });
});

describe('routing and parsing errors use Fastify shapes', () => {
  it('unknown endpoint (row 38) and invalid JSON (row 39)', async () => {
    const nf = await fetch(`${stack.url}/api/admin/does-not-exist`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ message: 'Route POST:/api/admin/does-not-exist not found', error: 'Not Found', statusCode: 404 });
    const bad = await fetch(`${stack.url}/api/meta`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
    const noBody = await fetch(`${stack.url}/api/admin/meta`, { method: 'POST' });
    expect(noBody.status).toBe(401);
  });
});

describe("MiAuth (the double's sign-in-and-approve page stands in for the web UI)", () => {
  it('check is {ok:false} until approved, then hands the limited token out once', async () => {
    const session = crypto.randomUUID();
    const check = async () => (await fetch(`${stack.url}/api/miauth/${session}/check`, { method: 'POST' })).json();
    expect(await check()).toEqual({ ok: false });
    const q = new URLSearchParams({ name: 'Ohitori', permission: 'read:account,read:admin:meta', callback: 'http://127.0.0.1:9/cb' });
    expect((await fetch(`${stack.url}/miauth/${session}?${q}`)).status).toBe(200);
    const approve = (password: string) =>
      fetch(`${stack.url}/miauth/${session}/approve?${q}`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'admin', password }),
        redirect: 'manual',
      });
    expect((await approve('wrong')).status).toBe(400);
    const ok = await approve('adminpass123');
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toBe(`http://127.0.0.1:9/cb?session=${session}`);
    const got = (await check()) as { ok: boolean; token: string; user: { username: string } };
    expect(got).toMatchObject({ ok: true, user: { username: 'admin' } });
    expect(await check()).toEqual({ ok: false });
    const app = new api.APIClient({ origin: stack.url, credential: got.token });
    expect((await app.request('admin/meta', {})).version).toBe('2026.5.4');
    expect(await apiError(app.request('admin/relays/list', {}))).toMatchObject({ code: 'PERMISSION_DENIED' });
  });
});
