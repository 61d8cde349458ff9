/**
 * Worker-thread entry for one passphrase operation (see key-worker.ts, which starts it and
 * terminates it right after, Argon2's memory with it). A script of its own, so that the crypto
 * workers (backup-format/part-worker.ts) never carry openpgp.js.
 */
import { parentPort } from 'node:worker_threads';
import { readPrivateKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import { protectPrivateKeyInThread, unlockPrivateKeyInThread } from './key-protect';
import type { KeyJob, KeyJobReply } from './key-worker';

const port = parentPort;
if (!port) throw new Error('key-thread must run in a worker thread');

port.once('message', (m: KeyJob) => {
  void keyJob(m).then((r) => port.postMessage(r));
});

async function keyJob(m: KeyJob): Promise<KeyJobReply> {
  try {
    if (m.t === 'key-unlock') return { t: 'key-done', binary: (await unlockPrivateKeyInThread(m.armored, m.passphrase)).write() };
    const unlocked = await readPrivateKey({ binaryKey: m.unlocked });
    return { t: 'key-done', armored: await protectPrivateKeyInThread(unlocked, m.passphrase, m.protection) };
  } catch (e) {
    const err = e instanceof AppError ? e : new AppError('INTERNAL', 'The key operation failed', { reason: String(e) });
    return { t: 'key-error', error: err.toData() };
  }
}
