import { describe, expect, it } from 'vitest';
import { schemas } from '../../../src-main/shared/contract';
import { checkEndpoint, isPrivateOrLoopbackHost, STORAGE_PRESET_INFO } from '../../../src-main/shared/storage';

const base = {
  profileId: 'p1',
  preset: 'minio' as const,
  endpoint: 'https://minio.example.com:9000',
  region: 'us-east-1',
  bucket: 'backups',
  prefix: 'ohitori/',
  forcePathStyle: true,
  desktopAccessKeyId: 'DESKTOPKEY',
  desktopSecret: 'secret-secret',
};
const parse = (over: Record<string, unknown>) => schemas['storage:save'].safeParse({ ...base, ...over });

describe('storage endpoint rule', () => {
  it('accepts https and refuses other schemes, paths, credentials and unfilled templates', () => {
    expect(checkEndpoint('https://s3.eu-central-1.amazonaws.com')).toEqual({ ok: true, insecure: false });
    expect(checkEndpoint('https://abc.r2.cloudflarestorage.com/')).toEqual({ ok: true, insecure: false });
    expect(checkEndpoint('ftp://example.com')).toEqual({ ok: false, reason: 'scheme' });
    expect(checkEndpoint('https://example.com/bucket')).toEqual({ ok: false, reason: 'has-path' });
    expect(checkEndpoint('https://example.com/?x=1')).toEqual({ ok: false, reason: 'has-path' });
    expect(checkEndpoint('https://u:p@example.com')).toEqual({ ok: false, reason: 'has-credentials' });
    expect(checkEndpoint(STORAGE_PRESET_INFO.r2.endpointTemplate)).toEqual({ ok: false, reason: 'template' });
    expect(checkEndpoint('not a url')).toEqual({ ok: false, reason: 'not-a-url' });
  });

  it('allows plain http only to loopback and private addresses, flagged insecure', () => {
    for (const ok of [
      'http://127.0.0.1:9000',
      'http://localhost:9000',
      'http://10.231.0.1:9000',
      'http://192.168.1.20:9000',
      'http://172.20.0.5',
      'http://[::1]:9000',
      'http://nas.local:9000',
      'http://[fd00::1]:9000',
    ]) {
      expect(checkEndpoint(ok), ok).toEqual({ ok: true, insecure: true });
    }
    for (const bad of ['http://s3.amazonaws.com', 'http://8.8.8.8:9000', 'http://172.32.0.1', 'http://[2001:db8::1]']) {
      expect(checkEndpoint(bad), bad).toEqual({ ok: false, reason: 'http-public' });
    }
    expect(isPrivateOrLoopbackHost('100.64.0.1')).toBe(true);
    expect(isPrivateOrLoopbackHost('example.com')).toBe(false);
  });
});

describe('storage:save schema', () => {
  it('accepts the base input and trims a trailing slash from the endpoint', () => {
    const r = parse({ endpoint: 'https://minio.example.com:9000/' });
    expect(r.success).toBe(true);
    expect(r.data?.endpoint).toBe('https://minio.example.com:9000');
  });

  it('refuses bad buckets, prefixes, regions and endpoints with the failing path', () => {
    const bad: Array<[string, unknown]> = [
      ['bucket', 'Bad_Bucket'],
      ['bucket', 'ab'],
      ['prefix', '/ohitori/'],
      ['prefix', 'ohitori'],
      ['prefix', '../x/'],
      ['region', 'US East'],
      ['endpoint', 'http://public.example.com'],
      ['desktopAccessKeyId', 'a b'],
    ];
    for (const [field, value] of bad) {
      const r = parse({ [field]: value });
      expect(r.success, `${field}=${String(value)}`).toBe(false);
      expect(r.error?.issues[0]?.path[0]).toBe(field);
    }
    expect(parse({ prefix: '' }).success).toBe(true);
    expect(parse({ prefix: 'a/b-c/' }).success).toBe(true);
    expect(parse({ extra: 1 }).success).toBe(false);
  });

  it('treats secrets as absent (keep), null (remove) or a value', () => {
    expect(parse({ desktopSecret: undefined }).success).toBe(true);
    expect(parse({ desktopSecret: null, serverAccessKeyId: null, serverSecret: null }).success).toBe(true);
    expect(parse({ desktopSecret: '' }).success).toBe(false);
  });
});

describe('storage presets', () => {
  it('R2: auto region, path style; MinIO: us-east-1, path style; AWS: virtual-host style', () => {
    expect(STORAGE_PRESET_INFO.r2).toMatchObject({
      region: 'auto',
      forcePathStyle: true,
      endpointTemplate: 'https://<accountid>.r2.cloudflarestorage.com',
    });
    expect(STORAGE_PRESET_INFO.minio).toMatchObject({ region: 'us-east-1', forcePathStyle: true });
    expect(STORAGE_PRESET_INFO.aws).toMatchObject({ forcePathStyle: false, endpointTemplate: 'https://s3.<region>.amazonaws.com' });
    // A filled-in template passes the endpoint rule.
    for (const p of Object.values(STORAGE_PRESET_INFO)) {
      const filled = p.endpointTemplate
        .replace('<accountid>', 'abc123')
        .replace('<region>', 'eu-west-1')
        .replace('<host>', 'nas.example.com');
      if (p.id !== 'custom') expect(checkEndpoint(filled).ok, filled).toBe(true);
    }
  });
});
