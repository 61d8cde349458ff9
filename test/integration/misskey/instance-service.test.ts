/**
 * The instance service against the Misskey API double in a real compose stack on lab server A
 * (reached on the server's lab address; the e2e test goes through Caddy on server B instead).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from 'misskey-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { startFaultProxy } from '../../lab/fault-proxy';
import { buildDoubleImage, DoubleStack } from '../misskey-double/lab-stack';
import { InstanceService } from '../../../src-main/services/misskey/instance-service';
import { MisskeyClient } from '../../../src-main/services/misskey/misskey-client';
import { createNodeFetch, mapLookup } from '../../../src-main/services/misskey/resolve-override';
import { SessionStore } from '../../../src-main/services/vault/session-store';
import type { ServerProfile } from '../../../src-main/shared/domain';
import { emojiZip, PNG_1X1, thousandLineBlockList } from './fixtures';

const SETUP = 'instance-it-setup-1';
const ADMIN_PASSWORD = 'admin password 123';
let lab: LabEnv;
let stack: DoubleStack;
let work: string;
let root: api.APIClient;

const profileFor = (id: string, domain: string): ServerProfile => ({
  id,
  name: id,
  host: '10.231.0.2',
  port: 22,
  user: 'ohadmin',
  auth: 'agent',
  domain,
  stackDir: '/var/servers/docker/misskey',
  hasSecret: false,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
});

/** A service with its own secret store, pointed at `origin` for profile `p`. */
function service(origin: () => string, timeoutMs?: number): InstanceService {
  const p = profileFor('p', lab.servers.a.domain);
  return new InstanceService({
    profiles: { get: async () => p },
    secrets: new SessionStore(),
    originFor: origin,
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

let svc: InstanceService;
let seed: {
  tokens: { user1: string; limitedReadOnly: { token: string }; limitedNotesOnly: { token: string } };
  users: { moderator: { username: string } };
};

beforeAll(async () => {
  lab = loadLabEnv();
  stack = new DoubleStack(lab, 'a', await buildDoubleImage(lab, 'a'), { setupPassword: SETUP });
  await stack.up();
  work = await mkdtemp(join(tmpdir(), 'ohitori-instance-it-'));
  svc = service(() => stack.url);
});

afterAll(async () => {
  await stack?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('first administrator', () => {
  it('sees a fresh instance that needs setup, and is not connected yet', async () => {
    expect(await svc.status('p')).toMatchObject({ reachable: true, version: '2026.5.4', requireSetup: true, connected: false });
    await expect(svc.settings('p')).rejects.toMatchObject({ code: 'MISSKEY_NOT_CONNECTED' });
  });

  it('refuses a wrong setup password', async () => {
    await expect(
      svc.createFirstAdmin('p', { username: 'admin', password: ADMIN_PASSWORD, setupPassword: 'wrong', federate: true }),
    ).rejects.toMatchObject({ code: 'MISSKEY_SETUP_PASSWORD_WRONG' });
  });

  it('creates the admin once, keeps the token, applies the single-user preset and reads it back', async () => {
    const r = await svc.createFirstAdmin('p', { username: 'admin', password: ADMIN_PASSWORD, setupPassword: SETUP, federate: true });
    expect(r.username).toBe('admin');
    expect(r.settings).toMatchObject({
      singleUserMode: true,
      disableRegistration: true,
      emailRequiredForSignup: false,
      enableIpLogging: false,
      federation: 'all',
      enableRemoteNotesCleaning: true,
      enableFanoutTimeline: true,
      enableFanoutTimelineDbFallback: true,
      enableReactionsBuffering: false,
      entrancePageStyle: 'simple',
      cacheRemoteFiles: false,
      cacheRemoteSensitiveFiles: false,
    });
    expect(await svc.status('p')).toMatchObject({ connected: true, tokenKind: 'native', isNativeToken: true, requireSetup: false });
    const anon = new api.APIClient({ origin: stack.url });
    const meta = (await anon.request('meta', {})) as { policies: Record<string, unknown> };
    expect(meta.policies).toMatchObject({ driveCapacityMb: 8192, rateLimitFactor: 0.3, canImportAntennas: true });
    // The token was kept in the secret store, never handed back.
    expect(JSON.stringify(r)).not.toMatch(/token/i);
  });

  it('is refused the second time, by meta and by Misskey itself', async () => {
    await expect(
      svc.createFirstAdmin('p', { username: 'admin2', password: ADMIN_PASSWORD, setupPassword: SETUP, federate: true }),
    ).rejects.toMatchObject({
      code: 'MISSKEY_ALREADY_SET_UP',
    });
    const raw = new MisskeyClient({ origin: stack.url });
    await expect(raw.request('admin/accounts/create', { username: 'x', password: 'y', setupPassword: SETUP })).rejects.toMatchObject({
      code: 'MISSKEY_ALREADY_SET_UP',
    });
  });

  it('seeds users and limited tokens for the rest', async () => {
    seed = JSON.parse(
      (await stack.exec('web', ['node', '/double/server.mjs', 'seed', '--users', '2', '--notes', '0', '--files', '0'])).toString('utf8'),
    );
    const rootToken = (seed as unknown as { tokens: { root: string } }).tokens.root;
    root = new api.APIClient({ origin: stack.url, credential: rootToken });
  });
});

describe('settings, cache and profile', () => {
  it('toggles cacheRemoteFiles and reads it back; the clean job is accepted', async () => {
    expect((await svc.setCacheRemoteFiles('p', true)).cacheRemoteFiles).toBe(true);
    const off = await svc.setCacheRemoteFiles('p', false);
    expect(off).toMatchObject({ cacheRemoteFiles: false, cacheRemoteSensitiveFiles: false });
    expect(await svc.cleanRemoteFiles('p')).toEqual({ requested: true });
    expect(await svc.diskUsage('p')).toBeNull();
  });

  it('edits name, description, theme colour and icon URL', async () => {
    const s = await svc.updateProfile('p', {
      name: 'おひとりさまの鯖',
      description: '一人用の Misskey です',
      themeColor: '#2b3a67',
      iconUrl: `https://${lab.servers.a.domain}/files/icon.png`,
    });
    expect(s).toMatchObject({ name: 'おひとりさまの鯖', description: '一人用の Misskey です', themeColor: '#2b3a67' });
    expect((await root.request('admin/meta', {})).iconUrl).toBe(`https://${lab.servers.a.domain}/files/icon.png`);
  });
});

describe('relays', () => {
  it('adds (https only), lists with state, refuses duplicates, removes', async () => {
    await expect(svc.addRelay('p', 'http://relay.insecure.example/inbox')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'inbox' },
    });
    const list = await svc.addRelay('p', 'https://relay.ohitori-it.example/inbox');
    expect(list).toContainEqual(expect.objectContaining({ inbox: 'https://relay.ohitori-it.example/inbox', status: 'requesting' }));
    await expect(svc.addRelay('p', 'https://relay.ohitori-it.example/inbox')).rejects.toMatchObject({ code: 'MISSKEY_ALREADY_EXISTS' });
    const after = await svc.removeRelay('p', 'https://relay.ohitori-it.example/inbox');
    expect(after.map((r) => r.inbox)).not.toContain('https://relay.ohitori-it.example/inbox');
    await expect(svc.removeRelay('p', 'https://nope.example/inbox')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { what: 'relay' },
    });
  });
});

describe('instance blocks', () => {
  it('adds and removes hosts, keeping what was there', async () => {
    const before = await svc.blockedHosts('p');
    expect(before).toContain('spam.example');
    const added = await svc.updateBlockedHosts('p', { expected: before, add: ['Evil.Example'] });
    expect(added).toEqual([...before, 'evil.example']);
    const removed = await svc.updateBlockedHosts('p', { expected: added, remove: ['evil.example'] });
    expect(removed).toEqual(before);
  });

  it('detects a change made directly through the API between read and write, and loses nothing', async () => {
    const seen = await svc.blockedHosts('p');
    // Another admin (the web UI) adds a host after the user loaded the list.
    const now = (await root.request('admin/meta', {})).blockedHosts;
    await root.request('admin/update-meta', { blockedHosts: [...now, 'added-elsewhere.example'] });
    const e = await svc.updateBlockedHosts('p', { expected: seen, add: ['mine.example'] }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'MISSKEY_CHANGED_ELSEWHERE' });
    expect((e as { details: { current: string[] } }).details.current).toContain('added-elsewhere.example');
    const after = (await root.request('admin/meta', {})).blockedHosts;
    expect(after).toContain('added-elsewhere.example');
    expect(after).not.toContain('mine.example');
    // With the new list as the base, the same change goes through and keeps both.
    const ok = await svc.updateBlockedHosts('p', { expected: after, add: ['mine.example'] });
    expect(ok).toEqual(expect.arrayContaining(['added-elsewhere.example', 'mine.example']));
  });

  it('imports 1,000 lines: preview counts, then applies, read back', async () => {
    const pre = Array.from({ length: 50 }, (_, i) => `pre${i}.example`);
    const base = await svc.updateBlockedHosts('p', { expected: await svc.blockedHosts('p'), add: pre });
    const text = thousandLineBlockList('imp', pre);
    const preview = await svc.previewBlockImport('p', text);
    expect(preview).toMatchObject({ total: 1000, duplicates: 200, invalid: 150, alreadyBlocked: 50 });
    expect(preview.added).toHaveLength(600);
    const r = await svc.importBlockList('p', { text, expected: preview.base });
    expect(r.added).toBe(600);
    const after = await svc.blockedHosts('p');
    expect(after).toHaveLength(base.length + 600);
    expect(after).toEqual(expect.arrayContaining(['imp0.example', 'imp599.example', ...base]));
    // An import against a stale base is refused too.
    await expect(svc.importBlockList('p', { text: 'late.example', expected: base })).rejects.toMatchObject({
      code: 'MISSKEY_CHANGED_ELSEWHERE',
    });
  });

  it('stops delivery to a known host; an unknown host is NOT_FOUND', async () => {
    await svc.setDeliverySuspended('p', 'spam.example', true);
    expect(await root.request('federation/show-instance', { host: 'spam.example' })).toMatchObject({ isSuspended: true });
    await svc.setDeliverySuspended('p', 'spam.example', false);
    expect(await root.request('federation/show-instance', { host: 'spam.example' })).toMatchObject({ isSuspended: false });
    await expect(svc.setDeliverySuspended('p', 'never-seen.example', true)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { what: 'instance' },
    });
  });
});

