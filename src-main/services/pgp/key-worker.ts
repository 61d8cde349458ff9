import { AppError, isAppError, type AppErrorData } from '../../shared/errors';
import { startWorkerThread } from '../backup-format/worker-pool';

/** What a throwaway key worker does: one passphrase operation on one key. */
export type KeyJob =
  | { readonly t: 'key-unlock'; readonly armored: string; readonly passphrase: string }
  | { readonly t: 'key-protect'; readonly unlocked: Uint8Array; readonly passphrase: string; readonly protection: 'app' | 'gpg' };

export type KeyJobReply =
  | { readonly t: 'key-done'; readonly binary?: Uint8Array; readonly armored?: string }
  | { readonly t: 'key-error'; readonly error: AppErrorData };

/**
 * Runs one passphrase operation (unlock, protect) in a worker thread that is terminated right after.
 * Why: the app's key copy uses Argon2 S2K with 64 MiB of memory, computed by openpgp.js in a
 * WebAssembly instance that it keeps (and only drops past 1 GiB), so a single unlock left ~96 MiB
 * resident in the process for good — more than a whole restore's streaming needs. A terminated
 * worker takes its isolate and that memory with it. The passphrase and the unlocked key move only
 * between threads of this process (the same place they live anyway).
 * The worker runs key-thread.ts (located like the crypto workers' script: see worker-pool.ts).
 */
export async function runKeyJob(job: KeyJob): Promise<Extract<KeyJobReply, { t: 'key-done' }>> {
  const worker = await startWorkerThread('key');
  try {
    const reply = await new Promise<KeyJobReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`key worker exited with code ${code}`)));
      worker.postMessage(job);
    });
    if (reply.t === 'key-error')
      throw new AppError(reply.error.code, reply.error.message, reply.error.details ? { ...reply.error.details } : undefined);
    return reply;
  } catch (e) {
    if (isAppError(e)) throw e;
    throw new AppError('INTERNAL', 'The key worker failed', { reason: e instanceof Error ? e.message : String(e) }, { cause: e });
  } finally {
    await worker.terminate();
  }
}
