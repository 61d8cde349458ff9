import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { ParsedArgs } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { Progress } from '../../shared/progress';
import {
  checkEndpoint,
  STORAGE_PRESETS,
  type StorageStepResult,
  type StorageTestResult,
  type StorageTestStep,
  type StorageView,
} from '../../shared/storage';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';
import type { SecretStore } from '../vault/secret-store';
import { assertClockSkew, clockSkewMs, mapStorageError, type StorageOp } from './storage-errors';

const stored = z.object({
  profileId: z.string(),
  preset: z.enum(STORAGE_PRESETS),
  endpoint: z.string(),
  region: z.string(),
  bucket: z.string(),
  prefix: z.string(),
  forcePathStyle: z.boolean(),
  desktopAccessKeyId: z.string(),
  serverAccessKeyId: z.string().optional(),
  updatedAt: z.string(),
});
type StoredStorage = z.infer<typeof stored>;

/** Secret-store entry names of a profile's secret access keys. */
export const storageSecretName = (profileId: string, who: 'desktop' | 'server'): string => `profile:${profileId}:s3-${who}`;

/** Per request: the job's signal plus this timeout. */
export const STORAGE_REQUEST_TIMEOUT_MS = 15_000;

export interface StorageCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface StorageServiceOptions {
  readonly dataDir: string;
  readonly secrets: SecretStore;
  /** Returns whether the server profile exists (the storage settings belong to one). */
  readonly profileExists: (profileId: string) => Promise<boolean>;
  /** Test hook: adds middleware to each client (e.g. a named test double that skews `Date`). */
  readonly configureClient?: (client: S3Client, who: 'desktop' | 'server') => void;
  readonly requestTimeoutMs?: number;
}

/** What the connection test reports as it goes. */
export interface StorageTestHooks {
  readonly signal?: AbortSignal;
  readonly progress?: (p: Progress) => void;
  readonly log?: (line: string) => void;
}

/** Builds an S3 client for these settings: path style from the profile, small retries, checksums only where required. */
export function createStorageClient(
  s: Pick<StoredStorage, 'endpoint' | 'region' | 'forcePathStyle'>,
  creds: StorageCredentials,
  timeoutMs = STORAGE_REQUEST_TIMEOUT_MS,
): { client: S3Client; lastDate: () => string | undefined } {
  const client = new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    maxAttempts: 2,
    // R2 and older MinIO reject the newer default CRC checksums on some calls; s3rver is fine with both.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: Math.min(5_000, timeoutMs), requestTimeout: timeoutMs },
  });
  let last: string | undefined;
  // Records the storage's `Date` header of every response (also error responses) for the clock check.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const out = await next(args);
        const res = out.response as { headers?: Record<string, string> } | undefined;
        last = res?.headers?.date ?? last;
        return out;
      } catch (e) {
        const res = (e as { $response?: { headers?: Record<string, string> } }).$response;
        last = res?.headers?.date ?? last;
        throw e;
      }
    },
    { step: 'deserialize', name: 'ohitoriRecordDate', priority: 'high' },
  );
  return { client, lastDate: () => last };
}

/**
 * Object storage settings per server profile, in `<dataDir>/storage.json` (no secrets in it); the
 * two secret access keys (desktop, server) go to the secret store. Also runs the connection test.
 */
export class StorageService {
  private readonly path: string;
  constructor(private readonly opts: StorageServiceOptions) {
    this.path = join(opts.dataDir, 'storage.json');
  }

  private async readAll(): Promise<StoredStorage[]> {
    const raw = await readJsonFile(this.path);
    const parsed = z.array(stored).safeParse(raw ?? []);
    if (!parsed.success) throw new AppError('INTERNAL', 'storage.json is damaged', { path: this.path });
    return parsed.data;
  }

  private async hasSecret(profileId: string, who: 'desktop' | 'server'): Promise<boolean> {
    return this.opts.secrets.isUnlocked() ? (await this.opts.secrets.get(storageSecretName(profileId, who))) !== undefined : false;
  }

  private async present(s: StoredStorage): Promise<StorageView> {
    const check = checkEndpoint(s.endpoint);
    return {
      ...s,
      hasDesktopSecret: await this.hasSecret(s.profileId, 'desktop'),
      hasServerSecret: await this.hasSecret(s.profileId, 'server'),
      insecure: check.ok && check.insecure,
    };
  }

  async get(profileId: string): Promise<StorageView | null> {
    const s = (await this.readAll()).find((x) => x.profileId === profileId);
    return s ? this.present(s) : null;
  }

