import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { BackupSummary } from '../../../src-main/shared/backups';
import { call } from '../../api/client';
import { formatTime } from '../backups/backup-list';

/**
 * A server's last genuine backup and whether it is verified, from the desktop's last listing and
 * stored verify results (no network: Backups reads the bucket).
 */
export function BackupLine({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const [s, setS] = useState<BackupSummary | 'error'>();
  useEffect(() => {
    let live = true;
    void call('backups:summary', { profileId }).then((r) => live && setS(r.ok ? r.value : 'error'));
    return () => {
      live = false;
    };
  }, [profileId]);
  if (!s) return null;
  if (s === 'error' || s.status !== 'ok')
    return (
      <div className="small muted" data-last-backup="unconfigured">
        {t('backupList.summary.unconfigured')}
      </div>
    );
  if (!s.listedAt)
    return (
      <div className="small muted" data-last-backup="not-listed">
        {t('backupList.summary.notListed')}
      </div>
    );
  const v = s.latest?.verified;
  const verified = v ? (v.ok ? 'verified' : 'failed') : 'not-verified';
  return (
    <div className="small" data-last-backup={s.latest ? s.latest.backupId : 'none'} data-last-backup-verified={verified}>
      {s.latest ? (
        <>
          {t('backupList.summary.latest', { time: formatTime(s.latest.time) })} · {t('backupList.states.genuine')} ·{' '}
          <span className={`badge ${v ? (v.ok ? 'done' : 'failed') : ''}`}>
            {t(v ? (v.ok ? 'backupList.summary.verified' : 'backupList.summary.verifyFailed') : 'backupList.summary.notVerified')}
          </span>
        </>
      ) : (
        t('backupList.summary.none')
      )}
      {s.flagged > 0 && (
        <span className="badge failed" data-flagged={s.flagged}>
          {' '}
          {t('backupList.summary.flagged', { count: s.flagged })}
        </span>
      )}
    </div>
  );
}
