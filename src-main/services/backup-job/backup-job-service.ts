import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, ERROR_CODES, type ErrorCode } from '../../shared/errors';
import type { BackupJobStatus, BackupRunView, InstallSummary } from '../../shared/backup-job';
import type { ServerProfile } from '../../shared/domain';
import type { SigningKeyPins } from '../backups/signing-pins';
import { serverIdFor } from '../backups/signing-pins';
import type { JobContext } from '../jobs/job-runner';
import type { Keyring } from '../pgp/keyring';
import { gatherServerFacts } from '../setup/server-facts';
import { composeCommand } from '../setup/apply-stack';
import { openProfileSession } from '../setup/open-session';
import type { HostKeyStore } from '../ssh/host-key-store';
import { readRemoteFile, writeRemoteFile } from '../ssh/remote-files';
import { script } from '../ssh/shell-quote';
import type { SshSession } from '../ssh/ssh-session';
import { parseExistingConfig } from '../stack/misskey-config';
import type { StorageService } from '../storage/storage-service';
import type { SecretStore } from '../vault/secret-store';
import { renderBackupService, renderBackupTimer, renderCronFile, renderRunnerScript } from './job-files';
import {
  EXIT_LOCKED,
  JOB_IMAGE,
  JOB_PATHS,
  jobConfigSchema,
  parseProgressLine,
  runRecordSchema,
  type JobConfig,
  type RunRecord,
} from './job-layout';

const isErrorCode = (c: string): c is ErrorCode => (ERROR_CODES as readonly string[]).includes(c);

export const DEFAULT_KEEP = 14;

export interface BackupJobServiceOptions {
  readonly secrets: SecretStore;
  readonly hostKeys: HostKeyStore;
  readonly profile: (id: string) => Promise<ServerProfile>;
  readonly storage: StorageService;
  readonly keyring: Keyring;
  readonly pins: SigningKeyPins;
  /** Directory holding backup-job.mjs and part-worker.mjs (dist/agent); found next to the build by default. */
  readonly agentDir?: string;
  /** The job's image (tests may point at a local tag). */
  readonly image?: string;
}

/** dist/agent, looked for above this module (dist/main, dist/main/chunks, or the source tree in tests). */
export function findAgentDir(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    for (const c of [join(dir, 'agent'), join(dir, 'dist', 'agent')]) if (existsSync(join(c, 'backup-job.mjs'))) return c;
    dir = dirname(dir);
  }
  throw new AppError('INTERNAL', 'The backup job bundle (dist/agent/backup-job.mjs) is missing: run the build first');
}

const STATUS_SCRIPT = script(
  'set -u',
  'cfg=$1; state=$2',
  'if [ -f "$cfg" ]; then echo "@installed yes"; else echo "@installed no"; fi',
  'if [ -d /run/systemd/system ] && [ -f "$3" ]; then echo "@scheduler systemd"; echo "@next $(systemctl show ohitori-backup.timer --property=NextElapseUSecRealtime --value 2>/dev/null)";',
  'elif [ -f "$4" ]; then echo "@scheduler cron"; else echo "@scheduler none"; fi',
  'echo "@tz $(date +%z)"',
  'if [ -f "$5" ]; then echo "@running $(cat "$5")"; fi',
  'echo "@runs"',
  'tail -n 30 "$state/runs.jsonl" 2>/dev/null || true',
);

/**
 * The nightly backup job on a server, from the desktop (docs/operations.md "Nightly backups"):
 * install (files, signing key generated ON the server and pinned here, schedule), status, "Back up
 * now" with live progress and cancel, and the last log.
 */
export class BackupJobService {
  constructor(private readonly opts: BackupJobServiceOptions) {}

  private session(profile: ServerProfile, ctx: JobContext): Promise<SshSession> {
    return openProfileSession(profile, this.opts.secrets, this.opts.hostKeys, ctx);
  }

