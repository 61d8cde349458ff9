/**
 * The nightly backup job's entry point, bundled into one file (dist/agent/backup-job.mjs, with
 * part-worker.mjs beside it) and run by the server's runner script inside the pinned Node image:
 *
 *   node backup-job.mjs keygen   creates the server signing key if there is none; prints its public key
 *   node backup-job.mjs run      one backup (the dump arrives on stdin; see ohitori-backup in job-files.ts)
 *
 * Output: `@stage`/`@bytes`/`@error`/`@done` lines for the runner's log and the desktop, and
 * `job-result.json` in the state directory, also after a failure. Exit 0 only for a stored backup.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, isDiskFullError } from '../shared/errors';
import { createPartRunner } from '../services/backup-format';
import { generateServerSigningKey } from '../services/pgp/key-generate';
import { JOB_PATHS, jobConfigSchema, type JobResult } from '../services/backup-job/job-layout';
import { runBackup } from './run-backup';

const env = process.env;
const print = (line: string) => process.stdout.write(line.replace(/[\r\n]+/g, ' ') + '\n');

async function writeAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

async function keygen(): Promise<void> {
  if (!existsSync(JOB_PATHS.signingKey)) {
    const config = jobConfigSchema.parse(JSON.parse(await readFile(JOB_PATHS.config, 'utf8')));
    const key = await generateServerSigningKey({ serverId: config.serverId });
    await writeAtomic(JOB_PATHS.signingKey, key.armoredPrivate, 0o600);
    await writeAtomic(JOB_PATHS.signingPublic, key.armoredPublic, 0o644);
  }
  const { readPrivateKey } = await import('openpgp');
  const key = await readPrivateKey({ armoredKey: await readFile(JOB_PATHS.signingKey, 'utf8') });
  const pub = key.toPublic().armor();
  await writeAtomic(JOB_PATHS.signingPublic, pub, 0o644);
  process.stdout.write(pub.endsWith('\n') ? pub : pub + '\n');
}

/**
 * Aborts when the runner that started this container is gone (SIGKILLed: its trap cannot run, and
 * the container would otherwise go on and write a manifest for a run nobody is waiting for).
 * Needs `--pid=host`; the runner's start time guards against a reused PID.
 */
function watchRunner(controller: AbortController): () => void {
  const pid = Number(env.OHITORI_RUNNER_PID);
  const start = env.OHITORI_RUNNER_START ?? '';
  if (!Number.isInteger(pid) || pid <= 1) return () => undefined;
  const alive = () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] === start;
    } catch {
      return false;
    }
  };
  const check = () => {
    if (!alive()) controller.abort(new AppError('CANCELLED', 'The runner that started this job is gone'));
  };
  // At once too: a runner killed during `docker run` leaves the daemon to start this container alone.
  check();
  const t = setInterval(check, 500);
  return () => clearInterval(t);
}

async function run(): Promise<number> {
  const result: { -readonly [K in keyof JobResult]: JobResult[K] } = {};
  const controller = new AbortController();
  const stopWatch = watchRunner(controller);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => controller.abort(new AppError('CANCELLED', `Stopped by ${sig}`)));
  // One part on this thread and one per other core (createPartRunner's default). A third crypto
  // slot (2 workers + this thread) bought nothing measurable on 2 cores (backup bench 1.03×/1.08×
  // vs 0.91×/1.21× now, both noisy: storage and zstd bound the run) and cost a worker isolate:
  // peak RSS reached 259 MiB at 1 GiB in one of three runs; now 214–229 MiB over six.
  const runner = createPartRunner();
  const statePath = join(JOB_PATHS.state, 'job-result.json');
  const sequencePath = join(JOB_PATHS.state, 'sequence');
  try {
    const config = jobConfigSchema.parse(JSON.parse(await readFile(JOB_PATHS.config, 'utf8')));
    const lastSequence = Number((await readFile(sequencePath, 'utf8').catch(() => '0')).trim()) || 0;
    await runBackup(
      {
        config,
        recipientsArmored: await readFile(JOB_PATHS.recipients, 'utf8'),
        signingKeyArmored: await readFile(JOB_PATHS.signingKey, 'utf8'),
        sourceDir: env.OHITORI_SOURCE ?? '/source',
        extraConfig: [{ name: 'Caddyfile', path: '/etc/caddy/Caddyfile' }],
        dump: { stream: process.stdin, size: Number(env.OHITORI_DUMP_SIZE), sha256: env.OHITORI_DUMP_SHA256 ?? '' },
        versions: {
          ...(env.OHITORI_VERSION_MISSKEY ? { misskey: env.OHITORI_VERSION_MISSKEY } : {}),
          ...(env.OHITORI_VERSION_POSTGRES ? { postgres: env.OHITORI_VERSION_POSTGRES } : {}),
          ...(env.OHITORI_VERSION_REDIS ? { redis: env.OHITORI_VERSION_REDIS } : {}),
        },
        lastSequence,
        saveSequence: (n) => writeAtomic(sequencePath, `${n}\n`),
        runner,
        signal: controller.signal,
        print,
      },
      result,
    );
    result.peakRssKiB = process.resourceUsage().maxRSS;
    await writeAtomic(statePath, JSON.stringify(result));
    return 0;
  } catch (e) {
    const err = toAppError(e, controller.signal);
    result.error = { code: err.code, message: err.message };
    print(`@error ${err.code} ${err.message}`);
    await writeAtomic(statePath, JSON.stringify(result)).catch(() => undefined);
    return err.code === 'CANCELLED' ? 130 : 1;
  } finally {
    stopWatch();
    await runner.close?.();
  }
}

function toAppError(e: unknown, signal: AbortSignal): AppError {
  if (signal.aborted) {
    const r = signal.reason as unknown;
    return r instanceof AppError ? r : new AppError('CANCELLED', 'Cancelled');
  }
  if (e instanceof AppError) return e;
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  if (err.name === 'InvalidAccessKeyId' || err.name === 'SignatureDoesNotMatch' || status === 403)
    return new AppError('STORAGE_AUTH_FAILED', `Storage refused the server's key: ${err.message ?? err.name ?? ''}`);
  if (err.name === 'NoSuchBucket') return new AppError('STORAGE_BUCKET_MISSING', 'The bucket does not exist');
  if (err.name === 'RequestTimeTooSkewed') return new AppError('STORAGE_CLOCK_SKEW', "The server's clock is off");
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'TimeoutError'].includes(err.code ?? err.name ?? ''))
    return new AppError('STORAGE_UNREACHABLE', `Storage could not be reached: ${err.message ?? ''}`);
  if (isDiskFullError(err)) return new AppError('DISK_FULL', 'The server disk is full');
  if (status !== undefined) return new AppError('STORAGE_REJECTED', `Storage refused a request (${status} ${err.name ?? ''})`);
  return new AppError('BACKUP_JOB_FAILED', err.message ?? String(e));
}

// Last line of defence: a stream error nobody listened to must still end the run as a clean failure.
process.on('uncaughtException', (e) => {
  print(`@error BACKUP_JOB_FAILED ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

const cmd = process.argv[2];
if (cmd === 'keygen') {
  keygen().then(
    () => process.exit(0),
    (e: unknown) => {
      print(`@error KEY_INVALID ${(e as Error).message}`);
      process.exit(1);
    },
  );
} else if (cmd === 'run') {
  run().then(
    (code) => process.exit(code),
    (e: unknown) => {
      print(`@error BACKUP_JOB_FAILED ${(e as Error).message}`);
      process.exit(1);
    },
  );
} else {
  process.stderr.write('usage: backup-job.mjs keygen|run\n');
  process.exit(2);
}
