import { PassThrough, type Readable } from 'node:stream';
import type { PrivateKey, PublicKey } from 'openpgp';
import { AppError, throwIfAborted } from '../../shared/errors';
import type { RunOptions } from '../../shared/progress';
import { ChunkQueue, rechunk } from './chunk-queue';
import { CHUNK_SIZE, DEFAULT_PART_SIZE, MAX_PART_SIZE, partName } from './format';
import type { ManifestPart } from './manifest';
import type { EncryptKeyBytes, PartDigest } from './part-crypto';
import type { PartRunner } from './part-runner';

/**
 * Where encrypted parts go. The server job streams each part to S3 (one object per part, e.g. a
 * lib-storage Upload); tests write files. Parts may be written concurrently (one per worker).
 */
export interface PartSink {
  /** Stores `body` as part `name`; resolves only when the part is durably stored. */
  writePart(name: string, body: Readable, index: number): Promise<void>;
}

export interface EncryptPartsOptions extends RunOptions {
  readonly recipients: readonly PublicKey[];
  /** The server's unprotected signing key (decrypted PrivateKey). */
  readonly signingKey: PrivateKey;
  readonly sink: PartSink;
  readonly runner: PartRunner;
  /** Plaintext bytes per part (default 16 MiB, at most 64 MiB). */
  readonly partSize?: number;
}

/**
 * Splits `input` (the compressed archive) into parts of `partSize` plaintext bytes and signs +
 * encrypts each as an independent OpenPGP message on the runner (in parallel, one part per
 * worker). Memory: at most `runner.concurrency` parts are open, each buffering at most one part's
 * plaintext in its queue (and the runner's small windows), whatever the total size.
 */
export async function encryptToParts(input: AsyncIterable<Uint8Array | Buffer>, opts: EncryptPartsOptions): Promise<ManifestPart[]> {
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < 1024 || partSize > MAX_PART_SIZE)
    throw new AppError('INVALID_ARGUMENT', 'partSize out of range', { partSize });
  if (!opts.signingKey.isDecrypted()) throw new AppError('KEY_INVALID', 'The signing key must be unlocked');
  if (opts.recipients.length === 0) throw new AppError('INVALID_ARGUMENT', 'At least one recipient is needed');
  const keys: EncryptKeyBytes = { recipients: opts.recipients.map((k) => k.toPublic().write()), signingKey: opts.signingKey.write() };

  const inner = new AbortController();
  const onAbort = () => inner.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const results: ManifestPart[] = [];
  const running = new Map<number, Promise<void>>();
  const queues = new Set<ChunkQueue>();
  let firstError: unknown;
  const fail = (e: unknown) => {
    firstError ??= e;
    inner.abort();
    for (const q of queues) q.fail(e);
  };

  const startPart = async (index: number): Promise<ChunkQueue> => {
    while (running.size >= opts.runner.concurrency) await Promise.race(running.values());
    if (firstError !== undefined) throw firstError;
    const queue = new ChunkQueue(partSize);
    queues.add(queue);
    const p = encryptOnePart(index, queue, keys, opts, inner.signal)
      .then((part) => {
        results[index] = part;
      })
      .catch(fail)
      .finally(() => {
        running.delete(index);
        queues.delete(queue);
      });
    running.set(index, p);
    return queue;
  };

  let index = 0;
  let current: ChunkQueue | undefined;
  let inPart = 0;
  let done = 0;
  try {
    for await (const chunk of rechunk(input, CHUNK_SIZE)) {
      let off = 0;
      while (off < chunk.length) {
        throwIfAborted(opts.signal);
        if (firstError !== undefined) throw firstError;
        current ??= await startPart(index);
        const n = Math.min(partSize - inPart, chunk.length - off);
        await current.push(n === chunk.length ? chunk : chunk.slice(off, off + n));
        off += n;
        inPart += n;
        done += n;
        if (inPart === partSize) {
          current.end();
          current = undefined;
          inPart = 0;
          index++;
        }
      }
      opts.onProgress?.({ step: 'steps.encrypt', bytesDone: done });
    }
    if (!current && index === 0) current = await startPart(0); // empty input: one empty part
    current?.end();
    await Promise.all(running.values());
    if (firstError !== undefined) throw firstError;
    throwIfAborted(opts.signal);
    return results;
  } catch (e) {
    fail(e);
    await Promise.allSettled(running.values());
    throw opts.signal?.aborted ? new AppError('CANCELLED', 'Cancelled') : firstError;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function encryptOnePart(
  index: number,
  queue: ChunkQueue,
  keys: EncryptKeyBytes,
  opts: EncryptPartsOptions,
  signal: AbortSignal,
): Promise<ManifestPart> {
  const name = partName(index);
  const body = new PassThrough({ highWaterMark: CHUNK_SIZE });
  let plainSize = 0;
  const counted = (async function* () {
    for await (const c of queue) {
      plainSize += c.length;
      yield c;
    }
  })();
  body.on('error', () => undefined); // we destroy it on failure; the sink reports through `stored`
  const stored = opts.sink.writePart(name, body, index);
  stored.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
  let digest: PartDigest;
  try {
    // size and SHA-256 of the ciphertext are computed by the runner, where it is made
    digest = await opts.runner.encrypt(
      keys,
      counted,
      async (chunk) => {
        if (!body.write(chunk)) await waitDrain(body, stored);
      },
      signal,
    );
    body.end();
    await stored;
  } catch (e) {
    body.destroy(e instanceof Error ? e : new Error(String(e)));
    await stored.catch(() => undefined);
    throw e;
  }
  return { name, size: digest.size, plainSize, ...digest.check };
}

function waitDrain(stream: PassThrough, stored: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    stored.then(undefined, reject);
  });
}
