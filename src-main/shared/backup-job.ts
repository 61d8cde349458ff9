/** The nightly backup job as main and the renderer see it. Plain data only (the renderer imports this file). */

/** Stages the runner and the job report (`backupJob.stages.<stage>` in i18n). */
export const BACKUP_JOB_STAGES = [
  'hooks-pre',
  'versions',
  'dump',
  'check',
  'snapshot',
  'job',
  'prepare',
  'upload',
  'retention',
  'hooks-post',
] as const;

export interface InstallSummary {
  readonly serverId: string;
  /** Fingerprint of the server signing key, generated on the server and now pinned. */
  readonly fingerprint: string;
  readonly scheduler: 'systemd' | 'cron';
  readonly keep: number;
  readonly image: string;
}

export interface BackupRunView {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSec: number;
  readonly result: 'ok' | 'failed' | 'cancelled';
  /** Where it ended (`done` for a good run). */
  readonly stage: string;
  readonly trigger: string;
  readonly backupId?: string;
  readonly uploadedBytes?: number;
  readonly archiveBytes?: number;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly retention?: 'applied' | 'nothing-to-do' | 'refused' | 'left-to-desktop';
  readonly deleted?: number;
}

export interface BackupJobStatus {
  readonly installed: boolean;
  readonly scheduler: 'systemd' | 'cron' | 'none';
  /** ISO time of the next scheduled start (cron: the 03:00 slot; the run starts within 30 minutes of it). */
  readonly nextRun?: string;
  readonly running: boolean;
  /** Newest first. */
  readonly runs: readonly BackupRunView[];
}
