import { describe, expect, it } from 'vitest';
import { ConfigError, configPath, parseConfig } from '../../lab/images/misskey-double/src/config';
import { applyUpdateMeta } from '../../lab/images/misskey-double/src/ep-meta';
import { isHttpsUrl, normalizeHostList, remoteHostOrNull } from '../../lab/images/misskey-double/src/hosts';
import { defaultSettings } from '../../lab/images/misskey-double/src/meta-defaults';
import { parseSeedArgs } from '../../lab/images/misskey-double/src/seed';

describe('host rules', () => {
  it('blockedHosts: lower-cased, empty dropped, whitespace kept (row 18)', () => {
    expect(normalizeHostList([' Upper.Example ', 'blocked.example', ''])).toEqual([' upper.example ', 'blocked.example']);
  });

  it('relay inboxes must be https URLs (rows 20–21)', () => {
    expect(isHttpsUrl('https://relay.example.com/inbox')).toBe(true);
    expect(isHttpsUrl('http://relay.example.com/inbox')).toBe(false);
    expect(isHttpsUrl('not a url')).toBe(false);
  });

  it('our own host and null are local; others are punycoded', () => {
    expect(remoteHostOrNull(null, 'a.ohitori.test')).toBeNull();
    expect(remoteHostOrNull('A.Ohitori.Test', 'a.ohitori.test')).toBeNull();
    expect(remoteHostOrNull('Bücher.Example', 'a.ohitori.test')).toBe('xn--bcher-kva.example');
  });
});

describe('update-meta merge', () => {
  it('replaces lists, ignores null for lists and non-boolean disableRegistration, merges clientOptions', () => {
    const before = { ...defaultSettings(), langs: [], serverRules: [], logoImageUrl: null, blockedHosts: ['old.example'] };
    const after = applyUpdateMeta(before, {
      blockedHosts: ['New.Example', ''],
      silencedHosts: null,
      disableRegistration: null,
      clientOptions: { entrancePageStyle: 'simple' },
      name: 'ひとり',
      i: 'token',
    });
    expect(after.blockedHosts).toEqual(['new.example']);
    expect(after.silencedHosts).toEqual([]);
    expect(after.disableRegistration).toBe(true);
    expect(after.clientOptions).toEqual({ ...before.clientOptions, entrancePageStyle: 'simple' });
    expect(after.name).toBe('ひとり');
    expect('i' in after).toBe(false);
  });
});

describe('config', () => {
  const yml =
    'url: https://a.ohitori.test/\ndb: {host: db, port: 5432, db: misskey, user: misskey, pass: pw}\nredis: {host: redis, port: 6379}\nid: aid\nsetupPassword: s3cret\n';

  it('reads Misskey keys with defaults', () => {
    const c = parseConfig(yml, 'x.yml', {});
    expect(c).toMatchObject({
      url: 'https://a.ohitori.test',
      host: 'a.ohitori.test',
      port: 3000,
      id: 'aid',
      setupPassword: 's3cret',
      db: { host: 'db', db: 'misskey', pass: 'pw' },
      redis: { host: 'redis', port: 6379 },
    });
  });

  it('MISSKEY_URL and DATABASE_* override the file; MISSKEY_CONFIG_YML picks the file', () => {
    expect(parseConfig(yml, 'x.yml', { MISSKEY_URL: 'https://b.ohitori.test', DATABASE_PASSWORD: 'envpw' })).toMatchObject({
      host: 'b.ohitori.test',
      db: { pass: 'envpw' },
    });
    expect(configPath({})).toBe('/misskey/.config/default.yml');
    expect(configPath({ MISSKEY_CONFIG_YML: 'misskey.yml' })).toBe('/misskey/.config/misskey.yml');
  });

  it('refuses a config without url or db', () => {
    expect(() => parseConfig('port: 3000\n', 'x.yml', {})).toThrow(ConfigError);
    expect(() => parseConfig('url: https://x.test\n', 'x.yml', {})).toThrow(/db\.host/);
    expect(() => parseConfig(': : :', 'x.yml', {})).toThrow(ConfigError);
  });

  it('seed arguments', () => {
    expect(parseSeedArgs(['--users', '3', '--notes', '1000'])).toEqual({ users: 3, notes: 1000, files: 5 });
    expect(() => parseSeedArgs(['--users'])).toThrow();
  });
});

describe('delivery rules', () => {
  it('none blocks all, specified needs the host, blocked hosts and their subdomains never', async () => {
    const { deliveryAllowed } = await import('../../lab/images/misskey-double/src/deliver-queue');
    const base = { federationHosts: ['relay.example.com'], blockedHosts: ['bad.example'] };
    expect(deliveryAllowed({ ...base, federation: 'none' }, 'relay.example.com')).toBe(false);
    expect(deliveryAllowed({ ...base, federation: 'specified' }, 'relay.example.com')).toBe(true);
    expect(deliveryAllowed({ ...base, federation: 'specified' }, 'other.example')).toBe(false);
    expect(deliveryAllowed({ ...base, federation: 'all' }, 'x.bad.example')).toBe(false);
    expect(deliveryAllowed({ ...base, federation: 'all' }, 'other.example')).toBe(true);
  });
});

describe('version gates', () => {
  it('compares CalVer and old SemVer, gates /healthz and setupPassword', async () => {
    const { compareVersions, versionFeatures } = await import('../../lab/images/misskey-double/src/version-gates');
    expect(compareVersions('2024.10.0', '2024.9.1')).toBeGreaterThan(0);
    expect(compareVersions('13.14.2', '2023.9.0')).toBeLessThan(0);
    expect(compareVersions('2026.5.4-beta.1', '2026.5.4')).toBe(0);
    expect(versionFeatures('2024.4.0')).toEqual({ healthz: false, setupPassword: false });
    expect(versionFeatures('2024.9.0')).toEqual({ healthz: true, setupPassword: false });
    expect(versionFeatures('2026.5.4')).toEqual({ healthz: true, setupPassword: true });
  });
});
