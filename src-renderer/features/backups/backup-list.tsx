import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { BackupEntry, BackupListing, DrillSettings, RestoreDrillRecord, VerifyRecord } from '../../../src-main/shared/backups';
import type { AppErrorData } from '../../../src-main/shared/errors';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import { call } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { formatBytes } from '../../components/format-bytes';
import { ProfileSelect, useChosenProfile } from '../../components/profile-select';
import { useStore } from '../../stores/store';
import { useLatestJob } from '../setup/use-latest-job';

const TERMINAL = ['done', 'failed', 'cancelled'];
const isRunning = (j: JobSnapshot | undefined): boolean => j !== undefined && !TERMINAL.includes(j.state);
export const formatTime = (iso: string): string => new Date(iso).toLocaleString();

/** What the restore drill found: restored and compared, restored only, or the tables that differ. */
function RestoreDrillLine({ drill }: { readonly drill: RestoreDrillRecord }) {
  const { t } = useTranslation();
  const shown = drill.mismatches.slice(0, 5);
  const counts = { tables: drill.tables, rows: drill.rows };
  if (shown.length === 0)
    return (
      <div className="small muted" data-restore-drill={drill.compared ? 'ok' : 'not-compared'}>
        {t(drill.compared ? 'backupList.restoreDrill.ok' : 'backupList.restoreDrill.notCompared', counts)}
      </div>
    );
  return (
    <ul className="small" data-restore-drill="mismatch">
      {shown.map((m) => (
        <li key={m.table} data-mismatch={m.table}>
          {m.actual === null
            ? t('backupList.restoreDrill.missing', { table: m.table, expected: m.expected })
            : t('backupList.restoreDrill.mismatch', { table: m.table, expected: m.expected, actual: m.actual })}
        </li>
      ))}
      {drill.mismatches.length > shown.length && (
        <li>{t('backupList.restoreDrill.more', { count: drill.mismatches.length - shown.length })}</li>
      )}
    </ul>
  );
}

/** The verified column: the stored result, or the running/failed verify job of this row. */
function VerifiedCell({ entry, job }: { readonly entry: BackupEntry; readonly job: JobSnapshot | undefined }) {
  const { t } = useTranslation();
  const v: VerifyRecord | undefined = job?.state === 'done' ? (job.result as VerifyRecord) : entry.verified;
  if (isRunning(job)) return <span data-verified="running">{t('backupList.verifying')}</span>;
  return (
    <div>
      <span data-verified={v ? (v.ok ? 'ok' : 'failed') : 'never'} className={`badge ${v ? (v.ok ? 'done' : 'failed') : ''}`}>
        {v ? t(v.ok ? 'backupList.verified.ok' : 'backupList.verified.failed', { time: formatTime(v.at) }) : t('backupList.verified.never')}
      </span>
      {v?.ok && v.dumpCheck && !v.restoreDrill && <div className="small muted">{t(`backupList.dumpCheck.${v.dumpCheck}`)}</div>}
      {v?.restoreDrill && <RestoreDrillLine drill={v.restoreDrill} />}
      {job?.state === 'failed' && job.error && <ErrorNotice error={job.error as AppErrorData} />}
      {!job && v && !v.ok && v.code && <ErrorNotice error={{ code: v.code as AppErrorData['code'], message: '' }} />}
    </div>
  );
}

function EntryRow({
  entry,
  latest,
  job,
  onVerify,
}: {
  readonly entry: BackupEntry;
  readonly latest: boolean;
  readonly job: JobSnapshot | undefined;
  readonly onVerify: () => void;
}) {
  const { t } = useTranslation();
  const abandoned = entry.reasons.includes('abandoned');
  const hint = abandoned ? 'abandoned' : entry.state;
  // Replay reasons and missing/resized parts, for the curious; error codes are already said in words.
  const details = entry.reasons.filter((r) => r !== 'abandoned' && !r.startsWith('BACKUP_'));
  return (
    <tr data-backup={entry.backupId} data-state={entry.state} data-latest={String(latest)}>
      <td>
        {formatTime(entry.time)}
        {latest && <span className="badge done"> {t('backupList.latest')}</span>}
        <div className="small muted">{entry.backupId}</div>
      </td>
      <td>
        {formatBytes(entry.size)}
        <div className="small muted">{t('backupList.parts', { count: entry.partCount })}</div>
      </td>
      <td className="small">
        {entry.versions
          ? t('backupList.versions', {
              misskey: entry.versions.misskey ?? t('backupList.unknown'),
              postgres: entry.versions.postgres ?? t('backupList.unknown'),
            })
          : t('backupList.unknown')}
      </td>
      <td>
        <span className={`badge ${entry.state === 'genuine' ? 'done' : entry.state === 'in-progress' ? '' : 'failed'}`} data-state-badge>
          {t(`backupList.states.${entry.state}`)}
        </span>
        {entry.state !== 'genuine' && (
          <div className="small muted" data-state-hint={hint}>
            {t(`backupList.stateHints.${hint}`)}
            {details.length > 0 && <span className="small"> ({details.join(', ')})</span>}
          </div>
        )}
      </td>
      <td>
        <VerifiedCell entry={entry} job={job} />
      </td>
      <td>
        {entry.state === 'genuine' && (
          <button type="button" data-action="verify" disabled={isRunning(job)} onClick={onVerify}>
            {t('backupList.verify')}
          </button>
        )}
      </td>
    </tr>
  );
}

