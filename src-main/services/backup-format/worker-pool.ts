import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/errors';
import {
  classifyPartError,
  decryptKeys,
  encryptKeys,
  newPartSession,
  openSessionKey,
  type DecryptKeyBytes,
  type EncryptKeyBytes,
  type ExpectedPart,
  type PartDigest,
  type PartOutput,
  type ReadDigest,
} from './part-crypto';
import { CompositePartRunner, InlinePartRunner, type PartRunner } from './part-runner';
import type { FromMain, ToMain } from './worker-protocol';
import type { SessionKey } from './native-part';
import { preferAtomicGc } from './gc-hint';
import type * as EsbuildNs from 'esbuild';

type EsbuildModule = typeof EsbuildNs;

const IN_WINDOW = 2 * 1024 * 1024;

/**
 * Where the worker code comes from. Tradeoff: `new Worker(new URL('./part-worker.mjs', import.meta.url))`
 * is what bundlers understand, so the production bundle (the server job, the app) emits
 * `part-worker.mjs` (and, in the app, `key-thread.mjs`) as more entries next to the main bundle and
 * this finds them. Under vitest/tsx the script is the `.ts` source, which Node cannot run
 * (extension-less imports), so we bundle it once with esbuild (a devDependency, imported by a
 * computed name so bundlers leave it out) to a CommonJS string and start it with `eval: true`. No
 * temp files either way.
 */
type WorkerSource = { kind: 'file'; url: URL } | { kind: 'eval'; code: string };

/** The worker scripts: their bundled file name, and their source relative to this file. */
const WORKER_SCRIPTS = {
  /** Per-part crypto (part-worker.ts). */
  part: { bundled: './part-worker.mjs', source: './part-worker.ts' },
  /** One passphrase operation (pgp/key-thread.ts; the app only, the server job has none). */
  key: { bundled: './key-thread.mjs', source: '../pgp/key-thread.ts' },
} as const;
type WorkerScript = keyof typeof WORKER_SCRIPTS;
const sources = new Map<WorkerScript, Promise<WorkerSource>>();

function resolveWorkerSource(script: WorkerScript): Promise<WorkerSource> {
  let p = sources.get(script);
  if (!p) {
    p = locateWorkerSource(WORKER_SCRIPTS[script]);
    sources.set(script, p);
  }
  return p;
}

async function locateWorkerSource(script: { bundled: string; source: string }): Promise<WorkerSource> {
  // Through a variable so that vite's asset handling of the literal `new URL('…', import.meta.url)`
  // pattern cannot touch it; esbuild leaves either form alone.
  const here = import.meta.url;
  const bundled = new URL(script.bundled, here);
  if (bundled.protocol === 'file:' && existsSync(fileURLToPath(bundled))) return { kind: 'file', url: bundled };
  const source = new URL(script.source, here);
  if (source.protocol !== 'file:' || !existsSync(fileURLToPath(source)))
    throw new AppError('INTERNAL', `worker script ${script.bundled} not found`);
  const esbuildName = 'esbuild';
  const esbuild = (await import(esbuildName)) as EsbuildModule;
  const out = await esbuild.build({
    entryPoints: [fileURLToPath(source)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    write: false,
    logLevel: 'silent',
    // openpgp's node build calls createRequire(import.meta.url), which CommonJS lacks.
    define: { 'import.meta.url': JSON.stringify(source.href) },
  });
  return { kind: 'eval', code: out.outputFiles[0]!.text };
}

/**
 * A small young generation makes each worker collect its short-lived 1 MiB chunk buffers often, so
 * RSS stays flat instead of growing with V8's default semi-space sizing.
 */
function workerLimits(): { maxYoungGenerationSizeMb: number } {
  return { maxYoungGenerationSizeMb: 8 };
}

/** A new thread running a worker script: `part` for crypto jobs, `key` for one key job (see pgp/key-worker.ts). */
export async function startWorkerThread(script: WorkerScript, resourceLimits?: { maxYoungGenerationSizeMb: number }): Promise<Worker> {
  const src = await resolveWorkerSource(script);
  const opts = resourceLimits ? { resourceLimits } : {};
  return src.kind === 'file' ? new Worker(src.url, opts) : new Worker(src.code, { eval: true, ...opts });
}

/** Default worker count: both cores of the 2-core target box, at most 4. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

interface Slot {
  worker: Worker;
  /** Its thread runs JavaScript ('online'): a job posted now starts without waiting for the boot. */
  online: boolean;
  onMessage?: (m: ToMain) => void;
  onFailure?: (e: Error) => void;
}

