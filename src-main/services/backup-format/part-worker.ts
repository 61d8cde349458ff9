/**
 * Worker-thread entry for per-part crypto (see worker-pool.ts for how it is located). One job at a
 * time; input arrives as transferred chunks with acks for flow control, encrypted output leaves
 * the same way with credits; decrypted output goes to the private temp file, or (format v3) leaves
 * as verified chunks, with credits too.
 * Each chunk is processed synchronously (native-part.ts), so a job is a plain loop.
 * openpgp.js is not part of this script: keys are handled on the main thread (part-crypto.ts),
 * and passphrase operations run in their own script (pgp/key-thread.ts), which keeps this isolate
 * small (its bundle is ~33 KB instead of ~930 KB with openpgp.js; ~5 MiB less RSS per worker).
 */
import { parentPort } from 'node:worker_threads';
import { AppError } from '../../shared/errors';
import { PartDecryptor, PartEncryptor, classifyPartError, withCiphertext, type ReadDigest, type SessionKey } from './native-part';
import { GcHint } from './gc-hint';
import type { FromMain, ToMain } from './worker-protocol';

const OUT_WINDOW = 2 * 1024 * 1024;
const port = parentPort;
if (!port) throw new Error('part-worker must run in a worker thread');

interface JobState {
  readonly id: number;
  readonly queue: Uint8Array[];
  sessionKey?: (m: Extract<FromMain, { t: 'session-key' }>) => void;
  ended: boolean;
  aborted: boolean;
  outstanding: number;
  wakeInput?: () => void;
  wakeOutput?: () => void;
}

let job: JobState | undefined;
// Forced collections keep this thread's floating garbage (1 MiB input chunks, 64 KiB cipher
// outputs) small: a minor GC every 2 MiB frees what dies young, a major one every 128 MiB what lived
// long enough in a queue to be promoted. Measured (256 MiB restore, two workers): a minor every
// 8 MiB peaked at 209–219 MiB, every 2 MiB at 191–193 MiB, no slower (a scavenge of this small
// heap takes well under a millisecond). Without the majors, with incremental marking off
// (gc-hint.ts), a 4 GiB backup peaked at 316 MiB against 242 MiB with them.
const gcHint = new GcHint(2 * 1024 * 1024, 128 * 1024 * 1024);
const post = (m: ToMain, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);
const cancelled = () => new AppError('CANCELLED', 'Cancelled');

port.on('message', (m: FromMain) => {
  if (m.t === 'encrypt' || m.t === 'decrypt') {
    job = { id: m.id, queue: [], ended: false, aborted: false, outstanding: 0 };
    void run(m, job);
    return;
  }
  if (!job || m.id !== job.id) return;
  if (m.t === 'session-key') return job.sessionKey?.(m);
  if (m.t === 'in') job.queue.push(m.chunk);
  else if (m.t === 'end') job.ended = true;
  else if (m.t === 'abort') {
    job.aborted = true;
    job.sessionKey?.({ t: 'session-key', id: m.id, error: 'Cancelled' });
  } else if (m.t === 'credit') job.outstanding -= m.bytes;
  job.wakeInput?.();
  job.wakeOutput?.();
});

/** The next input chunk (acked as it is taken), or undefined at the end; throws when aborted. */
async function nextChunk(s: JobState): Promise<Uint8Array | undefined> {
  for (;;) {
    if (s.aborted) throw cancelled();
    const c = s.queue.shift();
    if (c) {
      post({ t: 'ack', id: s.id, bytes: c.length });
      gcHint.add(c.length);
      return c;
    }
    if (s.ended) return undefined;
    await new Promise<void>((r) => (s.wakeInput = r));
  }
}

/** Posts output chunks (transferred), then waits while more than OUT_WINDOW bytes are not yet credited. */
async function sendOut(s: JobState, chunks: Uint8Array[]): Promise<void> {
  while (chunks.length) {
    const out = chunks.shift()!;
    s.outstanding += out.length;
    post({ t: 'out', id: s.id, chunk: out }, [out.buffer as ArrayBuffer]);
  }
  while (s.outstanding > OUT_WINDOW && !s.aborted) await new Promise<void>((res) => (s.wakeOutput = res));
  if (s.aborted) throw cancelled();
}

async function run(m: Extract<FromMain, { t: 'encrypt' | 'decrypt' }>, s: JobState): Promise<void> {
  let digest: ReadDigest | undefined;
  try {
    if (m.t === 'decrypt') {
      const openSessionKey = (pkesks: readonly Uint8Array[]) =>
        new Promise<SessionKey>((resolve, reject) => {
          s.sessionKey = (r) => {
            s.sessionKey = undefined;
            if (r.key) resolve(r.key);
            else reject(new Error(r.error ?? 'no session key'));
          };
          post({ t: 'session-key-request', id: s.id, pkesks: [...pkesks] });
        });
      const setup = { verifiers: m.verifiers, ownKeyIds: m.ownKeyIds, openSessionKey };
      const verified: Uint8Array[] = [];
      const out = m.outPath ?? ((v: Uint8Array) => void verified.push(v));
      const dec = new PartDecryptor(setup, out, m.expected ? { expected: m.expected } : {});
      try {
        for (let c = await nextChunk(s); c; c = await nextChunk(s)) {
          await dec.push(c);
          await sendOut(s, verified);
        }
      } catch (e) {
        dec.discard();
        throw e;
      }
      try {
        const { plainSize } = await dec.end();
        await sendOut(s, verified);
        post({ t: 'done', id: s.id, plainSize, digest: dec.digest() });
      } catch (e) {
        dec.discard();
        digest = dec.digest();
        throw e;
      }
      return;
    }
    const enc = new PartEncryptor(m.session, { reuseInput: true }); // the chunks were transferred to us
    for (;;) {
      const c = await nextChunk(s);
      const out = c ? enc.update(c) : enc.final();
      if (out) await sendOut(s, [out]);
      if (!c) break;
    }
    post({ t: 'done', id: s.id, plainSize: 0, digest: enc.digest() });
  } catch (e) {
    let err = classifyPartError(s.aborted ? cancelled() : e);
    if (digest) err = withCiphertext(err, digest);
    post({
      t: 'error',
      id: s.id,
      code: err.code,
      message: err.message,
      reason: String(err.details?.['reason'] ?? ''),
      ...(digest ? { digest } : {}),
    });
  } finally {
    if (job === s) job = undefined;
  }
}
