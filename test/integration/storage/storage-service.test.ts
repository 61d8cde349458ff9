import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppError } from '../../../src-main/shared/errors';
import { StorageService } from '../../../src-main/services/storage/storage-service';
import { SessionStore } from '../../../src-main/services/vault/session-store';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { uniqueName } from '../lab/lab-ssh';

const PROFILE = 'lab-profile';

/**
 * Test double, named as one: a deserialize-step middleware (inside the service's Date recorder) that rewrites the storage's `Date`
 * response header to `offsetMs` away from the real time, as a storage with a skewed clock (or a
 * desktop with a wrong one) would look. s3rver itself always sends the host's time.
 */
function skewedDateDouble(offsetMs: number) {
  return (client: S3Client): void => {
    client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const res = out.response as { headers?: Record<string, string> };
        if (res.headers) res.headers.date = new Date(Date.now() + offsetMs).toUTCString();
        return out;
      },
      { step: 'deserialize', name: 'testDoubleSkewedDate', priority: 'low' },
    );
  };
}

async function expectCode(p: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect((e as AppError).code).toBe(code);
    return e as AppError;
  }
  throw new Error(`expected ${code}, got success`);
}

describe('storage service against the lab s3rver', () => {
  let env: LabEnv;
  let admin: S3Client;
  let dataDir: string;
  const bucket = uniqueName('ohst');
  const base = () => ({
    profileId: PROFILE,
    preset: 'minio' as const,
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    bucket,
    prefix: 'ohitori/',
    forcePathStyle: true,
    desktopAccessKeyId: env.s3.accessKeyId,
    desktopSecret: env.s3.secretAccessKey,
  });
  const service = (opts: Partial<ConstructorParameters<typeof StorageService>[0]> = {}) =>
    new StorageService({ dataDir, secrets, profileExists: async (id) => id === PROFILE, requestTimeoutMs: 5_000, ...opts });
  const secrets = new SessionStore();

  beforeAll(async () => {
    env = loadLabEnv();
    dataDir = await mkdtemp(join(tmpdir(), 'ohitori-storage-'));
    admin = new S3Client({
      endpoint: env.s3.endpoint,
      region: env.s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
    });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    if (admin) {
      await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      admin.destroy();
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('saves settings with the secrets in the secret store only, and refuses an unknown profile', async () => {
    const s = service();
    const view = await s.save({
      ...base(),
      desktopSecret: 'desktop-secret-value',
      serverAccessKeyId: env.s3.accessKeyId,
      serverSecret: 'server-secret-value',
    });
    expect(view).toMatchObject({ bucket, hasDesktopSecret: true, hasServerSecret: true, insecure: true });
    expect(JSON.stringify(view)).not.toMatch(/desktop-secret-value|server-secret-value/);
    const file = await readFile(join(dataDir, 'storage.json'), 'utf8');
    expect(file).not.toContain('desktop-secret-value');
    expect(file).not.toContain('server-secret-value');
    expect(file).not.toMatch(/secret/i);
    expect((await secrets.get(`profile:${PROFILE}:s3-server`))?.toString()).toBe('server-secret-value');
    // Absent secret keeps the saved one; no server key id removes the server secret.
    const again = await s.save({ ...base(), desktopSecret: undefined });
    expect(again).toMatchObject({ hasDesktopSecret: true, hasServerSecret: false });
    expect(await secrets.get(`profile:${PROFILE}:s3-server`)).toBeUndefined();
    await expectCode(s.save({ ...base(), profileId: 'nope' }), 'NOT_FOUND');
  });

  it('the connection test passes every step on a fresh bucket and leaves no probe object', async () => {
    const s = service();
    await s.save({ ...base(), serverAccessKeyId: env.s3.accessKeyId, serverSecret: env.s3.secretAccessKey });
    const steps: string[] = [];
    const result = await s.test(PROFILE, { progress: (p) => steps.push(p.step) });
    expect(result.steps.map((x) => [x.step, x.outcome])).toEqual([
      ['head-bucket', 'ok'],
      ['list', 'ok'],
      ['put', 'ok'],
      ['get', 'ok'],
      ['delete', 'ok'],
      ['server-put', 'ok'],
      // s3rver has no policies: the same key can delete, which the test reports as a warning.
      ['server-delete', 'allowed'],
    ]);
    expect(result.serverCanDelete).toBe(true);
    expect(Math.abs(result.clockSkewMs ?? 0)).toBeLessThan(5 * 60 * 1000);
    expect(steps).toContain('storage.steps.head-bucket');
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('a missing bucket → STORAGE_BUCKET_MISSING, with the steps so far', async () => {
    const s = service();
    await s.save({ ...base(), bucket: uniqueName('ohmissing') });
    const e = await expectCode(s.test(PROFILE), 'STORAGE_BUCKET_MISSING');
    expect(e.details?.steps).toEqual([expect.objectContaining({ step: 'head-bucket', outcome: 'failed', code: 'STORAGE_BUCKET_MISSING' })]);
  });

  it('an unknown access key id → STORAGE_AUTH_FAILED (s3rver checks only the key id, not the signature)', async () => {
    const s = service();
    await s.save({ ...base(), desktopAccessKeyId: 'NOSUCHKEY123' });
    await expectCode(s.test(PROFILE), 'STORAGE_AUTH_FAILED');
  });

  it('a closed port on 127.0.0.1 → STORAGE_UNREACHABLE', async () => {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const s = service();
    await s.save({ ...base(), endpoint: `http://127.0.0.1:${port}` });
    await expectCode(s.test(PROFILE), 'STORAGE_UNREACHABLE');
  });

  it('a self-signed certificate → STORAGE_TLS', async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dataDir, 'tls.key'),
        '-out',
        join(dataDir, 'tls.crt'),
      ],
      { stdio: 'ignore' },
    );
    const srv = createHttpsServer(
      { key: await readFile(join(dataDir, 'tls.key')), cert: await readFile(join(dataDir, 'tls.crt')) },
      (_q, r) => {
        r.writeHead(200).end();
      },
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const s = service();
      await s.save({ ...base(), endpoint: `https://127.0.0.1:${(srv.address() as { port: number }).port}` });
      const e = await expectCode(s.test(PROFILE), 'STORAGE_TLS');
      expect(e.details?.errno).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });

  it('a storage Date 10 minutes away (test double) → STORAGE_CLOCK_SKEW; 2 minutes is fine', async () => {
    await service().save(base());
    const e = await expectCode(service({ configureClient: skewedDateDouble(10 * 60 * 1000) }).test(PROFILE), 'STORAGE_CLOCK_SKEW');
    expect(e.details?.skewSeconds).toBeGreaterThan(590);
    const ok = await service({ configureClient: skewedDateDouble(-2 * 60 * 1000) }).test(PROFILE);
    expect(ok.clockSkewMs).toBeLessThan(-110_000);
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('a put-only server key (test double) is reported as such, and the desktop key removes its probe', async () => {
    await service().save({ ...base(), serverAccessKeyId: env.s3.accessKeyId, serverSecret: env.s3.secretAccessKey });
    /**
     * Test double, named as one: s3rver has no policies, so on the server's client an initialize-step
     * middleware answers DeleteObject the way a put-only policy does (403 AccessDenied) without sending it.
     */
    const putOnlyPolicyDouble = (client: S3Client, who: 'desktop' | 'server'): void => {
      if (who !== 'server') return;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'DeleteObjectCommand')
            throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
          return next(args);
        },
        { step: 'initialize', name: 'testDoublePutOnlyPolicy' },
      );
    };
    const result = await service({ configureClient: putOnlyPolicyDouble }).test(PROFILE);
    expect(result.serverCanDelete).toBe(false);
    expect(result.steps.at(-1)).toEqual({ step: 'server-delete', outcome: 'denied' });
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('cancelling stops with CANCELLED', async () => {
    await service().save(base());
    const c = new AbortController();
    c.abort();
    await expectCode(service().test(PROFILE, { signal: c.signal }), 'CANCELLED');
  });

  it('deleting the server profile’s storage removes the settings and both secrets', async () => {
    const s = service();
    await s.save({ ...base(), serverAccessKeyId: env.s3.accessKeyId, serverSecret: 'x-server-secret' });
    expect(await s.delete(PROFILE)).toBe(true);
    expect(await s.get(PROFILE)).toBeNull();
    expect(await secrets.get(`profile:${PROFILE}:s3-desktop`)).toBeUndefined();
    expect(await secrets.get(`profile:${PROFILE}:s3-server`)).toBeUndefined();
    await expectCode(s.test(PROFILE), 'NOT_FOUND');
  });
});
