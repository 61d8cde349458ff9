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

/** Web stream over an async iterable that stops (and fails) when `signal` aborts. */
export function iterableToWeb(input: AsyncIterable<Uint8Array>, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (signal?.aborted) return controller.error(new Error('Cancelled (aborted)'));
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
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
    const out = await encryptPartStream(iterableToWeb(input, signal), keys);
    const reader = out.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      await write(r.value);
    }
  }

  decrypt(keys: DecryptKeyBytes, input: AsyncIterable<Uint8Array>, outPath: string, signal?: AbortSignal): Promise<{ plainSize: number }> {
    return decryptPartToFile(iterableToWeb(input, signal), keys, outPath);
  }

  async close(): Promise<void> {}
}
