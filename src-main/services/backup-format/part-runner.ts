import {
  decryptPart,
  encryptPart,
  type DecryptKeyBytes,
  type EncryptKeyBytes,
  type ExpectedPart,
  type PartDigest,
  type PartOutput,
  type ReadDigest,
} from './part-crypto';

/**
 * Runs per-part crypto jobs. Two implementations: {@link InlinePartRunner} (this thread; simple,
 * used with `workers: 0`) and `WorkerPartRunner` (worker_threads, one job per worker, so parts use
 * both cores). Callers never run more than `concurrency` jobs at once.
 */
export interface PartRunner {
  readonly concurrency: number;
  /**
   * Encrypts `input` (≈1 MiB chunks), calling `write` for each ciphertext chunk (awaited:
   * backpressure); resolves to the ciphertext's size and SHA-256 (hashed where it was made). The
   * input chunks are handed over, with the whole buffer under each: a worker gets them transferred
   * (the caller's views become empty), and their memory is reused for the ciphertext.
   */
  encrypt(
    keys: EncryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    write: (chunk: Uint8Array) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<PartDigest>;
  /**
   * Decrypts+verifies `input` to `out` (a private file, or a writer of verified steps: see
   * PartOutput); resolves only when everything checked out, with the
   * plaintext size and the ciphertext's size (and SHA-256 when it was hashed). A failure's AppError
   * carries `details.ciphertext` when the whole input was read. With `expected` (what the signed
   * manifest lists of this part: v1 size and SHA-256, v2 size and check) it also fails,
   * BACKUP_DAMAGED, on any other part (see PartDecryptOptions).
   */
  decrypt(
    keys: DecryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    out: PartOutput,
    signal?: AbortSignal,
    expected?: ExpectedPart,
  ): Promise<{ plainSize: number } & ReadDigest>;
  close(): Promise<void>;
  /**
   * False while a job given now would wait before it starts (a worker thread still booting);
   * {@link CompositePartRunner} then prefers another runner. Absent: always ready.
   */
  readyNow?(): boolean;
}

/** Runs jobs on the calling thread (one core). */
export class InlinePartRunner implements PartRunner {
  constructor(readonly concurrency = 1) {}

  encrypt(
    keys: EncryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    write: (chunk: Uint8Array) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<PartDigest> {
    return encryptPart(keys, input, write, signal);
  }

  decrypt(
    keys: DecryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    out: PartOutput,
    signal?: AbortSignal,
    expected?: ExpectedPart,
  ): Promise<{ plainSize: number } & ReadDigest> {
    return decryptPart(input, keys, out, signal, expected);
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
  ): Promise<PartDigest> {
    return this.with((r) => r.encrypt(keys, input, write, signal));
  }

  decrypt(
    keys: DecryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    out: PartOutput,
    signal?: AbortSignal,
    expected?: ExpectedPart,
  ): Promise<{ plainSize: number } & ReadDigest> {
    return this.with((r) => r.decrypt(keys, input, out, signal, expected));
  }

  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.close()));
  }

  private async with<T>(fn: (r: PartRunner) => Promise<T>): Promise<T> {
    for (;;) {
      const i = this.pick();
      if (i < 0) {
        await new Promise<void>((res) => this.waiting.push(res));
        continue;
      }
      this.busy[i]!++;
      try {
        return await fn(this.runners[i]!);
      } finally {
        this.busy[i]!--;
        this.waiting.shift()?.();
      }
    }
  }

  /**
   * A runner with a free slot, or -1. Prefers the last runners (workers), so the calling thread
   * stays free when it can, but one that can start now over one that would wait. Why: a worker
   * thread takes ~0.1 s to boot, and the first part, handed to it while it booted, waited for it
   * while the calling thread had nothing to do (1 GiB encrypt: the worker's first part began
   * ~0.1 s after the calling thread could have begun it).
   */
  private pick(): number {
    let free = -1;
    for (let i = this.runners.length - 1; i >= 0; i--) {
      const r = this.runners[i]!;
      if (this.busy[i]! >= r.concurrency) continue;
      if (r.readyNow?.() ?? true) return i;
      if (free < 0) free = i;
    }
    return free;
  }
}
