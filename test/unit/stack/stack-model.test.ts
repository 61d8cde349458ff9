import { describe, expect, it } from 'vitest';
import {
  DEFAULT_IMAGES,
  StackModelSchema,
  imageMajor,
  isCidr,
  newSecrets,
  randomAlnum,
  type StackModelInput,
} from '../../../src-main/services/stack/stack-model';
import { testModel } from './model-fixture';

const base = (): StackModelInput => ({ domain: 'misskey.example.com', db: { password: 'a'.repeat(32) }, setupPassword: 'b'.repeat(32) });
const parse = (over: Partial<StackModelInput>) => StackModelSchema.safeParse({ ...base(), ...over });
const messages = (r: ReturnType<typeof parse>): string =>
  r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');

describe('stack model', () => {
  it('fills the defaults the guide and misskey.md call for', () => {
    const m = StackModelSchema.parse(base());
    expect(m.stackDir).toBe('/var/servers/docker/misskey');
    expect(m.webPort).toBe(3000);
    expect(m.images).toEqual({ misskey: 'misskey/misskey:2026.5.4', postgres: 'postgres:15-alpine', redis: 'redis:7-alpine' });
    expect(m.firewalld).toBe(false);
    expect(m.db).toEqual({ name: 'misskey', user: 'misskey', password: 'a'.repeat(32) });
    expect(m.id).toBeUndefined();
    expect(m.allowedPrivateNetworks).toBeUndefined();
    expect(m.caddy).toEqual({
      tls: 'acme',
      restrictSignIn: false,
      signInAllowedRanges: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '::1/128', 'fc00::/7'],
      accessLog: { dir: '/var/log/caddy', rollSizeMb: 1, rollKeep: 5, keepForHours: 720 },
    });
    expect(m.systemd).toBe(true);
  });

  it('lower-cases the domain', () => {
    expect(StackModelSchema.parse({ ...base(), domain: 'Misskey.Example.COM' }).domain).toBe('misskey.example.com');
  });

  it.each([
    'misskey.example.com"',
    'misskey.example.com\nevil.example.com {',
    'misskey.example.com}',
    'misskey.example.com {',
    'misskey example.com',
    ' misskey.example.com',
    'misskey.example.com:443',
    'https://misskey.example.com',
    'misskey.example.com/path',
    '{$HOME}.example.com',
    "misskey.example.com'",
    'localhost',
    '192.168.1.10',
    '-bad.example.com',
    'misskey..example.com',
    'みすきー.example.com',
    '',
  ])('refuses the hostile or unusable domain %j', (domain) => {
    const r = parse({ domain });
    expect(r.success).toBe(false);
    expect(messages(r)).toMatch(/^domain:/);
  });

  it.each([
    '/var/servers/docker/../../etc',
    '/var/servers/./docker',
    '/var/servers/..',
    'var/servers/docker/misskey',
    '/var/servers/docker/misskey/',
    '/',
    '/var/my servers',
    '/var/servers/$HOME',
    '/var/servers/"x"',
    '/var/servers\n/x',
    '/var//servers',
    '/var/servers/{x}',
  ])('refuses the stack dir %j', (stackDir) => {
    const r = parse({ stackDir });
    expect(r.success).toBe(false);
    expect(messages(r)).toMatch(/^stackDir:/);
  });

  it('accepts an ordinary stack dir', () => {
    expect(parse({ stackDir: '/srv/misskey-2.home_a' }).success).toBe(true);
  });

  it.each([
    ['postgres:latest', /pin a PostgreSQL major/],
    ['postgres', /explicit tag/],
    ['postgres:alpine', /pin a PostgreSQL major/],
    ['postgres:18-alpine', /postgres 18\+ images refuse a data mount at \/var\/lib\/postgresql\/data/],
    ['postgres:18.1', /\/var\/lib\/postgresql/],
    ['postgres:19', /dump and restore/],
    ['postgres:14.6', /PostgreSQL 15 or newer/],
    ['mysql:8', /must be postgres/],
    ['postgres:15 ; rm -rf /', /explicit tag/],
  ])('refuses the db image %s', (postgres, why) => {
    const r = parse({ images: { postgres } });
    expect(r.success).toBe(false);
    expect(messages(r)).toMatch(why);
  });

  it.each(['postgres:15-alpine', 'postgres:16.4-bookworm', 'postgres:17', '10.231.0.1:5000/library/postgres:15-alpine'])(
    'accepts the pinned db image %s',
    (postgres) => {
      expect(parse({ images: { postgres } }).success).toBe(true);
    },
  );

  it.each(['redis:latest', 'redis', 'redis:6-alpine', 'redis:alpine'])('refuses the redis image %s', (redis) => {
    expect(parse({ images: { redis } }).success).toBe(false);
  });

  it('requires an explicit misskey tag', () => {
    expect(parse({ images: { misskey: 'misskey/misskey' } }).success).toBe(false);
    expect(parse({ images: { misskey: 'misskey/misskey:2025.12.2' } }).success).toBe(true);
    expect(StackModelSchema.parse({ ...base(), images: { misskey: 'misskey/misskey:2025.12.2' } }).images.postgres).toBe(
      DEFAULT_IMAGES.postgres,
    );
  });

  it('reads image majors', () => {
    expect(imageMajor('postgres:15-alpine')).toBe(15);
    expect(imageMajor('postgres:16.4')).toBe(16);
    expect(imageMajor('10.0.0.1:5000/postgres:17')).toBe(17);
    expect(imageMajor('postgres:latest')).toBeUndefined();
  });

  it('validates CIDRs', () => {
    for (const c of ['192.168.1.0/24', '10.0.0.0/8', 'fd00::/8', '::1/128', '127.0.0.1/32']) expect([c, isCidr(c)]).toEqual([c, true]);
    for (const c of ['192.168.1.0', '192.168.1.0/33', '300.1.1.1/8', 'fd00::/129', '10.0.0.0/8 ', 'x/8', '192.168.1.0/24"'])
      expect([c, isCidr(c)]).toEqual([c, false]);
  });

  it('allowedPrivateNetworks: narrow CIDRs only, absent rather than empty', () => {
    expect(parse({ allowedPrivateNetworks: ['192.168.1.0/24', '127.0.0.1/32'] }).success).toBe(true);
    expect(parse({ allowedPrivateNetworks: [] }).success).toBe(false);
    expect(parse({ allowedPrivateNetworks: ['0.0.0.0/0'] }).success).toBe(false);
    expect(parse({ allowedPrivateNetworks: ['::/0'] }).success).toBe(false);
    expect(parse({ allowedPrivateNetworks: ['192.168.1.10'] }).success).toBe(false);
    expect(parse({ allowedPrivateNetworks: ["192.168.1.0/24'\n- x"] }).success).toBe(false);
  });

  it('caddy settings: e-mail and ranges are checked', () => {
    expect(parse({ caddy: { email: 'admin@example.com' } }).success).toBe(true);
    expect(parse({ caddy: { email: 'admin@example.com {' } }).success).toBe(false);
    expect(parse({ caddy: { email: 'a"b@example.com' } }).success).toBe(false);
    expect(parse({ caddy: { signInAllowedRanges: ['10.0.0.0/8', 'not-a-range'] } }).success).toBe(false);
    expect(parse({ caddy: { accessLog: { dir: '/var/log/../etc' } } }).success).toBe(false);
    expect(parse({ caddy: { accessLog: { rollSizeMb: 0 } } }).success).toBe(false);
  });

  it('refuses secrets that would need quoting, or are short', () => {
    for (const password of [
      'short',
      'has space in it!',
      'quote"inside-it',
      "quote'inside-it",
      'dollar$HOME-xyz',
      'hash#comment-xyz',
      'new\nline-password',
    ]) {
      expect([password, parse({ db: { password } }).success]).toEqual([password, false]);
      expect([password, parse({ setupPassword: password }).success]).toEqual([password, false]);
    }
  });

  it('refuses an unknown id generator and ports below 1024', () => {
    expect(parse({ id: 'uuid' as never }).success).toBe(false);
    expect(parse({ id: 'aidx' }).success).toBe(true);
    expect(parse({ webPort: 80 }).success).toBe(false);
  });

  it('newSecrets: 32 alphanumerics each, different every time, valid for the schema', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const s = newSecrets();
      expect(s.dbPassword).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(s.setupPassword).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(s.dbPassword).not.toBe(s.setupPassword);
      seen.add(s.dbPassword);
      seen.add(s.setupPassword);
      expect(parse({ db: { password: s.dbPassword }, setupPassword: s.setupPassword }).success).toBe(true);
    }
    expect(seen.size).toBe(100);
  });

  it('randomAlnum uses the whole alphabet', () => {
    const chars = new Set(randomAlnum(20_000));
    expect(chars.size).toBe(62);
  });

  it('the parsed model is frozen', () => {
    const m = testModel();
    expect(Object.isFrozen(m)).toBe(true);
  });
});