describe('users', () => {
  it('suspends and unsuspends local and remote users by acct', async () => {
    expect(await svc.setUserSuspended('p', '@user1', true)).toMatchObject({ username: 'user1', host: null, isSuspended: true });
    expect(await svc.setUserSuspended('p', '@user1', false)).toMatchObject({ isSuspended: false });
    expect(await svc.setUserSuspended('p', `@alice@spam.example`, true)).toMatchObject({ host: 'spam.example', isSuspended: true });
    expect(await svc.lookupUser('p', `@user1@${lab.servers.a.domain}`)).toMatchObject({ username: 'user1', host: null, protected: null });
  });

  it('refuses admins, moderators and system actors before calling, and unknown users are NOT_FOUND', async () => {
    const logsBefore = (await root.request('admin/show-moderation-logs', { limit: 100, type: 'suspend' })).length;
    await expect(svc.setUserSuspended('p', '@admin', true)).rejects.toMatchObject({
      code: 'MISSKEY_PROTECTED_USER',
      details: { reason: 'administrator' },
    });
    await expect(svc.setUserSuspended('p', '@moderator', true)).rejects.toMatchObject({
      code: 'MISSKEY_PROTECTED_USER',
      details: { reason: 'moderator' },
    });
    await expect(svc.setUserSuspended('p', '@instance.actor', true)).rejects.toMatchObject({
      code: 'MISSKEY_PROTECTED_USER',
      details: { reason: 'system-actor' },
    });
    await expect(svc.setUserSuspended('p', '@relay.actor', true)).rejects.toMatchObject({
      code: 'MISSKEY_PROTECTED_USER',
      details: { reason: 'system-actor' },
    });
    expect((await root.request('admin/show-moderation-logs', { limit: 100, type: 'suspend' })).length).toBe(logsBefore);
    await expect(svc.setUserSuspended('p', '@nobody', true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(svc.setUserSuspended('p', '@not a user', true)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('emoji', () => {
  it('adds an emoji from image bytes, refuses a non-image and a taken name', async () => {
    expect(
      await svc.addEmoji('p', { name: 'ohitori_cat', category: 'ねこ', fileName: 'cat.png', dataBase64: PNG_1X1.toString('base64') }),
    ).toMatchObject({
      name: 'ohitori_cat',
    });
    expect((await root.request('admin/emoji/list', { query: 'ohitori_cat' })).map((e) => e.name)).toContain('ohitori_cat');
    await expect(
      svc.addEmoji('p', { name: 'x', fileName: 'x.png', dataBase64: Buffer.from('#!/bin/sh').toString('base64') }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      svc.addEmoji('p', { name: 'ohitori_cat', fileName: 'cat.png', dataBase64: PNG_1X1.toString('base64') }),
    ).rejects.toMatchObject({
      code: 'MISSKEY_ALREADY_EXISTS',
    });
  });

  it('imports a zip in Misskey’s export format (native token)', async () => {
    const path = join(work, 'emoji-export.zip');
    await writeFile(path, emojiZip(['zip_a', 'zip_b']));
    expect(await svc.importEmojiZip('p', path)).toMatchObject({ queued: true });
    for (let i = 0; ; i++) {
      const names = (await root.request('admin/emoji/list', { query: 'zip_' })).map((e) => e.name);
      if (names.includes('zip_a') && names.includes('zip_b')) break;
      if (i > 50) throw new Error(`emoji not imported: ${names.join(',')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await writeFile(join(work, 'not.zip'), 'hello');
    await expect(svc.importEmojiZip('p', join(work, 'not.zip'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(svc.importEmojiZip('p', join(work, 'missing.zip'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('connecting an existing instance', () => {
  it('a wrong token is MISSKEY_AUTH_FAILED and nothing is kept', async () => {
    const other = service(() => stack.url);
    await expect(other.connectToken('p', 'notatoken-0000')).rejects.toMatchObject({ code: 'MISSKEY_AUTH_FAILED' });
    expect((await other.status('p')).connected).toBe(false);
  });

  it('a limited token shows which permissions it lacks, and a write it lacks maps to the permission', async () => {
    const other = service(() => stack.url);
    const st = await other.connectToken('p', seed.tokens.limitedReadOnly.token);
    const state = Object.fromEntries(st.permissions!.map((p) => [p.permission, p.state]));
    expect(state).toMatchObject({
      'read:account': 'granted',
      'read:admin:meta': 'granted',
      'read:admin:relays': 'granted',
      'write:admin:meta': 'missing',
      'write:admin:relays': 'missing',
      'write:admin:suspend-user': 'missing',
      'write:drive': 'unknown',
    });
    expect(st).toMatchObject({ tokenKind: 'pasted', isNativeToken: false });
    expect((await other.relays('p')).length).toBeGreaterThan(0);
    await expect(other.addRelay('p', 'https://relay3.example/inbox')).rejects.toMatchObject({
      code: 'MISSKEY_PERMISSION_DENIED',
      details: { reason: 'token', permission: 'write:admin:relays' },
    });
  });

  it('a non-admin account is MISSKEY_PERMISSION_DENIED (role)', async () => {
    const other = service(() => stack.url);
    const st = await other.connectToken('p', seed.tokens.user1);
    expect(st.permissions!.find((p) => p.permission === 'read:admin:meta')?.state).toBe('missing');
    await expect(other.settings('p')).rejects.toMatchObject({ code: 'MISSKEY_PERMISSION_DENIED', details: { reason: 'role' } });
  });

  it('MiAuth: the URL names the domain and permissions; approval yields a token; import-zip needs the native token', async () => {
    const other = service(() => stack.url);
    const { url, session } = await other.miauthStart('p');
    const u = new URL(url);
    expect(u.origin).toBe(`https://${lab.servers.a.domain}`);
    expect(u.pathname).toBe(`/miauth/${session}`);
    expect(u.searchParams.get('name')).toBe('Ohitori');
    expect(u.searchParams.get('permission')!.split(',')).toContain('write:admin:relays');
    expect(await other.miauthCheck('p', session)).toMatchObject({ approved: false, connected: false });
    // The user approves in the browser (the double's plain form).
    const res = await fetch(`${stack.url}/miauth/${session}/approve${u.search}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: ADMIN_PASSWORD }).toString(),
    });
    expect(res.status).toBe(200);
    const st = await other.miauthCheck('p', session);
    expect(st).toMatchObject({ approved: true, connected: true, tokenKind: 'miauth', isNativeToken: false, username: 'admin' });
    expect(st.permissions!.every((p) => p.state === 'granted')).toBe(true);
    expect((await other.settings('p')).name).toBe('おひとりさまの鯖');
    const path = join(work, 'emoji2.zip');
    await writeFile(path, emojiZip(['zip_c']));
    await expect(other.importEmojiZip('p', path)).rejects.toMatchObject({ code: 'MISSKEY_NATIVE_TOKEN_REQUIRED' });
  });
});

describe('bad input and a sick instance', () => {
  it('INVALID_PARAM from Misskey is INVALID_ARGUMENT with the parameter', async () => {
    const token = (seed as unknown as { tokens: { root: string } }).tokens.root;
    const raw = new MisskeyClient({ origin: stack.url, token });
    await expect(raw.requestUntyped('admin/update-meta', { blockedHosts: 'x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { param: '#/properties/blockedHosts/type' },
    });
  });

  it('a stalled connection is TIMEOUT', async () => {
    const proxy = await startFaultProxy({ listenHost: '127.0.0.1', targetHost: lab.servers.a.ip, targetPort: stack.port, mode: 'stall' });
    try {
      const slow = service(() => `http://127.0.0.1:${proxy.port}`, 700);
      await expect(
        slow.miauthStart('p').then(() => slow.createFirstAdmin('p', { username: 'a', password: 'password1', federate: false })),
      ).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      expect((await slow.status('p')).reachable).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('an HTTPS certificate this process does not trust is MISSKEY_UNREACHABLE (tls)', async () => {
    // Server A's Caddy (tls internal); this test process has no NODE_EXTRA_CA_CERTS for the lab CA.
    const a = lab.servers.a;
    const untrusted = new InstanceService({
      profiles: { get: async () => profileFor('t', a.domain) },
      secrets: new SessionStore(),
      fetch: createNodeFetch({ lookup: mapLookup(new Map([[a.domain, a.ip]])) }),
    });
    expect(await untrusted.status('t')).toMatchObject({ reachable: false, unreachableReason: 'tls' });
  });

  it('an instance that is down is MISSKEY_UNREACHABLE, and it works again once back', async () => {
    await stack.compose(['stop', '-t', '1', 'web']);
    try {
      expect((await svc.status('p')).reachable).toBe(false);
      await expect(svc.settings('p')).rejects.toMatchObject({ code: 'MISSKEY_UNREACHABLE' });
      expect((await svc.status('p')).unreachableReason).toBe('network');
    } finally {
      await stack.compose(['start', 'web']);
      await stack.waitHealthy();
    }
    expect((await svc.settings('p')).name).toBe('おひとりさまの鯖');
  });
});
