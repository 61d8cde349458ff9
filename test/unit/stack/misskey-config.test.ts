import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  mergeWithExisting,
  parseExistingConfig,
  renderDockerEnv,
  renderMisskeyConfig,
  sameOrigin,
} from '../../../src-main/services/stack/misskey-config';
import { AppError } from '../../../src-main/shared/errors';
import { testModel } from './model-fixture';

function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

/** The guide's misskey.yaml, as a person wrote it by hand in 2022. */
const GUIDE_CONFIG = `url: https://misskey.example.com/
db:
  host: db
  port: 5432
  db: misskey
  user: misskey
  pass: Guide-Written-Pass_2022
redis:
  host: redis
  port: 6379
id: 'aid'
port: 3000
`;

describe('default.yml', () => {
  it('holds what Misskey needs and nothing else', () => {
    const m = testModel();
    expect(parse(renderMisskeyConfig(m))).toEqual({
      url: 'https://misskey.example.com',
      port: 3000,
      db: { host: 'db', port: 5432, db: 'misskey', user: 'misskey', pass: m.db.password },
      redis: { host: 'redis', port: 6379 },
      fulltextSearch: { provider: 'sqlLike' },
      id: 'aid',
      setupPassword: m.setupPassword,
    });
  });

  it('adds allowedPrivateNetworks only when the model has them', () => {
    expect(renderMisskeyConfig(testModel())).not.toMatch(/allowedPrivateNetworks/);
    const m = testModel({ allowedPrivateNetworks: ['192.168.1.0/24', 'fd00:1::/64'] });
    expect(parse(renderMisskeyConfig(m)).allowedPrivateNetworks).toEqual(['192.168.1.0/24', 'fd00:1::/64']);
  });

  it('keeps an existing id', () => {
    expect(parse(renderMisskeyConfig(testModel({ id: 'aidx' }))).id).toBe('aidx');
  });
});

describe('docker.env', () => {
  it('is three plain KEY=value lines after a comment', () => {
    const m = testModel({ db: { name: 'mk', user: 'mkuser', password: 'p'.repeat(20) } });
    const lines = renderDockerEnv(m).split('\n');
    expect(lines[0]).toMatch(/^# /);
    expect(lines.slice(1)).toEqual([`POSTGRES_PASSWORD=${'p'.repeat(20)}`, 'POSTGRES_USER=mkuser', 'POSTGRES_DB=mk', '']);
  });
});

describe('parseExistingConfig', () => {
  it('reads the guide-style file', () => {
    expect(parseExistingConfig(GUIDE_CONFIG)).toEqual({
      url: 'https://misskey.example.com/',
      id: 'aid',
      dbPassword: 'Guide-Written-Pass_2022',
      dbUser: 'misskey',
      dbName: 'misskey',
    });
  });

  it('reads back what we write', () => {
    const m = testModel({ id: 'aidx' });
    expect(parseExistingConfig(renderMisskeyConfig(m))).toEqual({
      url: 'https://misskey.example.com',
      id: 'aidx',
      dbPassword: m.db.password,
      dbUser: 'misskey',
      dbName: 'misskey',
      setupPassword: m.setupPassword,
    });
  });

  it('refuses broken or incomplete files with INVALID_ARGUMENT', () => {
    expect(appError(() => parseExistingConfig('url: [')).code).toBe('INVALID_ARGUMENT');
    expect(appError(() => parseExistingConfig('')).code).toBe('INVALID_ARGUMENT');
    const e = appError(() => parseExistingConfig('url: https://a.example.com\nid: aid\ndb: {db: misskey, user: misskey}\n'));
    expect(e.message).toMatch(/db\.pass/);
  });
});

describe('mergeWithExisting: running setup again never changes url, id or the database credentials', () => {
  it('a re-run with fresh secrets writes byte-identical default.yml and docker.env', () => {
    const first = testModel({ allowedPrivateNetworks: ['192.168.1.0/24'] });
    const again = testModel({ allowedPrivateNetworks: ['192.168.1.0/24'] }); // new random secrets
    expect(again.db.password).not.toBe(first.db.password);
    const merged = mergeWithExisting(again, parseExistingConfig(renderMisskeyConfig(first)));
    expect(renderMisskeyConfig(merged)).toBe(renderMisskeyConfig(first));
    expect(renderDockerEnv(merged)).toBe(renderDockerEnv(first));
  });

  it("keeps the guide install's password, user, db name and id", () => {
    const merged = mergeWithExisting(
      testModel(),
      parseExistingConfig(GUIDE_CONFIG.replace("'aid'", 'aidx').replace('user: misskey', 'user: example-misskey-user')),
    );
    expect(merged.db).toEqual({ name: 'misskey', user: 'example-misskey-user', password: 'Guide-Written-Pass_2022' });
    expect(merged.id).toBe('aidx');
    expect(parse(renderMisskeyConfig(merged)).url).toBe('https://misskey.example.com');
  });

  it('keeps an existing setupPassword, and adds one where there was none', () => {
    const m = testModel();
    expect(mergeWithExisting(m, parseExistingConfig(GUIDE_CONFIG)).setupPassword).toBe(m.setupPassword);
    const withOne = parseExistingConfig(`${GUIDE_CONFIG}setupPassword: Existing-Setup-Pass\n`);
    expect(mergeWithExisting(m, withOne).setupPassword).toBe('Existing-Setup-Pass');
  });

  it('refuses another domain', () => {
    const e = appError(() => mergeWithExisting(testModel({ domain: 'other.example.com' }), parseExistingConfig(GUIDE_CONFIG)));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/already runs the instance https:\/\/misskey\.example\.com\/.*can never change/);
    expect(e.details).toMatchObject({ field: 'domain' });
  });

  it('refuses another id, but an unset id takes the existing one', () => {
    const e = appError(() => mergeWithExisting(testModel({ id: 'aidx' }), parseExistingConfig(GUIDE_CONFIG)));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/"aid".*can never change/);
    expect(e.details).toMatchObject({ field: 'id', existing: 'aid', requested: 'aidx' });
    expect(mergeWithExisting(testModel({ id: 'aid' }), parseExistingConfig(GUIDE_CONFIG)).id).toBe('aid');
    expect(mergeWithExisting(testModel(), parseExistingConfig(GUIDE_CONFIG.replace("'aid'", 'meid'))).id).toBe('meid');
  });

  it('refuses an unknown existing id and credentials it cannot write back safely', () => {
    expect(appError(() => mergeWithExisting(testModel(), parseExistingConfig(GUIDE_CONFIG.replace("'aid'", 'custom')))).message).toMatch(
      /custom/,
    );
    const quoted = GUIDE_CONFIG.replace('pass: Guide-Written-Pass_2022', 'pass: "pa ss$word#1"');
    const e = appError(() => mergeWithExisting(testModel(), parseExistingConfig(quoted)));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/dbPassword/);
  });

  it('compares origins, not strings', () => {
    expect(sameOrigin('https://misskey.example.com/', 'https://misskey.example.com')).toBe(true);
    expect(sameOrigin('https://Misskey.Example.com', 'https://misskey.example.com')).toBe(true);
    expect(sameOrigin('http://misskey.example.com', 'https://misskey.example.com')).toBe(false);
    expect(sameOrigin('https://misskey.example.com:8443', 'https://misskey.example.com')).toBe(false);
    expect(sameOrigin('not a url', 'https://misskey.example.com')).toBe(false);
  });
});
