import { useTranslation } from 'react-i18next';
import { useShallow } from 'zustand/react/shallow';
import type { JobSnapshot } from '../../src-main/shared/jobs';
import { TERMINAL_JOB_STATES } from '../../src-main/shared/jobs';
import { useStore } from '../stores/store';
import { formatBytes } from './format-bytes';
import { JobPromptCard } from './job-prompt';
import { ErrorNotice } from './error-notice';
import type { ErrorCode } from '../../src-main/shared/errors';

function JobRow({ job }: { readonly job: JobSnapshot }) {
  const { t } = useTranslation();
  const cancel = useStore((s) => s.cancelJob);
  const dismiss = useStore((s) => s.dismissJob);
  const finished = TERMINAL_JOB_STATES.includes(job.state);
  return (
    <li className="job" data-job-kind={job.kind} data-job-state={job.state}>
      <div className="row spread">
        <strong>{t(job.titleKey)}</strong>
        <span className={`badge ${job.state}`}>{t(`jobs.states.${job.state}`)}</span>
      </div>
      {!finished && (
        <>
          <progress max={1} value={job.progress} aria-label={t(job.titleKey)} />
          <div className="row spread small">
            <span>{job.step ? t(job.step) : ''}</span>
            {job.bytesTotal !== undefined && job.bytesDone !== undefined && (
              <span>{t('jobs.bytes', { done: formatBytes(job.bytesDone), total: formatBytes(job.bytesTotal) })}</span>
            )}
          </div>
        </>
      )}
      {job.prompt && <JobPromptCard jobId={job.id} prompt={job.prompt} />}
      {job.error && <ErrorNotice error={{ code: job.error.code as ErrorCode, message: job.error.message }} />}
      {job.log.length > 0 && (
        <details>
          <summary>{t('jobs.showLog')}</summary>
          <pre className="log">{job.log.join('\n')}</pre>
        </details>
      )}
      <div className="row">
        {!finished && (
          <button type="button" onClick={() => void cancel(job.id)}>
            {t('jobs.cancel')}
          </button>
        )}
        {finished && (
          <button type="button" onClick={() => void dismiss(job.id)}>
            {t('common.dismiss')}
          </button>
        )}
      </div>
    </li>
  );
}

/** Every job, whatever its kind: progress, step, bytes, questions, cancel. */
export function JobsPanel() {
  const { t } = useTranslation();
  const jobs = useStore(useShallow((s) => Object.values(s.jobs).sort((a, b) => b.createdAt.localeCompare(a.createdAt))));
  return (
    <aside className="jobs-panel" aria-label={t('jobs.title')}>
      <h2>{t('jobs.title')}</h2>
      {jobs.length === 0 ? (
        <p className="muted">{t('jobs.empty')}</p>
      ) : (
        <ul>
          {jobs.map((j) => (
            <JobRow key={j.id} job={j} />
          ))}
        </ul>
      )}
    </aside>
  );
}
