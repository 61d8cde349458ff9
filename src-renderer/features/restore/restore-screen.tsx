import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { BackupListing } from '../../../src-main/shared/backups';
import type { AppErrorData, ErrorCode } from '../../../src-main/shared/errors';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import type { RestoreResult, RestoreServerState } from '../../../src-main/shared/restore';
import { call } from '../../api/client';
import { EmptyState } from '../../components/empty-state';
import { ErrorNotice } from '../../components/error-notice';
import { ProfileSelect, useChosenProfile } from '../../components/profile-select';
import { useStore } from '../../stores/store';
import { useLatestJob, useLatestJobSubject } from '../setup/use-latest-job';

const ENDED = ['done', 'failed', 'cancelled'];
const ended = (j: JobSnapshot | undefined) => j !== undefined && ENDED.includes(j.state);
const jobError = (j: JobSnapshot | undefined): AppErrorData | undefined =>
  j?.state === 'failed' && j.error ? { code: j.error.code as ErrorCode, message: j.error.message } : undefined;
const BACKUP_ID = /^\d{8}T\d{6}Z-\d{8}$/;

/**
 * Restore: pick a backup of a server and where it goes (the same server or a fresh one set up under
 * the same domain). Everything is verified on this computer before anything is sent; the server keeps
 * the old data aside until you confirm the restored instance.
 */
export function RestoreScreen() {
  const { t, i18n } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  const upsert = useStore((s) => s.upsertJob);
  const [targetChoice, setTarget] = useState<string>();
  const [backupId, setBackupId] = useState('');
  const [migrate, setMigrate] = useState(false);
  const [error, setError] = useState<AppErrorData>();
  const [source, setSource] = useChosenProfile();
  // Until one is chosen, the target is the server of the newest restore (a reloaded or new window
  // shows the restore that waits for confirmation there), else the source itself.
  const lastTarget = useLatestJobSubject('restore-run');
  const target = [targetChoice, lastTarget].find((id) => profiles.some((p) => p.id === id)) ?? source;
  const listJob = useLatestJob('backups-list', source ?? '');
  const runJob = useLatestJob('restore-run', target ?? '');
  const statusJob = useLatestJob('restore-status', target ?? '');
  const confirmJob = useLatestJob('restore-confirm', target ?? '');
  // Only genuine backups are offered (the list flags unsigned, forged, replayed and incomplete ones).
  const listing = listJob?.state === 'done' ? (listJob.result as BackupListing) : undefined;
  const genuine = listing?.entries.filter((e) => e.state === 'genuine') ?? [];
  const serverState = statusJob?.state === 'done' ? (statusJob.result as RestoreServerState | null) : undefined;
  const result = runJob?.state === 'done' ? (runJob.result as RestoreResult) : undefined;
  const waiting = serverState?.phase === 'healthy' || (result !== undefined && !ended(confirmJob));

  useEffect(() => {
    if (!source) return;
    void call('backups:list', { profileId: source }).then((r) => (r.ok ? upsert(r.value) : setError(r.error)));
  }, [source, upsert]);
  const lastEnd = [runJob, confirmJob]
    .filter(ended)
    .map((j) => j!.updatedAt)
    .sort()
    .at(-1);
  useEffect(() => {
    if (!target) return;
    void call('restore:status', { profileId: target }).then((r) => (r.ok ? upsert(r.value) : setError(r.error)));
  }, [target, lastEnd, upsert]);

  if (profiles.length === 0)
    return (
      <section>
        <h1>{t('restore.title')}</h1>
        <EmptyState text={t('restore.empty')} />
      </section>
    );
  const running = runJob !== undefined && !ended(runJob);
  return (
    <section data-section="restore">
      <h1>{t('restore.title')}</h1>
      <p className="muted">{t('restore.intro')}</p>
      <div className="card">
        <ProfileSelect
          name="restore-source"
          label={t('restore.source')}
          value={source}
          onChange={setSource}
          describe={(p) => `${p.name} (${p.domain})`}
        />
        <label className="row">
          <span>{t('restore.backup')}</span>
          <select
            name="restore-backup"
            value={backupId}
            data-restore-choices={genuine.length}
            onChange={(e) => setBackupId(e.target.value)}
          >
            <option value="">{listJob && !ended(listJob) ? t('restore.listing') : t('restore.pick')}</option>
            {genuine.map((e) => (
              <option key={e.backupId} value={e.backupId}>
                {new Date(e.time).toLocaleString(i18n.language)} — {e.backupId}
                {e.backupId === listing?.latestGenuine ? ` (${t('restore.latest')})` : ''}
                {e.verified?.ok ? ` ✓ ${t('restore.verified')}` : ''}
              </option>
            ))}
          </select>
        </label>
        {listing && genuine.length === 0 && <p className="small muted">{t('restore.noGenuine')}</p>}
        <ProfileSelect
          name="restore-target"
          label={t('restore.target')}
          value={target}
          onChange={setTarget}
          describe={(p) => `${p.name} (${p.domain})${p.id === source ? ` — ${t('restore.sameServer')}` : ''}`}
        />
        <label className="inline">
          <input type="checkbox" name="restore-migrate" checked={migrate} onChange={(e) => setMigrate(e.target.checked)} />
          <span>{t('restore.migrate')}</span>
        </label>
        <p className="small muted">{t('restore.safety')}</p>
        <button
          type="button"
          name="restore-start"
          className="primary"
          disabled={running || waiting || !BACKUP_ID.test(backupId) || !source || !target}
          onClick={async () => {
            if (!source || !target) return;
            const r = await call('restore:run', {
              sourceProfileId: source,
              targetProfileId: target,
              backupId,
              ...(migrate ? { migrate: true } : {}),
            });
            if (r.ok) {
              setError(undefined);
              upsert(r.value);
            } else setError(r.error);
          }}
        >
          {t('restore.start')}
        </button>
      </div>
      {error && <ErrorNotice error={error} />}
      {running && <p data-restore-progress>{t(runJob.step ?? 'restore.steps.manifest', { defaultValue: runJob.step })}</p>}
      {jobError(runJob) && (
        <div data-restore-result="failed">
          <ErrorNotice error={jobError(runJob)!} />
        </div>
      )}
      {serverState && (
        <div className="card" data-restore-phase={serverState.phase}>
          <p>{t(`restore.phases.${serverState.phase}`, { defaultValue: serverState.phase })}</p>
          {serverState.message && <p className="small muted">{serverState.message}</p>}
        </div>
      )}
      {waiting && target && (
        <div className="card" data-restore-result="healthy">
          <p>{t('restore.checkNow', { kept: result?.keptAside ?? '' })}</p>
          <button
            type="button"
            name="restore-confirm"
            onClick={async () => {
              const r = await call('restore:confirm', { profileId: target });
              if (r.ok) upsert(r.value);
              else setError(r.error);
            }}
          >
            {t('restore.confirm')}
          </button>
        </div>
      )}
      {confirmJob?.state === 'done' && (
        <p className="check pass" data-restore-confirmed>
          {t('restore.confirmed')}
        </p>
      )}
      {jobError(confirmJob) && <ErrorNotice error={jobError(confirmJob)!} />}
    </section>
  );
}
