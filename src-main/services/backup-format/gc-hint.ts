import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Why: each V8 isolate (main thread and every crypto worker) lets up to tens of MiB of dead 1 MiB
 * chunk buffers pile up before it collects them, because their JS wrappers are tiny and the heap
 * looks empty. With three isolates streaming at hundreds of MiB/s that floating garbage, not live
 * data, dominated peak RSS. A cheap young-generation collection every few MiB keeps memory flat.
 * Uses the documented `--expose-gc` flag through v8.setFlagsFromString; a no-op if unavailable.
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
 * (chunks that waited in a queue long enough to be promoted only go away in a major GC). A major
 * GC marks the whole isolate (openpgp.js included): at every 32 MiB, marking took ~12–16% of the
 * crypto stage's CPU (perf), hence 128 MiB by default and none in the crypto workers.
 */
export class GcHint {
  private sinceMinor = 0;
  private sinceMajor = 0;
  constructor(
    private readonly minorEvery: number = 8 * 1024 * 1024,
    private readonly majorEvery: number = 128 * 1024 * 1024,
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
