import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { PrivateKey, PublicKey } from 'openpgp';
import { AppError, isAppError, throwIfAborted } from '../../shared/errors';
import type { RunOptions } from '../../shared/progress';
import { rechunk } from './chunk-queue';
import { CHUNK_SIZE } from './format';
import { expectedPart, type BackupManifest, type ManifestPart } from './manifest';
import { primeSessionKey, releaseDecryptKeys, type DecryptKeyBytes } from './part-crypto';
import type { PartRunner } from './part-runner';
import { createPrivateTempDir } from './private-temp';

/** Where encrypted parts come from (S3 GetObject on the desktop, files in tests). */
export interface PartSource {
  /** Opens part `name`; a missing part should throw (any error becomes BACKUP_INCOMPLETE). */
  openPart(name: string, index: number, signal?: AbortSignal): Promise<Readable> | Readable;
}

export interface DecryptPartsOptions extends RunOptions {
  /** The unlocked desktop private key (from the unlock cache). */
  readonly decryptionKey: PrivateKey;
  /** The PINNED server signing key. */
  readonly verificationKey: PublicKey;
  readonly runner: PartRunner;
  /** Where the private temp dir goes (default os.tmpdir()). */
  readonly tempBase?: string;
}

/**
 * The verified payload (compressed archive) of a backup as a Node stream. No byte of a part is
 * emitted before that whole part was decrypted to a private 0600 temp file, its ciphertext matched
 * the manifest's size and SHA-256, its MDC checked and its signature verified by the pinned key.
 * Up to `runner.concurrency` parts are decrypted ahead in parallel, into a few reused temp files
 * (slots); a failed part's file is removed at once, all of them when the stream ends, errs or is
 * aborted. A later part can still fail after earlier ones were emitted: callers treat the restore
 * as incomplete until this stream ends cleanly.
 */
export function openVerifiedPayload(manifest: BackupManifest, source: PartSource, opts: DecryptPartsOptions): Readable {
  return Readable.from(verifiedChunks(manifest, source, opts), { objectMode: false, highWaterMark: CHUNK_SIZE });
}

async function* verifiedChunks(manifest: BackupManifest, source: PartSource, opts: DecryptPartsOptions): AsyncGenerator<Uint8Array> {
  if (!opts.decryptionKey.isDecrypted()) throw new AppError('KEY_WRONG_PASSPHRASE', 'The private key is locked', { locked: true });
  const fp = opts.decryptionKey.getFingerprint().toUpperCase();
  if (!manifest.recipients.includes(fp))
    throw new AppError('KEY_NOT_RECIPIENT', 'This backup is not encrypted to this key', { fingerprint: fp });
  const keys: DecryptKeyBytes = { decryptionKey: opts.decryptionKey.write(), verificationKey: opts.verificationKey.toPublic().write() };
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const tmp = await createPrivateTempDir(opts.tempBase);
  const tasks: Promise<string>[] = [];
  const total = manifest.parts.reduce((n, p) => n + p.plainSize, 0);
  let done = 0;
  // Parts in flight or waiting to be read back: the runner's concurrency plus READ_AHEAD, plus the
  // one being read. Part j is decrypted into temp file j % slots; part j + slots is queued (below)
  // only once part j has been read back, so no two of them share a file.
  const slots = opts.runner.concurrency + READ_AHEAD + 1;
  try {
    for (let i = 0; i < manifest.parts.length; i++) {
      // Keep every worker busy while part i is being consumed: the next concurrency + READ_AHEAD
      // parts are queued on the runner, which decrypts `concurrency` of them at a time, in whatever
      // order its slots free up.
      for (let j = tasks.length; j < Math.min(manifest.parts.length, i + slots); j++) {
        tasks[j] = decryptOne(manifest, j, tmp.file(`plain-${j % slots}`), source, keys, opts.runner, inner.signal);
        tasks[j]!.catch(() => undefined);
      }
      const file = await tasks[i]!;
      throwIfAborted(opts.signal);
      for await (const chunk of rechunk(createReadStream(file, { highWaterMark: CHUNK_SIZE }), CHUNK_SIZE)) {
        throwIfAborted(opts.signal); // nothing more once cancelled, even from a part already read
        done += chunk.length;
        yield chunk;
        opts.onProgress?.({ step: 'steps.decrypt', bytesDone: done, bytesTotal: total, fraction: total ? done / total : 1 });
      }
      // the file stays: its slot is reused by part i + slots (removed with the folder at the end)
    }
  } catch (e) {
    throw opts.signal?.aborted ? new AppError('CANCELLED', 'Cancelled') : e;
  } finally {
    inner.abort();
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled(tasks);
    // the unlocked key's parsed copy and our bytes of it end with the job
    releaseDecryptKeys(keys);
    await tmp.remove();
  }
}