  async save(input: ParsedArgs<'storage:save'>): Promise<StorageView> {
    if (!(await this.opts.profileExists(input.profileId))) throw new AppError('NOT_FOUND', `No server profile ${input.profileId}`);
    const { desktopSecret, serverSecret, serverAccessKeyId, ...fields } = input;
    if ((desktopSecret !== undefined || serverSecret !== undefined) && !this.opts.secrets.isUnlocked())
      throw new AppError('VAULT_LOCKED', 'Unlock the secret store first');
    const all = await this.readAll();
    const next: StoredStorage = {
      ...fields,
      ...(serverAccessKeyId ? { serverAccessKeyId } : {}),
      updatedAt: new Date().toISOString(),
    };
    const secrets = this.opts.secrets;
    if (desktopSecret === null) await secrets.delete(storageSecretName(input.profileId, 'desktop'));
    else if (desktopSecret !== undefined)
      await secrets.set(storageSecretName(input.profileId, 'desktop'), Buffer.from(desktopSecret, 'utf8'));
    // No server key id means no server key: its secret goes too.
    if (serverSecret === null || !serverAccessKeyId) await secrets.delete(storageSecretName(input.profileId, 'server'));
    else if (serverSecret !== undefined) await secrets.set(storageSecretName(input.profileId, 'server'), Buffer.from(serverSecret, 'utf8'));
    await writeJsonFile(this.path, [...all.filter((x) => x.profileId !== input.profileId), next]);
    return this.present(next);
  }

  /** Removes a profile's storage settings and both secrets (when its server profile is deleted). */
  async delete(profileId: string): Promise<boolean> {
    const all = await this.readAll();
    const next = all.filter((x) => x.profileId !== profileId);
    if (next.length !== all.length) await writeJsonFile(this.path, next);
    if (this.opts.secrets.isUnlocked()) {
      await this.opts.secrets.delete(storageSecretName(profileId, 'desktop'));
      await this.opts.secrets.delete(storageSecretName(profileId, 'server'));
    }
    return next.length !== all.length;
  }

  /**
   * What the backup job on the server needs: the location and the SERVER key (never the desktop's).
   * Refuses when no server key is saved, so a desktop key never ends up on a server.
   */
  async serverSettings(profileId: string): Promise<{
    endpoint: string;
    region: string;
    bucket: string;
    prefix: string;
    forcePathStyle: boolean;
    credentials: StorageCredentials;
  }> {
    const s = (await this.readAll()).find((x) => x.profileId === profileId);
    if (!s) throw new AppError('NOT_FOUND', 'No storage settings for this server yet', { missing: 'storage' });
    const server = await this.credentials(profileId, 'server', s.serverAccessKeyId);
    if (!server) throw new AppError('STORAGE_AUTH_FAILED', 'No server access key is saved for this server', { missing: 'server-secret' });
    return {
      endpoint: s.endpoint,
      region: s.region,
      bucket: s.bucket,
      prefix: s.prefix,
      forcePathStyle: s.forcePathStyle,
      credentials: server,
    };
  }

  /** An S3 client with THIS computer's key for a profile's bucket (listing, reading, retention). */
  async desktopClient(profileId: string): Promise<{ client: S3Client; bucket: string; prefix: string }> {
    const s = (await this.readAll()).find((x) => x.profileId === profileId);
    if (!s) throw new AppError('NOT_FOUND', 'No storage settings for this server yet', { missing: 'storage' });
    const creds = await this.credentials(profileId, 'desktop', s.desktopAccessKeyId);
    if (!creds) throw new AppError('STORAGE_AUTH_FAILED', 'No desktop secret access key is saved', { missing: 'desktop-secret' });
    const { client } = createStorageClient(s, creds, 120_000);
    return { client, bucket: s.bucket, prefix: s.prefix };
  }

  private async credentials(
    profileId: string,
    who: 'desktop' | 'server',
    keyId: string | undefined,
  ): Promise<StorageCredentials | undefined> {
    if (!keyId) return undefined;
    if (!this.opts.secrets.isUnlocked()) throw new AppError('VAULT_LOCKED', 'Unlock the secret store first');
    const secret = await this.opts.secrets.get(storageSecretName(profileId, who));
    return secret ? { accessKeyId: keyId, secretAccessKey: secret.toString('utf8') } : undefined;
  }

