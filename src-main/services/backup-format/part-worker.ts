/**
 * Worker-thread entry for per-part crypto (see worker-pool.ts for how it is located). One job at a
 * time; input arrives as transferred chunks with acks for flow control, encrypted output leaves
 * the same way with credits; decrypted output never leaves: it goes to the private temp file.
 */
import { rm } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { AppError } from '../../shared/errors';
import { classifyPartError, decryptPartToFile, encryptPartStream } from './part-crypto';
import { GcHint } from './gc-hint';
import type { FromMain, ToMain } from './worker-protocol';

const OUT_WINDOW = 2 * 1024 * 1024;
const port = parentPort;
if (!port) throw new Error('part-worker must run in a worker thread');

interface JobState {
  readonly id: number;
  readonly queue: Uint8Array[];
  ended: boolean;
  aborted: boolean;
  outstanding: number;
  wakeInput?: () => void;
  wakeOutput?: () => void;
}

let job: JobState | undefined;
const gcHint = new GcHint();
const post = (m: ToMain, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

port.on('message', (m: FromMain) => {
  if (m.t === 'encrypt' || m.t === 'decrypt') {
    job = { id: m.id, queue: [], ended: false, aborted: false, outstanding: 0 };
    void run(m, job);
    return;
  }
  if (!job || m.id !== job.id) return;
  if (m.t === 'in') job.queue.push(m.chunk);
  else if (m.t === 'end') job.ended = true;
  else if (m.t === 'abort') job.aborted = true;
  else if (m.t === 'credit') job.outstanding -= m.bytes;
  job.wakeInput?.();
  job.wakeOutput?.();
});

function inputStream(s: JobState): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          // On abort: close, never error (see iterableToWeb in part-runner.ts); run() reports it.
          if (s.aborted) return controller.close();
          const c = s.queue.shift();
          if (c) {
            post({ t: 'ack', id: s.id, bytes: c.length });
            gcHint.add(c.length);
            return controller.enqueue(c);
          }
          if (s.ended) return controller.close();
          await new Promise<void>((r) => (s.wakeInput = r));
        }
      },
    },
    { highWaterMark: 0 },
  );
}

async function run(m: Extract<FromMain, { t: 'encrypt' | 'decrypt' }>, s: JobState): Promise<void> {
  try {
    if (m.t === 'decrypt') {
      let plainSize: number;
      try {
        ({ plainSize } = await decryptPartToFile(inputStream(s), m.keys, m.outPath));
      } catch (e) {
        throw s.aborted ? new AppError('CANCELLED', 'Cancelled') : e;
      }
      if (s.aborted) {
        await rm(m.outPath, { force: true });
        throw new AppError('CANCELLED', 'Cancelled');
      }
      post({ t: 'done', id: s.id, plainSize });
      return;
    }
    const reader = (await encryptPartStream(inputStream(s), m.keys)).getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      const chunk = r.value.byteOffset === 0 && r.value.byteLength === r.value.buffer.byteLength ? r.value : r.value.slice();
      s.outstanding += chunk.length;
      post({ t: 'out', id: s.id, chunk }, [chunk.buffer as ArrayBuffer]);
      while (s.outstanding > OUT_WINDOW && !s.aborted) await new Promise<void>((res) => (s.wakeOutput = res));
      if (s.aborted) throw new AppError('CANCELLED', 'Cancelled');
    }
    if (s.aborted) throw new AppError('CANCELLED', 'Cancelled'); // input was closed early
    post({ t: 'done', id: s.id, plainSize: 0 });
  } catch (e) {
    const err = classifyPartError(e);
    post({ t: 'error', id: s.id, code: err.code, message: err.message, reason: String(err.details?.['reason'] ?? '') });
  } finally {
    if (job === s) job = undefined;
  }
}