/**
 * Parts queued beyond the runner's concurrency. Why: with one part on the calling thread (which
 * also does all the I/O) and one on a worker, the worker finishes first and, with no further part
 * queued, waited for the calling thread's part to be consumed. Measured (512 MiB, 3 alternating
 * runs): 1.49 s with none, 1.39 s with 2, 1.33 s with 4. Costs temp-file space and one chunk per
 * queued part: a queued part's source is opened and its first chunk read at once (see decryptOne).
 */
const READ_AHEAD = 4;

async function decryptOne(
  manifest: BackupManifest,
  index: number,
  outPath: string,
  source: PartSource,
  keys: DecryptKeyBytes,
  runner: PartRunner,
  signal: AbortSignal,
): Promise<string> {
  const part = manifest.parts[index]!;
  let body: Readable | undefined;
  let size = 0;
  let sourceError: AppError | undefined;
  // A missing object or a dropped connection is not evidence of tampering: BACKUP_INCOMPLETE.
  const unreadable = (e: unknown) =>
    new AppError(
      'BACKUP_INCOMPLETE',
      `Part ${part.name} could not be read`,
      { part: part.name, reason: (e as Error).message },
      { cause: e },
    );
  // Opened at once (see `first` below). On abort the source is destroyed, so a read waiting on a
  // stalled connection ends too.
  const onAbort = () => body?.destroy(new AppError('CANCELLED', 'Cancelled'));
  signal.addEventListener('abort', onAbort, { once: true });
  const counted = (async function* () {
    try {
      body = await source.openPart(part.name, index, signal);
    } catch (e) {
      sourceError = unreadable(e);
      throw sourceError;
    }
    if (signal.aborted) body.destroy(new AppError('CANCELLED', 'Cancelled'));
    const it = rechunk(body, CHUNK_SIZE)[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (e) {
        sourceError = unreadable(e);
        throw sourceError;
      }
      if (r.done) break;
      size += r.value.length;
      if (size > part.size) throw new AppError('BACKUP_DAMAGED', `Part ${part.name} is longer than the manifest says`, { part: part.name });
      yield r.value;
    }
  })();
  // Started now, while the part waits for a runner slot: its source is opened and its first chunk
  // read, and the session key in that chunk's PKESK packets opened (see primeSessionKey), so that
  // the runner starts on it without waiting for either. Costs one chunk per queued part.
  const first = counted.next();
  first.then(
    (r) => !r.done && !signal.aborted && void primeSessionKey(keys, r.value),
    () => undefined,
  );
  const input = (async function* () {
    const r = await first;
    if (r.done) return;
    yield r.value;
    yield* counted;
  })();
  try {
    // The runner reads the part to the end and resolves only when it is what the manifest lists
    // (v1: size and ciphertext SHA-256, v2: size and check) and verified.
    await runner.decrypt(keys, input, outPath, signal, expectedPart(manifest, part));
    return outPath;
  } catch (e) {
    body?.destroy();
    await rm(outPath, { force: true });
    if (signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
    if (sourceError) throw sourceError;
    // A part that does not match the signed manifest is "damaged" whatever the decryptor made of it.
    const ct = isAppError(e) ? (e.details?.['ciphertext'] as { size: number; sha256?: string } | undefined) : undefined;
    if (ct && (ct.size !== part.size || (ct.sha256 !== undefined && ct.sha256 !== part.sha256))) throw damaged(part);
    throw isAppError(e) ? withPart(e, part) : new AppError('BACKUP_DAMAGED', 'A backup part is damaged', { part: part.name }, { cause: e });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function damaged(part: ManifestPart): AppError {
  return new AppError('BACKUP_DAMAGED', `Part ${part.name} does not match the signed manifest (size or SHA-256)`, { part: part.name });
}

function withPart(e: AppError, part: ManifestPart): AppError {
  return new AppError(e.code, e.message, { ...(e.details ?? {}), part: part.name }, { cause: e });
}
