import { rm } from 'node:fs/promises';
import { AppError } from '../../shared/errors';
import { decryptPartToFile, encryptPartStream, type DecryptKeyBytes, type EncryptKeyBytes } from './part-crypto';

/**
 * Runs per-part crypto jobs. Two implementations: {@link InlinePartRunner} (this thread; simple,
 * used with `workers: 0`) and `WorkerPartRunner` (worker_threads, one job per worker, so parts use
 * both cores). Callers never run more than `concurrency` jobs at once.
 */
export interface PartRunner {
  readonly concurrency: number;
  /** Encrypts `input` (≈1 MiB chunks), calling `write` for each ciphertext chunk (awaited: backpressure). */
  encrypt(
    keys: EncryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    write: (chunk: Uint8Array) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Decrypts+verifies `input` into `outPath`; resolves only when everything checked out. */
  decrypt(keys: DecryptKeyBytes, input: AsyncIterable<Uint8Array>, outPath: string, signal?: AbortSignal): Promise<{ plainSize: number }>;
  close(): Promise<void>;
}

/**
 * Web stream over an async iterable. On abort or when the iterable throws, the stream is CLOSED
 * (not errored) and the reason is kept in `failure()`: erroring a stream that openpgp.js is reading
 * leaves internal promises of its signing path rejected without a handler for a tick, which Node
 * turns into a process crash by default. Callers check `failure()` after openpgp.js finished and
 * discard the (truncated) result.
 */
export function iterableToWeb(
  input: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): { stream: ReadableStream<Uint8Array>; failure: () => unknown } {
  const it = input[Symbol.asyncIterator]();
  let failure: unknown;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // openpgp.js runs on promise (microtask) chains; yield one macrotask turn per chunk so that
        // worker messages and I/O callbacks are served while this thread encrypts or decrypts.
        await new Promise<void>((r) => setImmediate(r));
        if (signal?.aborted) failure ??= new AppError('CANCELLED', 'Cancelled');
        if (failure === undefined) {
          try {
            const r = await it.next();
            if (!r.done) return controller.enqueue(r.value);
          } catch (e) {
            failure = e;
          }
        } else void it.return?.();
        controller.close();
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, failure: () => failure };
}

/** Runs jobs on the calling thread (one core). */
export class InlinePartRunner implements PartRunner {
  constructor(readonly concurrency = 1) {}

  async encrypt(
    keys: EncryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    write: (chunk: Uint8Array) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    const { stream, failure } = iterableToWeb(input, signal);
    const reader = (await encryptPartStream(stream, keys)).getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      if (failure() === undefined) await write(r.value);
    }
    if (failure() !== undefined) throw failure();
  }

  async decrypt(
    keys: DecryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    outPath: string,
    signal?: AbortSignal,
  ): Promise<{ plainSize: number }> {
    const { stream, failure } = iterableToWeb(input, signal);
    let result: { plainSize: number };
    try {
      result = await decryptPartToFile(stream, keys, outPath);
    } catch (e) {
      throw failure() ?? e;
    }
    if (failure() !== undefined) {
      await rm(outPath, { force: true });
      throw failure();
    }
    return result;
  }

  async close(): Promise<void> {}
}

/**
 * Spreads jobs over several runners, each used up to its own concurrency; e.g. one inline slot
 * plus one worker uses two cores with one V8 isolate fewer than two workers (less memory).
 */
export class CompositePartRunner implements PartRunner {
  readonly concurrency: number;
  private readonly busy: number[];
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly runners: readonly PartRunner[]) {
    this.concurrency = runners.reduce((n, r) => n + r.concurrency, 0);
    this.busy = runners.map(() => 0);
  }

  encrypt(
    keys: EncryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    write: (chunk: Uint8Array) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.with((r) => r.encrypt(keys, input, write, signal));
  }

  decrypt(keys: DecryptKeyBytes, input: AsyncIterable<Uint8Array>, outPath: string, signal?: AbortSignal): Promise<{ plainSize: number }> {
    return this.with((r) => r.decrypt(keys, input, outPath, signal));
  }

  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.close()));
  }

  private async with<T>(fn: (r: PartRunner) => Promise<T>): Promise<T> {
    for (;;) {
      // prefer the last runners (workers) so the calling thread stays free when it can
      for (let i = this.runners.length - 1; i >= 0; i--) {
        const r = this.runners[i]!;
        if (this.busy[i]! < r.concurrency) {
          this.busy[i]!++;
          try {
            return await fn(r);
          } finally {
            this.busy[i]!--;
            this.waiting.shift()?.();
          }
        }
      }
      await new Promise<void>((res) => this.waiting.push(res));
    }
  }
}
