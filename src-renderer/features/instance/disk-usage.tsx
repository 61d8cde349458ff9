import { useTranslation } from 'react-i18next';
import type { ErrorCode } from '../../../src-main/shared/errors';
import { call } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { formatBytes } from '../../components/format-bytes';
import { useStore } from '../../stores/store';
import { useLatestJob } from '../setup/use-latest-job';

/** Disk use of the instance's files and database, measured over SSH as a job (never guessed). */
export function DiskUsageLine({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const upsert = useStore((s) => s.upsertJob);
  const job = useLatestJob('disk-usage', profileId);
  const result = job?.state === 'done' ? (job.result as { filesBytes: number; dbBytes: number }) : undefined;
  return (
    <div className="row" data-disk-usage={result ? 'measured' : 'not-measured'}>
      {result ? (
        <span>{t('instance.remoteFiles.diskUsage', { files: formatBytes(result.filesBytes), db: formatBytes(result.dbBytes) })}</span>
      ) : (
        <span className="muted small">{t('instance.remoteFiles.diskUsageLater')}</span>
      )}
      <button
        type="button"
        onClick={async () => {
          const r = await call('setup:disk-usage', { profileId });
          if (r.ok) upsert(r.value);
        }}
      >
        {t('instance.remoteFiles.measure')}
      </button>
      {job?.state === 'failed' && job.error && <ErrorNotice error={{ code: job.error.code as ErrorCode, message: job.error.message }} />}
    </div>
  );
}