  /**
   * The connection test, with the desktop key: HeadBucket, ListObjectsV2 on the prefix, PutObject of
   * a probe under `<prefix>.ohitori-probe-<random>`, GetObject and compare, DeleteObject. Then, when a
   * server key is saved: PutObject with it, and DeleteObject with it — which a put-only key should
   * be refused; the desktop key removes the probe either way. Each step is reported; the first
   * failure of the desktop part ends the test with its error (its `details.steps` says how far it got).
   */
  async test(profileId: string, hooks: StorageTestHooks = {}): Promise<StorageTestResult> {
    const s = (await this.readAll()).find((x) => x.profileId === profileId);
    if (!s) throw new AppError('NOT_FOUND', 'No storage settings for this server yet');
    const desktop = await this.credentials(profileId, 'desktop', s.desktopAccessKeyId);
    if (!desktop) throw new AppError('STORAGE_AUTH_FAILED', 'No desktop secret access key is saved', { missing: 'desktop-secret' });
    const server = await this.credentials(profileId, 'server', s.serverAccessKeyId);
    const timeout = this.opts.requestTimeoutMs ?? STORAGE_REQUEST_TIMEOUT_MS;
    const steps: StorageStepResult[] = [];
    const total = server ? 7 : 5;
    let skew: number | undefined;

    const d = createStorageClient(s, desktop, timeout);
    this.opts.configureClient?.(d.client, 'desktop');
    const sv = server ? createStorageClient(s, server, timeout) : undefined;
    if (sv) this.opts.configureClient?.(sv.client, 'server');

    const run = async <T>(
      step: StorageTestStep,
      op: StorageOp,
      c: ReturnType<typeof createStorageClient>,
      f: (signal: AbortSignal) => Promise<T>,
    ): Promise<T> => {
      if (hooks.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
      hooks.progress?.({ step: `storage.steps.${step}`, fraction: steps.length / total });
      const started = Date.now();
      const signal = hooks.signal ? AbortSignal.any([hooks.signal, AbortSignal.timeout(timeout)]) : AbortSignal.timeout(timeout);
      try {
        const out = await f(signal);
        skew = clockSkewMs(c.lastDate()) ?? skew;
        assertClockSkew(skew);
        steps.push({ step, outcome: 'ok', ms: Date.now() - started });
        hooks.log?.(`${step}: ok`);
        return out;
      } catch (e) {
        if (hooks.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
        const err = mapStorageError(e, op);
        // A skewed clock also makes signatures fail: say the cause, not the symptom.
        const sk = clockSkewMs(c.lastDate());
        const final =
          err.code !== 'STORAGE_CLOCK_SKEW' && sk !== undefined && Math.abs(sk) > 5 * 60 * 1000 ? (assertSkewError(sk) ?? err) : err;
        steps.push({ step, outcome: 'failed', code: final.code, ms: Date.now() - started });
        hooks.log?.(`${step}: ${final.code} ${String(final.details?.name ?? '')}`);
        throw final;
      }
    };
    const fail = (e: unknown): never => {
      const err = e instanceof AppError ? e : mapStorageError(e);
      throw new AppError(err.code, err.message, { ...err.details, steps: [...steps] });
    };

    const key = `${s.prefix}.ohitori-probe-${randomBytes(8).toString('hex')}`;
    const body = `ohitori connection test ${new Date().toISOString()} ${randomBytes(16).toString('hex')}`;
    let probeWritten = false;
    try {
      await run('head-bucket', 'head-bucket', d, (abortSignal) =>
        d.client.send(new HeadBucketCommand({ Bucket: s.bucket }), { abortSignal }),
      );
      await run('list', 'list', d, (abortSignal) =>
        d.client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: s.prefix, MaxKeys: 5 }), { abortSignal }),
      );
      await run('put', 'put', d, (abortSignal) =>
        d.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: body, ContentType: 'text/plain' }), { abortSignal }),
      );
      probeWritten = true;
      await run('get', 'get', d, async (abortSignal) => {
        const out = await d.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }), { abortSignal });
        const text = await out.Body?.transformToString();
        if (text !== body) throw new AppError('STORAGE_REJECTED', 'The probe read back differs from what was written', { op: 'get' });
      });
      await run('delete', 'delete', d, (abortSignal) =>
        d.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key }), { abortSignal }),
      );
      probeWritten = false;
    } catch (e) {
      if (probeWritten) await d.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key })).catch(() => undefined);
      d.client.destroy();
      sv?.client.destroy();
      return fail(e);
    }

    let serverCanDelete: boolean | null = null;
    if (sv) {
      const serverKey = `${s.prefix}.ohitori-probe-${randomBytes(8).toString('hex')}`;
      try {
        await run('server-put', 'put', sv, (abortSignal) =>
          sv.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: serverKey, Body: body, ContentType: 'text/plain' }), {
            abortSignal,
          }),
        );
        hooks.progress?.({ step: 'storage.steps.server-delete', fraction: 6 / 7 });
        try {
          await sv.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: serverKey }), {
            abortSignal: AbortSignal.timeout(timeout),
          });
          serverCanDelete = true;
          steps.push({ step: 'server-delete', outcome: 'allowed' });
          hooks.log?.('server-delete: allowed (consider a put-only policy)');
        } catch (e) {
          const err = mapStorageError(e, 'delete');
          if (err.code !== 'STORAGE_AUTH_FAILED') throw err;
          serverCanDelete = false;
          steps.push({ step: 'server-delete', outcome: 'denied' });
          hooks.log?.('server-delete: denied (good)');
        }
      } catch (e) {
        await d.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: serverKey })).catch(() => undefined);
        d.client.destroy();
        sv.client.destroy();
        return fail(e);
      }
      // The desktop key removes the server's probe (a no-op when the server key already could).
      await d.client
        .send(new DeleteObjectCommand({ Bucket: s.bucket, Key: serverKey }), { abortSignal: AbortSignal.timeout(timeout) })
        .catch(() => undefined);
    } else {
      steps.push({ step: 'server-put', outcome: 'skipped' }, { step: 'server-delete', outcome: 'skipped' });
    }
    d.client.destroy();
    sv?.client.destroy();
    hooks.progress?.({ step: 'storage.steps.done', fraction: 1 });
    return { steps, serverCanDelete, ...(skew !== undefined ? { clockSkewMs: skew } : {}) };
  }
}

function assertSkewError(skewMs: number): AppError | undefined {
  try {
    assertClockSkew(skewMs);
    return undefined;
  } catch (e) {
    return e as AppError;
  }
}
