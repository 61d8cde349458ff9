import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { BackupJobStatus, BackupRunView, InstallSummary } from '../../../src-main/shared/backup-job';
import type { AppErrorData, ErrorCode } from '../../../src-main/shared/errors';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import { call } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { formatBytes } from '../../components/format-bytes';
import { ProfileSelect, useChosenProfile } from '../../components/profile-select';
import { useStore } from '../../stores/store';
import { useLatestJob } from '../setup/use-latest-job';

const ENDED = ['done', 'failed', 'cancelled'];
const ended = (j: JobSnapshot | undefined) => j !== undefined && ENDED.includes(j.state);
const jobError = (j: JobSnapshot | undefined): AppErrorData | undefined =>
  j?.state === 'failed' && j.error ? { code: j.error.code as ErrorCode, message: j.error.message } : undefined;

function RunsTable({ runs }: { readonly runs: readonly BackupRunView[] }) {
  const { t, i18n } = useTranslation();
  if (runs.length === 0) return <p className="muted">{t('backupJob.noRuns')}</p>;
  const when = (iso: string) => new Date(iso).toLocaleString(i18n.language);
  return (
    <table className="table" data-nightly-runs>
      <thead>
        <tr>
          <th>{t('backupJob.columns.started')}</th>
          <th>{t('backupJob.columns.result')}</th>
          <th>{t('backupJob.columns.duration')}</th>
          <th>{t('backupJob.columns.size')}</th>
          <th>{t('backupJob.columns.details')}</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.startedAt + r.finishedAt} data-run-result={r.result} data-run-backup={r.backupId ?? ''}>
            <td>{when(r.startedAt)}</td>
            <td className={r.result === 'ok' ? 'check pass' : 'check fail'}>
              {t(`backupJob.result.${r.result}`)}{' '}
              <span className="small muted">({t(`backupJob.trigger.${r.trigger}`, { defaultValue: r.trigger })})</span>
            </td>
            <td>{t('backupJob.seconds', { count: r.durationSec })}</td>
            <td>{r.uploadedBytes !== undefined ? formatBytes(r.uploadedBytes) : '—'}</td>
            <td className="small">
              {r.result === 'ok' ? (
                <>
                  <code>{r.backupId}</code>
                  {r.retention && <div>{t(`backupJob.retention.${r.retention}`, { count: r.deleted ?? 0 })}</div>}
                </>
              ) : (
                <>
                  {t('backupJob.failedAt', { stage: t(`backupJob.stages.${r.stage}`, { defaultValue: r.stage }) })}
                  {r.errorCode && <div>{t(`errors.${r.errorCode}`, { defaultValue: r.errorMessage ?? r.errorCode })}</div>}
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Backups → Nightly backups: install the job on a server, its schedule and recent runs, "Back up now", the log. */
export function NightlySection() {
  const { t, i18n } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  const upsert = useStore((s) => s.upsertJob);
  const [keep, setKeep] = useState(14);
  const [error, setError] = useState<AppErrorData>();
  const [profileId, setChosen] = useChosenProfile();
  const subject = profileId ?? '';
  const statusJob = useLatestJob('backup-job-status', subject);
  const installJob = useLatestJob('backup-job-install', subject);
  const runJob = useLatestJob('backup-job-run', subject);
  const logJob = useLatestJob('backup-job-log', subject);
  const status = statusJob?.state === 'done' ? (statusJob.result as BackupJobStatus) : undefined;
  const installed = installJob?.state === 'done' ? (installJob.result as InstallSummary) : undefined;
  const running = (runJob && !ended(runJob)) || (installJob && !ended(installJob));

  const start = (channel: 'backup-job:status' | 'backup-job:run' | 'backup-job:log') =>
    profileId
      ? call(channel, { profileId }).then((r) => {
          if (r.ok) {
            setError(undefined);
            upsert(r.value);
          } else setError(r.error);
        })
      : Promise.resolve();

  useEffect(() => {
    if (!profileId) return;
    void call('backup-job:status', { profileId }).then((r) => (r.ok ? upsert(r.value) : setError(r.error)));
  }, [profileId, upsert]);
  // Refresh the status after an install or a run ends.
  const lastEnd = [runJob, installJob]
    .filter(ended)
    .map((j) => j!.updatedAt)
    .sort()
    .at(-1);
  useEffect(() => {
    if (!profileId || !lastEnd) return;
    void call('backup-job:status', { profileId }).then((r) => (r.ok ? upsert(r.value) : setError(r.error)));
  }, [profileId, lastEnd, upsert]);

  return (
    <section data-section="nightly" aria-label={t('backupJob.title')}>
      <h2>{t('backupJob.title')}</h2>
      <p className="muted">{t('backupJob.intro')}</p>
      {profiles.length === 0 ? (
        <p className="muted">{t('storage.noProfile')}</p>
      ) : (
        <ProfileSelect name="nightly-profile" label={t('storage.server')} value={profileId} onChange={setChosen} />
      )}
      {error && <ErrorNotice error={error} />}
      {profileId && (
        <div data-nightly-profile={profileId} data-nightly-installed={status ? String(status.installed) : 'unknown'}>
          {!status && statusJob && !ended(statusJob) && <p className="muted">{t('backupJob.checking')}</p>}
          {jobError(statusJob) && <ErrorNotice error={jobError(statusJob)!} />}
          {status && (
            <div className="card">
              <p data-nightly-schedule={status.scheduler}>
                {status.installed ? t(`backupJob.scheduler.${status.scheduler}`) : t('backupJob.notInstalled')}
                {status.nextRun && (
                  <span data-nightly-next={status.nextRun}>
                    {' '}
                    {t('backupJob.nextRun', { when: new Date(status.nextRun).toLocaleString(i18n.language) })}
                  </span>
                )}
              </p>
              {status.running && <p className="check warn">{t('backupJob.runningNow')}</p>}
            </div>
          )}
          <div className="row">
            <label className="row">
              <span>{t('backupJob.keep')}</span>
              <input
                type="number"
                name="nightly-keep"
                min={1}
                max={1000}
                value={keep}
                onChange={(e) => setKeep(Math.max(1, Math.min(1000, Number(e.target.value) || 1)))}
              />
            </label>
            <button
              type="button"
              name="nightly-install"
              disabled={!!running}
              onClick={async () => {
                const r = await call('backup-job:install', { profileId, keep });
                if (r.ok) {
                  setError(undefined);
                  upsert(r.value);
                } else setError(r.error);
              }}
            >
              {status?.installed ? t('backupJob.reinstall') : t('backupJob.install')}
            </button>
            <button
              type="button"
              name="nightly-run"
              className="primary"
              disabled={!!running || !status?.installed}
              onClick={() => void start('backup-job:run')}
            >
              {t('backupJob.runNow')}
            </button>
            <button type="button" name="nightly-log" onClick={() => void start('backup-job:log')}>
              {t('backupJob.showLog')}
            </button>
            <button type="button" name="nightly-refresh" onClick={() => void start('backup-job:status')}>
              {t('backupJob.refresh')}
            </button>
          </div>
          {installed && (
            <p className="small" data-nightly-pinned={installed.fingerprint}>
              {t('backupJob.installedSummary', {
                fingerprint: installed.fingerprint,
                scheduler: installed.scheduler,
                keep: installed.keep,
              })}
            </p>
          )}
          {jobError(installJob) && <ErrorNotice error={jobError(installJob)!} />}
          {runJob && !ended(runJob) && (
            <p data-nightly-progress>
              {t(runJob.step ?? 'backupJob.stages.job', { defaultValue: runJob.step })}
              {runJob.bytesTotal ? ` — ${formatBytes(runJob.bytesDone ?? 0)} / ${formatBytes(runJob.bytesTotal)}` : ''}
            </p>
          )}
          {runJob?.state === 'done' && (
            <p className="check pass" data-nightly-last-run="ok">
              {t('backupJob.runDone', { id: (runJob.result as BackupRunView).backupId })}
            </p>
          )}
          {jobError(runJob) && (
            <div data-nightly-last-run="failed">
              <ErrorNotice error={jobError(runJob)!} />
            </div>
          )}
          {status && <RunsTable runs={status.runs} />}
          {logJob?.state === 'done' && (
            <details open data-nightly-log>
              <summary>{t('backupJob.logTitle')}</summary>
              <pre className="log">{(logJob.result as string) || t('backupJob.logEmpty')}</pre>
            </details>
          )}
          {jobError(logJob) && <ErrorNotice error={jobError(logJob)!} />}
        </div>
      )}
    </section>
  );
}
