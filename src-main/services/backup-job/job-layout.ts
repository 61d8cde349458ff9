import { z } from 'zod';
import { SERVER_ID_PATTERN } from '../backup-format/format';

/**
 * Where the nightly backup job lives on a server (docs/operations.md §Nightly backups). Shared by
 * the desktop that installs it and the job that runs there, so both agree on every path.
 */
export const JOB_PATHS = {
  /** Config (0600), recipients' public keys, the server signing key, hooks. Root only. */
  etc: '/etc/ohitori',
  config: '/etc/ohitori/backup.json',
  recipients: '/etc/ohitori/recipients.asc',
  /** The server's own signing key: UNPROTECTED, root 0600, generated here, never leaves the server. */
  signingKey: '/etc/ohitori/signing-key.asc',
  signingPublic: '/etc/ohitori/signing-key.pub.asc',
  hooksPre: '/etc/ohitori/hooks/pre.d',
  hooksPost: '/etc/ohitori/hooks/post.d',
  /** The runner script and the bundled job (read-only code). */
  lib: '/usr/local/lib/ohitori',
  runner: '/usr/local/lib/ohitori/ohitori-backup',
  bundle: '/usr/local/lib/ohitori/backup-job.mjs',
  /** state.json, runs.jsonl, last.log, sequence, job-result.json. */
  state: '/var/lib/ohitori/backup',
  /** Private (0700) working directory of a run; emptied at the start and end of every run. */
  staging: '/var/lib/ohitori/staging',
  lock: '/run/lock/ohitori-backup.lock',
  pidFile: '/run/ohitori-backup.pid',
  systemdService: '/etc/systemd/system/ohitori-backup.service',
  systemdTimer: '/etc/systemd/system/ohitori-backup.timer',
  cronFile: '/etc/cron.d/ohitori-backup',
} as const;

/** The Node image the job runs in (Node 22: built-in zstd). Pinned; the server pulls it once. */
export const JOB_IMAGE = 'node:22-bookworm-slim';
/** Fixed container name, so a later run (or cancel) can find a container a killed runner left. */
export const JOB_CONTAINER = 'ohitori-backup-run';
/** Exit code of a run that found another one holding the lock (EX_TEMPFAIL). */
export const EXIT_LOCKED = 75;

const absPath = z.string().regex(/^(?:\/[A-Za-z0-9._-]+)+$/);

/** `/etc/ohitori/backup.json` (root 0600): everything a run needs besides keys and hooks. */
export const jobConfigSchema = z.strictObject({
  version: z.literal(1),
  serverId: z.string().regex(SERVER_ID_PATTERN),
  stack: z.strictObject({
    dir: absPath,
    compose: z.strictObject({ kind: z.enum(['v1', 'v2']), path: absPath }),
    dbName: z.string().regex(/^[a-z_][a-z0-9_-]{0,62}$/),
    dbUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,62}$/),
  }),
  image: z.string().regex(/^[a-z0-9./:_-]+$/),
  storage: z.strictObject({
    endpoint: z.string().url(),
    region: z.string().min(1),
    bucket: z.string().min(1),
    prefix: z.string(),
    forcePathStyle: z.boolean(),
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
  }),
  /** Keep this many newest genuine backups (retention by listing). */
  retention: z.strictObject({ keep: z.number().int().min(1).max(1000) }),
  partSize: z.number().int().positive().optional(),
});
export type JobConfig = z.infer<typeof jobConfigSchema>;

/** What the job writes to `job-result.json` (also after a failure) and the runner copies into state. */
export const jobResultSchema = z.object({
  backupId: z.string().optional(),
  sequence: z.number().int().optional(),
  parts: z.number().int().optional(),
  /** Bytes of the uncompressed archive (dump + files + config). */
  archiveBytes: z.number().optional(),
  /** Bytes uploaded (ciphertext parts + manifest). */
  uploadedBytes: z.number().optional(),
  dumpBytes: z.number().optional(),
  /** Tables whose rows went into the manifest's `tables` (absent when the dump could not be counted). */
  tables: z.number().int().optional(),
  files: z.number().int().optional(),
  retention: z
    .object({
      state: z.enum(['applied', 'nothing-to-do', 'refused', 'left-to-desktop']),
      deleted: z.array(z.string()).default([]),
      reason: z.string().optional(),
    })
    .optional(),
  abortedUploads: z.number().int().optional(),
  /** Peak resident memory of the job process (KiB, from process.resourceUsage). */
  peakRssKiB: z.number().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type JobResult = z.infer<typeof jobResultSchema>;

/** One run as the runner records it in `state.json` and `runs.jsonl`. */
export const runRecordSchema = z.object({
  startedAt: z.string(),
  finishedAt: z.string(),
  result: z.enum(['ok', 'failed', 'cancelled']),
  /** The stage it ended in: lock, hooks-pre, versions, dump, check, snapshot, job, hooks-post, done. */
  stage: z.string(),
  /** Machine code of a failure (runner stages) — the job's own is in `job.error`. */
  code: z.string().default(''),
  trigger: z.string().default('timer'),
  job: jobResultSchema.nullable().default(null),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/**
 * Progress lines the runner and the job print on stdout (the desktop parses them while "Back up
 * now" runs; the log keeps them): `@stage <name>`, `@bytes <done> <total|->`, `@error <CODE> <message>`,
 * `@done <backupId>`.
 */
export type ProgressLine =
  | { kind: 'stage'; stage: string }
  | { kind: 'bytes'; done: number; total?: number }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'done'; backupId: string };

export function parseProgressLine(line: string): ProgressLine | undefined {
  const m = /^@(stage|bytes|error|done) (.*)$/.exec(line.trimEnd());
  if (!m) return undefined;
  const rest = m[2]!;
  switch (m[1]) {
    case 'stage':
      return /^[a-z-]+$/.test(rest) ? { kind: 'stage', stage: rest } : undefined;
    case 'bytes': {
      const b = /^(\d+) (\d+|-)$/.exec(rest);
      if (!b) return undefined;
      return b[2] === '-' ? { kind: 'bytes', done: Number(b[1]) } : { kind: 'bytes', done: Number(b[1]), total: Number(b[2]) };
    }
    case 'error': {
      const e = /^([A-Z_]+) ?(.*)$/.exec(rest);
      return e ? { kind: 'error', code: e[1]!, message: e[2]! } : undefined;
    }
    default:
      return { kind: 'done', backupId: rest };
  }
}
