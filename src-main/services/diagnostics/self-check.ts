import { createHash, randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, throwIfAborted } from '../../shared/errors';
import type { JobContext } from '../jobs/job-runner';
import type { SecretStore } from '../vault/secret-store';

const CHUNK = 256 * 1024;
const CHUNKS = 16;

export interface SelfCheckResult {
  readonly dataDirWritable: boolean;
  readonly bytesVerified: number;
  readonly secretStore: SecretStore['mode'];
  readonly secretRoundTrip: boolean | 'locked';
}

/**
 * Checks that this desktop can do its work: the data directory takes a file written and read back
 * intact, and the secret store round-trips a value. Runs as a job (progress, bytes, cancel), and
 * with `askFirst` it asks before writing, so the same job exercises prompts end to end.
 */
export async function runSelfCheck(ctx: JobContext, dataDir: string, secrets: SecretStore, askFirst: boolean): Promise<SelfCheckResult> {
  if (askFirst) {
    const a = await ctx.ask({ kind: 'confirm', messageKey: 'selfCheck.confirm', values: { dir: dataDir } });
    if (!a.accepted) throw new AppError('CANCELLED', 'Declined');
  }
  const path = join(dataDir, `.self-check-${randomBytes(4).toString('hex')}`);
  const total = CHUNK * CHUNKS;
  const written = createHash('sha256');
  try {
    ctx.progress({ step: 'selfCheck.steps.write', fraction: 0, bytesDone: 0, bytesTotal: total });
    const fh = await open(path, 'wx', 0o600);
    try {
      for (let i = 0; i < CHUNKS; i++) {
        throwIfAborted(ctx.signal);
        const buf = randomBytes(CHUNK);
        written.update(buf);
        await fh.write(buf);
        ctx.progress({ step: 'selfCheck.steps.write', fraction: ((i + 1) / CHUNKS) * 0.5, bytesDone: (i + 1) * CHUNK, bytesTotal: total });
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    ctx.progress({ step: 'selfCheck.steps.read', fraction: 0.5, bytesDone: 0, bytesTotal: total });
    const read = createHash('sha256');
    const rh = await open(path, 'r');
    try {
      let done = 0;
      for await (const chunk of rh.createReadStream({ highWaterMark: CHUNK })) {
        throwIfAborted(ctx.signal);
        read.update(chunk as Buffer);
        done += (chunk as Buffer).length;
        ctx.progress({ step: 'selfCheck.steps.read', fraction: 0.5 + (done / total) * 0.4, bytesDone: done, bytesTotal: total });
      }
    } finally {
      await rh.close();
    }
    if (read.digest('hex') !== written.digest('hex')) throw new AppError('INTERNAL', 'The data directory returned different bytes');
    ctx.log(`data directory OK (${total} bytes)`);
  } finally {
    await rm(path, { force: true });
  }
  ctx.progress({ step: 'selfCheck.steps.secrets', fraction: 0.95 });
  let secretRoundTrip: SelfCheckResult['secretRoundTrip'] = 'locked';
  if (secrets.isUnlocked()) {
    const name = 'self-check';
    const value = randomBytes(32);
    await secrets.set(name, value);
    secretRoundTrip = (await secrets.get(name))?.equals(value) ?? false;
    await secrets.delete(name);
  }
  ctx.log(`secret store: ${secrets.mode}, round trip: ${String(secretRoundTrip)}`);
  return { dataDirWritable: true, bytesVerified: total, secretStore: secrets.mode, secretRoundTrip };
}
