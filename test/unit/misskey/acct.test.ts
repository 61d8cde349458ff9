import { describe, expect, it } from 'vitest';
import { formatAcct, parseAcct, suspendRefusal } from '../../../src-main/services/misskey/acct';
import { compareVersions, versionGates } from '../../../src-main/services/misskey/versions';
import { singleUserPreset } from '../../../src-main/services/misskey/instance-service';

describe('acct parsing', () => {
  it.each([
    ['@alice@mastodon.example', { username: 'alice', host: 'mastodon.example' }],
    ['alice@Mastodon.Example', { username: 'alice', host: 'mastodon.example' }],
    ['@alice', { username: 'alice', host: null }],
    ['  bob_2  ', { username: 'bob_2', host: null }],
    ['@alice@misskey.test', { username: 'alice', host: null }],
    ['@instance.actor', { username: 'instance.actor', host: null }],
    ['@u@host.example:8443', { username: 'u', host: 'host.example:8443' }],
  ])('%s', (input, want) => {
    expect(parseAcct(input, 'misskey.test')).toEqual(want);
  });

  it.each(['', '@', '@@host.example', '@a@b@c', '@al ice', '@alice@bad host', '@alice@-x.example'])('refuses %j', (input) => {
    expect(() => parseAcct(input)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'acct' } }));
  });

  it('formats local and remote accounts', () => {
    expect(formatAcct({ username: 'a', host: null })).toBe('@a');
    expect(formatAcct({ username: 'a', host: 'x.example' })).toBe('@a@x.example');
  });
});

describe('who may not be suspended', () => {
  it('refuses system actors, administrators and moderators', () => {
    expect(suspendRefusal({ username: 'instance.actor', host: null })).toBe('system-actor');
    expect(suspendRefusal({ username: 'Relay.Actor', host: null })).toBe('system-actor');
    expect(suspendRefusal({ username: 'instance.actor', host: 'remote.example' })).toBeNull();
    expect(suspendRefusal({ username: 'root', host: null, isAdmin: true })).toBe('administrator');
    expect(suspendRefusal({ username: 'mod', host: null, isModerator: true })).toBe('moderator');
    expect(suspendRefusal({ username: 'r', host: null, roles: [{ isAdministrator: true }] })).toBe('administrator');
    expect(suspendRefusal({ username: 'r', host: null, roles: [{ isModerator: true, isAdministrator: false }] })).toBe('moderator');
    expect(suspendRefusal({ username: 'alice', host: 'spam.example', roles: [] })).toBeNull();
  });
});

describe('version gates', () => {
  it('compares CalVer and SemVer', () => {
    expect(compareVersions('2024.10.0', '2024.9.0')).toBeGreaterThan(0);
    expect(compareVersions('2025.5.1-beta.2', '2025.5.1')).toBe(0);
    expect(compareVersions('13.14.2', '2023.9.0')).toBeLessThan(0);
  });

  it('gates setupPassword, the wizard preset and remote notes cleaning', () => {
    expect(versionGates('2024.9.0')).toMatchObject({ setupPassword: false, healthz: true, supported: true });
    expect(versionGates('2024.10.0').setupPassword).toBe(true);
    expect(versionGates('13.14.2').supported).toBe(false);
    expect(singleUserPreset('2024.11.0', true)).not.toHaveProperty('singleUserMode');
    expect(singleUserPreset('2025.5.1', false)).toMatchObject({ singleUserMode: true, federation: 'none', cacheRemoteFiles: false });
    expect(singleUserPreset('2025.5.1', true)).not.toHaveProperty('enableRemoteNotesCleaning');
    expect(singleUserPreset('2026.5.4', true, { showTimelineForVisitor: false, entrancePageStyle: 'classic' }).clientOptions).toEqual({
      showTimelineForVisitor: false,
      entrancePageStyle: 'simple',
    });
    expect(singleUserPreset('2026.5.4', true)).toMatchObject({
      singleUserMode: true,
      disableRegistration: true,
      emailRequiredForSignup: false,
      enableIpLogging: false,
      federation: 'all',
      enableRemoteNotesCleaning: true,
      enableFanoutTimeline: true,
      enableFanoutTimelineDbFallback: true,
      enableReactionsBuffering: false,
      clientOptions: { entrancePageStyle: 'simple' },
      cacheRemoteFiles: false,
    });
  });
});

describe('too old a Misskey', () => {
  it('refuses the admin features below the supported version', async () => {
    const { InstanceService } = await import('../../../src-main/services/misskey/instance-service');
    const { SessionStore } = await import('../../../src-main/services/vault/session-store');
    const { fakeFetch } = await import('./fake-misskey');
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { version: '13.14.2', requireSetup: true } }));
    const svc = new InstanceService({
      profiles: { get: async () => ({ domain: 'old.test' }) as never },
      secrets: new SessionStore(),
      fetch,
    });
    await expect(svc.createFirstAdmin('p', { username: 'admin', password: 'password1', federate: true })).rejects.toMatchObject({
      code: 'MISSKEY_VERSION_TOO_OLD',
    });
    expect(calls.map((c) => c.endpoint)).toEqual(['meta']);
  });
});