/**
 * Runs part jobs on a small pool of worker threads, one job per worker. Parts are independent
 * OpenPGP messages, so N workers give ~N× the single-thread throughput (performance §1: one thread
 * reached 0.77× gpg encrypt and 0.43× decrypt).
 */
export class WorkerPartRunner implements PartRunner {
  private readonly idle: Slot[] = [];
  private readonly waiting: { resolve: (s: Slot) => void; reject: (e: unknown) => void }[] = [];
  private created = 0;
  private nextId = 1;
  private closed = false;
  private readonly all = new Set<Slot>();
  private readonly starting = new Set<Promise<unknown>>();

  constructor(readonly concurrency: number = defaultWorkerCount()) {
    preferAtomicGc();
    this.warm();
  }

  /**
   * Starts every worker now, so that their start-up (~0.1 s each: Node's own bootstrap in the new
   * thread) overlaps with the caller's key parsing, manifest and network setup instead of delaying
   * the first part. A worker that fails to start is retried by the first job that needs it.
   */
  private warm(): void {
    while (this.created < this.concurrency) {
      this.created++;
      const p = this.spawn().then(
        (slot) => (this.closed ? void slot.worker.terminate() : this.release(slot)),
        (e: unknown) => {
          // a job waiting for this worker gets the error; a later job tries to start one again
          this.created--;
          this.waiting.shift()?.reject(e);
        },
      );
      this.starting.add(p);
      void p.finally(() => this.starting.delete(p));
    }
  }