function DrillToggle({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const [drill, setDrill] = useState<DrillSettings>();
  const [error, setError] = useState<AppErrorData>();
  useEffect(() => {
    let live = true;
    void call('backups:drill-get', { profileId }).then((r) => live && (r.ok ? setDrill(r.value) : setError(r.error)));
    return () => {
      live = false;
    };
  }, [profileId]);
  const save = async (enabled: boolean, restoreDrill?: boolean): Promise<void> => {
    const r = await call('backups:drill-set', { profileId, enabled, ...(restoreDrill !== undefined ? { restoreDrill } : {}) });
    if (r.ok) setDrill(r.value);
    else setError(r.error);
  };
  return (
    <div
      className="small"
      data-drill={drill ? String(drill.enabled) : 'loading'}
      data-restore-drill-setting={drill ? String(drill.restoreDrill) : 'loading'}
    >
      <label className="inline">
        <input
          type="checkbox"
          name="backups-drill"
          checked={drill?.enabled ?? false}
          disabled={!drill}
          onChange={(e) => void save(e.target.checked)}
        />
        <span>{t('backupList.drill.label')}</span>
      </label>
      {drill?.lastRunAt && <span className="muted"> {t('backupList.drill.last', { time: formatTime(drill.lastRunAt) })}</span>}
      {drill?.nextDueAt && <span className="muted"> {t('backupList.drill.next', { time: formatTime(drill.nextDueAt) })}</span>}
      <div>
        <label className="inline">
          <input
            type="checkbox"
            name="backups-restore-drill"
            checked={drill?.restoreDrill ?? false}
            disabled={!drill?.enabled}
            onChange={(e) => void save(true, e.target.checked)}
          />
          <span>{t('backupList.drill.restore')}</span>
        </label>
      </div>
      {error && <ErrorNotice error={error} />}
    </div>
  );
}

/** Backups → the list of one server's backup runs, with signature and verified state, Verify, and the drill. */
export function BackupList() {
  const { t } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  const upsertJob = useStore((s) => s.upsertJob);
  const [error, setError] = useState<AppErrorData>();
  const [verifyJobs, setVerifyJobs] = useState<Readonly<Record<string, string>>>({});
  const [profileId, setChosen] = useChosenProfile();
  const listJob = useLatestJob('backups-list', profileId ?? '');
  const jobs = useStore((s) => s.jobs);

  // Results are applied in a callback (not synchronously in an effect).
  const applyList = (r: Awaited<ReturnType<typeof call<'backups:list'>>>): void => {
    setError(r.ok ? undefined : r.error);
    if (!r.ok) return;
    upsertJob(r.value);
    // Only the newest list task stays in the task panel.
    const s = useStore.getState();
    for (const j of Object.values(s.jobs))
      if (j.kind === 'backups-list' && j.subject === r.value.subject && j.id !== r.value.id && TERMINAL.includes(j.state))
        void s.dismissJob(j.id);
  };
  const refresh = (): void => {
    if (profileId) void call('backups:list', { profileId }).then(applyList);
  };
  useEffect(() => {
    if (profileId) void call('backups:list', { profileId }).then(applyList);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [profileId]);

  // A finished verify changes the stored results: read the list again (from the cache, no refetch).
  const finishedVerifies = Object.values(verifyJobs).filter((id) => jobs[id] && TERMINAL.includes(jobs[id].state)).length;
  useEffect(() => {
    if (profileId && finishedVerifies > 0) void call('backups:list', { profileId }).then(applyList);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [finishedVerifies]);

  const listing = listJob?.state === 'done' ? (listJob.result as BackupListing) : undefined;
  const verify = async (backupId: string): Promise<void> => {
    if (!profileId) return;
    const r = await call('backups:verify', { profileId, backupId });
    if (!r.ok) return setError(r.error);
    upsertJob(r.value);
    setVerifyJobs((m) => ({ ...m, [backupId]: r.value.id }));
  };

  return (
    <section data-section="backup-list" aria-label={t('backupList.title')} data-list-state={listJob?.state ?? 'idle'}>
      <h2>{t('backupList.title')}</h2>
      <p className="muted">{t('backupList.intro')}</p>
      {profiles.length > 0 && (
        <div className="row">
          <ProfileSelect name="backups-profile" label={t('backupList.server')} value={profileId} onChange={setChosen} />
          <button type="button" data-action="backups-refresh" disabled={isRunning(listJob)} onClick={refresh}>
            {t('backupList.refresh')}
          </button>
        </div>
      )}
      {profileId && <DrillToggle profileId={profileId} />}
      {isRunning(listJob) && <p className="small">{t(listJob?.step ?? 'backupList.listing', { defaultValue: t('backupList.listing') })}</p>}
      {listJob?.state === 'failed' && listJob.error?.details?.missing === 'storage' ? (
        <p className="muted" data-list-missing="storage">
          {t('backupList.noStorage')}
        </p>
      ) : (
        listJob?.state === 'failed' && listJob.error && <ErrorNotice error={listJob.error as AppErrorData} onRetry={refresh} />
      )}
      {error && <ErrorNotice error={error} />}
      {listing && (
        <>
          <p className="small muted" data-listed>
            {t('backupList.listedAt', { time: formatTime(listing.listedAt), count: listing.entries.length, fetched: listing.fetched })}
          </p>
          {!listing.latestGenuine && listing.entries.length > 0 && <p className="small">{t('backupList.noGenuine')}</p>}
          {listing.entries.length === 0 ? (
            <p className="muted">{t('backupList.empty')}</p>
          ) : (
            <table className="backup-list">
              <thead>
                <tr>
                  {(['time', 'size', 'versions', 'state', 'verified', 'actions'] as const).map((c) => (
                    <th key={c}>{t(`backupList.columns.${c}`)}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {listing.entries.map((e) => (
                  <EntryRow
                    key={e.backupId}
                    entry={e}
                    latest={e.backupId === listing.latestGenuine}
                    job={verifyJobs[e.backupId] ? jobs[verifyJobs[e.backupId]!] : undefined}
                    onVerify={() => void verify(e.backupId)}
                  />
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
