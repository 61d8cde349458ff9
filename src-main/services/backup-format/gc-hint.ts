import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Why: a crypto worker's isolate lets tens of MiB of dead 1 MiB chunk buffers pile up before it
 * collects them, because their JS wrappers are tiny and its heap looks empty. A cheap
 * young-generation collection every few MiB keeps that floating garbage small (see part-worker.ts).
 * Uses the documented `--expose-gc` flag through v8.setFlagsFromString; a no-op if unavailable.
 *
 * The calling thread does not force collections: its heap holds openpgp.js and the app, so each
 * forced major collection there took ~10 ms plus V8's helper threads, and its forced minor ones
 * promoted chunks still waiting in a part's queue, which then took more major collections for
 * "external memory pressure". V8's own external-memory accounting keeps that thread's garbage
 * bounded. Measured (1 GiB, this thread + one worker, 3 alternating runs): encrypt 2.65–2.75 →
 * 2.55 s, CPU 4.8 → 4.6 s, peak 205 → 199 MiB; decrypt 1.93–2.03 → 1.76–1.78 s, CPU 3.5 → 3.2 s,
 * peak 179 → 194 MiB; a 4 GiB backup and restore peaked at 194 / 203 MiB.
 */
type GcFn = (opts?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;
let gcFn: GcFn | null | undefined;

function getGc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  try {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as GcFn;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/**
 * Counts bytes; runs a minor GC every `minorEvery` bytes and a major one every `majorEvery` bytes
 * (chunks that waited in a queue long enough to be promoted only go away in a major GC).
 */
export class GcHint {
  private sinceMinor = 0;
  private sinceMajor = 0;
  constructor(
    private readonly minorEvery: number,
    private readonly majorEvery: number,
  ) {}

  add(bytes: number): void {
    this.sinceMinor += bytes;
    this.sinceMajor += bytes;
    if (this.sinceMajor >= this.majorEvery) {
      this.sinceMajor = 0;
      this.sinceMinor = 0;
      getGc()?.({ type: 'major', execution: 'sync' });
    } else if (this.sinceMinor >= this.minorEvery) {
      this.sinceMinor = 0;
      getGc()?.({ type: 'minor', execution: 'sync' });
    }
  }
}

let atomicGc = false;

/**
 * Turns V8's incremental (concurrent) marking off for this process, once; full collections then
 * run all at once when the old generation is full. Why: while data streams through at hundreds of
 * MiB/s, short-lived 1 MiB buffers keep V8 starting incremental marking cycles on the calling
 * thread's heap (openpgp.js makes it big enough to reach the start threshold over and over: ~40
 * cycles per 512 MiB decrypted), and their concurrent marking threads took the CPU the crypto
 * workers needed. Measured (512 MiB, 2 workers, 3 alternating runs each): decrypt 1.77 → 1.47 s
 * and encrypt 1.88 → 1.64 s, with peak RSS no higher (205 vs 214 MiB). The price is an occasional
 * stop-the-world collection of the heap (a few ms to tens of ms), which nothing here minds.
 * A documented V8 flag set through v8.setFlagsFromString, like --expose-gc above.
 */
export function preferAtomicGc(): void {
  if (atomicGc) return;
  atomicGc = true;
  try {
    setFlagsFromString('--no-incremental-marking');
  } catch {
    // not settable here: keep V8's default
  }
}