  async install(profileId: string, ctx: JobContext, opts: { keep?: number } = {}): Promise<InstallSummary> {
    const profile = await this.opts.profile(profileId);
    const storage = await this.opts.storage.serverSettings(profileId);
    const recipients = await this.opts.keyring.list();
    if (!recipients.some((r) => r.role === 'desktop'))
      throw new AppError('KEY_INVALID', 'Create or import the desktop key first (Keys): backups are encrypted to it', {
        missing: 'desktop-key',
      });
    const agentDir = this.opts.agentDir ?? findAgentDir();
    const image = this.opts.image ?? JOB_IMAGE;
    const serverId = serverIdFor(profile.domain);
    const session = await this.session(profile, ctx);
    try {
      ctx.progress({ step: 'backupJob.steps.inspect' });
      const facts = await gatherServerFacts(session, profile.stackDir, profile.domain, ctx.signal);
      if (facts.dockerAccess === 'none' || !facts.dockerVersion)
        throw new AppError('REMOTE_COMMAND_FAILED', 'Docker is not installed on the server');
      const compose = await composeCommand(session, facts);
      const yml = await readRemoteFile(session, `${profile.stackDir}/.config/default.yml`, true);
      if (!yml) throw new AppError('NOT_FOUND', `No Misskey stack in ${profile.stackDir}: run the setup first`, { missing: 'stack' });
      const existing = parseExistingConfig(yml.toString('utf8'));
      const previous = await this.readConfig(session);
      const config: JobConfig = jobConfigSchema.parse({
        version: 1,
        serverId,
        stack: {
          dir: profile.stackDir,
          compose: { kind: compose.kind, path: compose.path },
          dbName: existing.dbName,
          dbUser: existing.dbUser,
        },
        image,
        storage: {
          endpoint: storage.endpoint,
          region: storage.region,
          bucket: storage.bucket,
          prefix: storage.prefix,
          forcePathStyle: storage.forcePathStyle,
          accessKeyId: storage.credentials.accessKeyId,
          secretAccessKey: storage.credentials.secretAccessKey,
        },
        retention: { keep: opts.keep ?? previous?.retention.keep ?? DEFAULT_KEEP },
      });

      ctx.progress({ step: 'backupJob.steps.image' });
      await this.ensureImage(session, image, ctx);

      ctx.progress({ step: 'backupJob.steps.files' });
      for (const [dir, mode] of [
        [JOB_PATHS.etc, '700'],
        [JOB_PATHS.hooksPre, '700'],
        [JOB_PATHS.hooksPost, '700'],
        [JOB_PATHS.lib, '755'],
        ['/var/lib/ohitori', '700'],
        [JOB_PATHS.state, '700'],
        [JOB_PATHS.staging, '700'],
      ] as const) {
        await session.check(['install', '-d', '-m', mode, '-o', 'root', '-g', 'root', dir], { sudo: true });
      }
      const write = async (path: string, data: string | Buffer, mode: string) => {
        const r = await writeRemoteFile(session, path, data, { mode, sudo: true, owner: 'root:root' });
        ctx.log(`${path}: ${r.changed ? 'written' : 'unchanged'}`);
      };
      await write(JOB_PATHS.bundle, await readFile(join(agentDir, 'backup-job.mjs')), '644');
      await write(`${JOB_PATHS.lib}/part-worker.mjs`, await readFile(join(agentDir, 'part-worker.mjs')), '644');
      await write(JOB_PATHS.runner, renderRunnerScript(config, image), '755');
      await write(JOB_PATHS.config, JSON.stringify(config, null, 2) + '\n', '600');
      await write(JOB_PATHS.recipients, recipients.map((r) => r.armoredPublic.trim()).join('\n') + '\n', '644');

      ctx.progress({ step: 'backupJob.steps.signingKey' });
      const pub = await session.check(
        [
          'docker',
          'run',
          '--rm',
          '--network=none',
          '--user',
          '0:0',
          '-v',
          `${JOB_PATHS.etc}:${JOB_PATHS.etc}`,
          '-v',
          `${JOB_PATHS.lib}:${JOB_PATHS.lib}:ro`,
          image,
          'node',
          JOB_PATHS.bundle,
          'keygen',
        ],
        { sudo: true, signal: ctx.signal },
      );
      const armored = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]+?-----END PGP PUBLIC KEY BLOCK-----/.exec(pub.stdout)?.[0];
      if (!armored) throw new AppError('KEY_INVALID', 'The server did not report its signing key');
      const before = await this.opts.pins.current(profileId);
      const pin = await this.opts.pins.pin(profileId, serverId, armored);
      if (before && before.fingerprint !== pin.fingerprint)
        ctx.log(`signing key changed: was ${before.fingerprint}, now ${pin.fingerprint} (both stay trusted)`);
      ctx.log(`server signing key ${pin.fingerprint} pinned`);

      ctx.progress({ step: 'backupJob.steps.schedule' });
      let scheduler: 'systemd' | 'cron';
      if (facts.systemd) {
        await write(JOB_PATHS.systemdService, renderBackupService(), '644');
        await write(JOB_PATHS.systemdTimer, renderBackupTimer(), '644');
        await session.check(
          [
            'sh',
            '-c',
            script('systemctl daemon-reload && systemctl enable --now ohitori-backup.timer && rm -f "$1"'),
            'x',
            JOB_PATHS.cronFile,
          ],
          {
            sudo: true,
          },
        );
        scheduler = 'systemd';
      } else {
        await write(JOB_PATHS.cronFile, renderCronFile(), '644');
        scheduler = 'cron';
      }
      ctx.log(`scheduled with ${scheduler}: every night at 03:00 (server time) plus up to 30 minutes`);
      return { serverId, fingerprint: pin.fingerprint, scheduler, keep: config.retention.keep, image };
    } finally {
      session.close();
    }
  }

  private async readConfig(session: SshSession): Promise<JobConfig | undefined> {
    const raw = await readRemoteFile(session, JOB_PATHS.config, true);
    if (!raw) return undefined;
    const parsed = jobConfigSchema.safeParse(JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  }

  private async ensureImage(session: SshSession, image: string, ctx: JobContext): Promise<void> {
    const has = await session.exec(['docker', 'image', 'inspect', '--format', '{{.Id}}', image], { sudo: true });
    if (has.code === 0) return;
    ctx.log(`pulling ${image}`);
    await session.check(['docker', 'pull', image], {
      sudo: true,
      signal: ctx.signal,
      onStdout: (s) =>
        s
          .split('\n')
          .filter(Boolean)
          .forEach((l) => ctx.log(l)),
    });
  }

  async status(profileId: string, ctx: JobContext): Promise<BackupJobStatus> {
    const session = await this.session(await this.opts.profile(profileId), ctx);
    try {
      return await this.readStatus(session);
    } finally {
      session.close();
    }
  }

  /** "Back up now": runs the runner over SSH, its `@stage`/`@bytes` lines as progress; cancel stops it on the server. */
  async runNow(profileId: string, ctx: JobContext): Promise<BackupRunView> {
    const profile = await this.opts.profile(profileId);
    const session = await this.session(profile, ctx);
    try {
      const installed = await session.exec(['test', '-x', JOB_PATHS.runner], { sudo: true });
      if (installed.code !== 0) throw new AppError('BACKUP_JOB_NOT_INSTALLED', 'Nightly backups are not installed on this server');
      let error: { code: string; message: string } | undefined;
      let buf = '';
      const onLine = (line: string) => {
        const p = parseProgressLine(line);
        if (!p) {
          if (line.trim() && !line.startsWith('@')) ctx.log(line);
          return;
        }
        if (p.kind === 'stage') ctx.progress({ step: `backupJob.stages.${p.stage}` });
        else if (p.kind === 'bytes')
          ctx.progress({
            step: 'backupJob.stages.upload',
            bytesDone: p.done,
            ...(p.total ? { bytesTotal: p.total, fraction: p.done / p.total } : {}),
          });
        else if (p.kind === 'error') {
          error = { code: p.code, message: p.message };
          ctx.log(`error: ${p.message}`);
        } else ctx.log(`stored backup ${p.backupId}`);
      };
      const cancel = () => {
        void this.cancelOnServer(profile, ctx).catch(() => undefined);
      };
      ctx.signal.addEventListener('abort', cancel, { once: true });
      let code: number;
      try {
        const r = await session.exec([JOB_PATHS.runner, 'run', 'manual'], {
          sudo: true,
          maxOutput: 64 * 1024,
          onStdout: (s) => {
            buf += s;
            const lines = buf.split('\n');
            buf = lines.pop() ?? '';
            lines.forEach(onLine);
          },
        });
        code = r.code;
      } finally {
        ctx.signal.removeEventListener('abort', cancel);
      }
      if (buf) onLine(buf);
      if (ctx.signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
      if (code === EXIT_LOCKED) throw new AppError('BACKUP_JOB_LOCKED', 'Another backup is running on this server');
      const status = await this.readStatus(session);
      const last = status.runs[0];
      if (code !== 0) {
        const e = error as { code: string; message: string } | undefined;
        // The job speaks the app's own error codes (@error CODE): pass any known one through.
        const known = e !== undefined && isErrorCode(e.code) && e.code !== 'CANCELLED';
        throw new AppError(known ? (e.code as ErrorCode) : 'BACKUP_JOB_FAILED', e?.message ?? `The backup job exited with ${code}`, {
          exitCode: code,
          ...(last ? { stage: last.stage } : {}),
          ...(e ? { jobCode: e.code } : {}),
        });
      }
      if (!last || last.result !== 'ok') throw new AppError('BACKUP_JOB_FAILED', 'The run did not record a result');
      return last;
    } finally {
      session.close();
    }
  }

  private async readStatus(session: SshSession): Promise<BackupJobStatus> {
    const r = await session.check(
      [
        'sh',
        '-c',
        STATUS_SCRIPT,
        'ohitori-status',
        JOB_PATHS.config,
        JOB_PATHS.state,
        JOB_PATHS.systemdTimer,
        JOB_PATHS.cronFile,
        JOB_PATHS.pidFile,
      ],
      { sudo: true },
    );
    return parseStatus(r.stdout, new Date());
  }

  private async cancelOnServer(profile: ServerProfile, ctx: JobContext): Promise<void> {
    // The job's own session may be the one being torn down: cancel on a fresh connection.
    const session = await openProfileSession(profile, this.opts.secrets, this.opts.hostKeys, {
      ...ctx,
      signal: new AbortController().signal,
    });
    try {
      await session.exec([JOB_PATHS.runner, 'cancel'], { sudo: true });
    } finally {
      session.close();
    }
  }

  /** The last run's log (the runner keeps one run's output). */
  async log(profileId: string, ctx: JobContext): Promise<string> {
    const profile = await this.opts.profile(profileId);
    const session = await this.session(profile, ctx);
    try {
      const raw = await readRemoteFile(session, `${JOB_PATHS.state}/last.log`, true);
      const text = raw?.toString('utf8') ?? '';
      return text.length > 200_000 ? text.slice(-200_000) : text;
    } finally {
      session.close();
    }
  }
}

/** Parses the status script's output. Runs newest first; unreadable lines are skipped. */
export function parseStatus(stdout: string, now: Date): BackupJobStatus {
  const lines = stdout.split('\n');
  const get = (tag: string) =>
    lines
      .find((l) => l.startsWith(`@${tag} `))
      ?.slice(tag.length + 2)
      .trim();
  const installed = get('installed') === 'yes';
  const sched = get('scheduler');
  const scheduler = sched === 'systemd' || sched === 'cron' ? sched : 'none';
  const runsAt = lines.indexOf('@runs');
  const runs: RunRecord[] = [];
  for (const l of runsAt >= 0 ? lines.slice(runsAt + 1) : []) {
    if (!l.trim()) continue;
    try {
      const p = runRecordSchema.safeParse(JSON.parse(l));
      if (p.success) runs.push(p.data);
    } catch {
      /* a torn line */
    }
  }
  runs.reverse();
  const nextRaw = get('next');
  const next =
    scheduler === 'systemd' ? parseSystemdTime(nextRaw) : scheduler === 'cron' ? nextCronRun(now, get('tz') ?? '+0000') : undefined;
  const running = get('running');
  return {
    installed,
    scheduler,
    ...(next ? { nextRun: next } : {}),
    ...(running ? { running: true } : { running: false }),
    runs: runs.map(toView),
  };
}

function toView(r: RunRecord): BackupRunView {
  const ms = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
  return {
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationSec: Number.isFinite(ms) ? Math.max(0, Math.round(ms / 1000)) : 0,
    result: r.result,
    stage: r.stage,
    trigger: r.trigger,
    ...(r.job?.backupId ? { backupId: r.job.backupId } : {}),
    ...(r.job?.uploadedBytes !== undefined ? { uploadedBytes: r.job.uploadedBytes } : {}),
    ...(r.job?.archiveBytes !== undefined ? { archiveBytes: r.job.archiveBytes } : {}),
    ...(r.job?.error ? { errorCode: r.job.error.code, errorMessage: r.job.error.message } : r.code ? { errorCode: r.code } : {}),
    ...(r.job?.retention ? { retention: r.job.retention.state, deleted: r.job.retention.deleted.length } : {}),
  };
}

/** systemd prints e.g. `Fri 2026-11-27 03:17:42 UTC`; anything else (n/a, empty) is no next run. */
function parseSystemdTime(s: string | undefined): string | undefined {
  const m = s ? /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ?([A-Z]+)?/.exec(s) : null;
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}${m[3] === 'UTC' || !m[3] ? 'Z' : ''}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The next 03:00 in the server's time zone offset (`+0900`), as UTC ISO; the run starts within 30 min of it. */
export function nextCronRun(now: Date, tz: string): string {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(tz);
  const offsetMin = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const local = new Date(now.getTime() + offsetMin * 60_000);
  const target = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 3, 0, 0);
  const t = target <= local.getTime() ? target + 86_400_000 : target;
  return new Date(t - offsetMin * 60_000).toISOString();
}