  encrypt(
    keys: EncryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    write: (chunk: Uint8Array) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<PartDigest> {
    return this.run(
      async (id) => ({ start: { t: 'encrypt', id, session: await newPartSession(await encryptKeys(keys)) } }),
      input,
      write,
      signal,
    ).then((r) => r.digest as PartDigest);
  }

  async decrypt(
    keys: DecryptKeyBytes,
    input: AsyncIterable<Uint8Array>,
    out: PartOutput,
    signal?: AbortSignal,
    expected?: ExpectedPart,
  ): Promise<{ plainSize: number } & ReadDigest> {
    const r = await this.run(
      async (id) => {
        const prepared = await decryptKeys(keys);
        return {
          start: {
            t: 'decrypt',
            id,
            verifiers: prepared.verifiers,
            ownKeyIds: prepared.ownKeyIds,
            ...(typeof out === 'string' ? { outPath: out } : {}),
            ...(expected ? { expected } : {}),
          },
          openSessionKey: (pkesks: Uint8Array[]) => openSessionKey(prepared, pkesks),
        };
      },
      input,
      typeof out === 'string' ? undefined : out,
      signal,
    );
    return { plainSize: r.plainSize, ...r.digest };
  }

  /** True when an idle worker's thread is up (a job given now starts at once). */
  readyNow(): boolean {
    return this.idle.some((s) => s.online);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.starting);
    await Promise.all([...this.all].map((s) => s.worker.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  /**
   * One job on one worker. `prepare` (keys parsed, session made: on this thread, with openpgp.js)
   * runs before a worker is taken, and says how to open a decryption's session key when asked.
   */
  private async run(
    prepare: (id: number) => Promise<{
      start: Extract<FromMain, { t: 'encrypt' | 'decrypt' }>;
      openSessionKey?: (pkesks: Uint8Array[]) => Promise<SessionKey>;
    }>,
    input: AsyncIterable<Uint8Array>,
    write: ((chunk: Uint8Array) => Promise<void>) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ plainSize: number; digest: ReadDigest | PartDigest }> {
    const id = this.nextId++;
    const { start, openSessionKey: open } = await prepare(id).catch((e: unknown) => {
      throw classifyPartError(e);
    });
    const slot = await this.acquire();
    slot.worker.ref(); // keep the process alive while a job runs; idle workers never do
    let inflight = 0;
    let wakeAck: (() => void) | undefined;
    let finished = false;
    let outChain = Promise.resolve();
    let failure: unknown;
    const post = (m: FromMain, transfer?: ArrayBuffer[]) => slot.worker.postMessage(m, transfer ?? []);

    const result = new Promise<{ plainSize: number; digest: ReadDigest | PartDigest }>((resolve, reject) => {
      slot.onFailure = (e) => {
        finished = true;
        wakeAck?.();
        reject(new AppError('INTERNAL', 'A crypto worker crashed', { reason: e.message }, { cause: e }));
      };
      slot.onMessage = (m) => {
        if (m.id !== id) return;
        if (m.t === 'ack') {
          inflight -= m.bytes;
          wakeAck?.();
        } else if (m.t === 'session-key-request') {
          // always answered (the worker waits for it), with an error if this job has no key
          void (open ? open(m.pkesks) : Promise.reject(new Error('not a decryption job'))).then(
            (key) => post({ t: 'session-key', id, key }),
            (e: unknown) => post({ t: 'session-key', id, error: e instanceof Error ? e.message : String(e) }),
          );
        } else if (m.t === 'out' && write) {
          const chunk = m.chunk;
          const bytes = chunk.length; // read now: a lent chunk is emptied once its consumer is done
          outChain = outChain
            .then(() => (failure === undefined ? write(chunk) : undefined))
            .then(() => post({ t: 'credit', id, bytes }))
            .catch((e: unknown) => {
              failure ??= e;
              post({ t: 'abort', id });
            });
        } else if (m.t === 'done' || m.t === 'error') {
          finished = true;
          wakeAck?.();
          void outChain.then(() => {
            if (m.t === 'error') {
              const details = { ...(m.reason ? { reason: m.reason } : {}), ...(m.digest ? { ciphertext: m.digest } : {}) };
              reject(new AppError(m.code, m.message, Object.keys(details).length ? details : undefined));
            } else if (failure !== undefined) reject(failure);
            else resolve({ plainSize: m.plainSize, digest: m.digest });
          });
        }
      };
    });

    const onAbort = () => post({ t: 'abort', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    post(start);
    const pump = (async () => {
      try {
        for await (const chunk of input) {
          if (finished) break;
          while (inflight > 0 && inflight + chunk.length > IN_WINDOW && !finished) await new Promise<void>((r) => (wakeAck = r));
          if (finished) break;
          const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : new Uint8Array(chunk);
          inflight += owned.length;
          post({ t: 'in', id, chunk: owned }, [owned.buffer as ArrayBuffer]);
        }
        if (!finished) post({ t: 'end', id });
      } catch (e) {
        failure ??= e;
        post({ t: 'abort', id });
      }
    })();

    try {
      const r = await result;
      await pump;
      return r;
    } catch (e) {
      // Do not wait for the pump: it may sit on a stalled source; it stops at its next chunk.
      throw signal?.aborted ? new AppError('CANCELLED', 'Cancelled') : (failure ?? e);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      slot.onMessage = undefined;
      slot.onFailure = undefined;
      slot.worker.unref();
      this.release(slot);
    }
  }

  private async acquire(): Promise<Slot> {
    if (this.closed) throw new AppError('INTERNAL', 'worker pool closed');
    const free = this.idle.pop();
    if (free) return free;
    if (this.created < this.concurrency) {
      this.created++;
      return this.spawn();
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(slot: Slot): void {
    if (!this.all.has(slot)) {
      // crashed: replace lazily
      this.created--;
      const w = this.waiting.shift();
      if (w) {
        this.created++;
        void this.spawn().then(w.resolve, (e: unknown) => {
          this.created--;
          w.reject(e);
        });
      }
      return;
    }
    const w = this.waiting.shift();
    if (w) w.resolve(slot);
    else this.idle.push(slot);
  }

  private async spawn(): Promise<Slot> {
    const worker = await startWorkerThread('part', workerLimits());
    worker.unref();
    const slot: Slot = { worker, online: false };
    worker.once('online', () => (slot.online = true));
    this.all.add(slot);
    worker.on('message', (m: ToMain) => slot.onMessage?.(m));
    const fail = (e: Error) => {
      this.all.delete(slot);
      slot.onFailure?.(e);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    return slot;
  }
}

/**
 * The runner to use: one part on the calling thread plus `cores - 1` worker threads. A worker per
 * core (the calling thread only moving bytes) was 5–20% faster, but the calling thread's other
 * buffers leave no room for it: with two workers a 4 GiB backup alone peaked at 237–242 MiB
 * (crypto bench) against 195 MiB, and the desktop's restore at 245–254 MiB (restore bench, target
 * < 256) against 220–238. Pass `workers` to choose explicitly (0 = everything inline).
 */
export function createPartRunner(opts: { workers?: number } = {}): PartRunner {
  const workers = opts.workers ?? defaultWorkerCount() - 1;
  if (workers <= 0) return new InlinePartRunner(1);
  return new CompositePartRunner([new InlinePartRunner(1), new WorkerPartRunner(workers)]);
}
