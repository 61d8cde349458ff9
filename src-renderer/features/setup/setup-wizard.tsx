import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ServerProfile } from '../../../src-main/shared/domain';
import type { AppErrorData, ErrorCode } from '../../../src-main/shared/errors';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import type { PreflightReport } from '../../../src-main/shared/setup';
import { call } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';
import { PreflightList } from './preflight-list';
import { useLatestJob } from './use-latest-job';

interface Review {
  readonly url: string;
  readonly rerun: boolean;
  readonly files: readonly { path: string; mode: string; content: string }[];
}

function JobFailure({ job }: { readonly job?: JobSnapshot }) {
  const { t } = useTranslation();
  if (job?.state !== 'failed' || !job.error) return null;
  const causes = (job.error.details?.causes ?? []) as readonly string[];
  return (
    <>
      <ErrorNotice error={{ code: job.error.code as ErrorCode, message: job.error.message }} />
      {causes.map((c) => (
        <p key={c} className="error-notice" data-diagnosis={c}>
          {t(`setup.diagnosis.${c}`)}
        </p>
      ))}
      <pre className="log small">{job.error.message}</pre>
    </>
  );
}

/**
 * Server → checks → options → review → apply → done. Every step is a job in main, found again by
 * its subject (the profile id), so the wizard carries on after a reload and resumes after a failure.
 */
export function SetupWizard({ profile, onClose }: { readonly profile: ServerProfile; readonly onClose: () => void }) {
  const { t } = useTranslation();
  const upsert = useStore((s) => s.upsertJob);
  const preflight = useLatestJob('setup-preflight', profile.id);
  const review = useLatestJob('setup-review', profile.id);
  const apply = useLatestJob('setup-apply', profile.id);
  const report = preflight?.state === 'done' ? (preflight.result as PreflightReport) : undefined;
  const [tls, setTls] = useState<'acme' | 'internal'>('acme');
  const [email, setEmail] = useState('');
  const [restrictSignIn, setRestrict] = useState(false);
  const [allowPrivate, setAllowPrivate] = useState(true);
  const [error, setError] = useState<AppErrorData>();

  const choices = () => ({
    profileId: profile.id,
    tls,
    ...(email.trim() ? { email: email.trim() } : {}),
    restrictSignIn,
    allowedPrivateNetworks: allowPrivate && report ? [...report.proposedAllowedPrivateNetworks] : [],
  });
  const start = async (p: Promise<{ ok: true; value: JobSnapshot } | { ok: false; error: AppErrorData }>) => {
    const r = await p;
    if (r.ok) upsert(r.value);
    setError(r.ok ? undefined : r.error);
  };
  const reviewed = review?.state === 'done' ? (review.result as Review) : undefined;
  const busy = [preflight, review, apply].some((j) => j && !['done', 'failed', 'cancelled'].includes(j.state));

  return (
    <div className="card wizard" data-wizard={profile.name}>
      <div className="row spread">
        <h2>{t('setup.wizard.title', { name: profile.name })}</h2>
        <button type="button" onClick={onClose}>
          {t('setup.wizard.close')}
        </button>
      </div>

      <h3>{t('setup.wizard.stepCheck')}</h3>
      <button type="button" disabled={busy} onClick={() => void start(call('setup:preflight', { profileId: profile.id }))}>
        {report ? t('setup.wizard.rerunChecks') : t('setup.wizard.runChecks')}
      </button>
      <JobFailure job={preflight} />
      {report && <PreflightList report={report} onFix={(fix) => void start(call('setup:fix', { profileId: profile.id, fix }))} />}
      {report?.blocking && <p className="error-notice">{t('setup.wizard.blocking')}</p>}

      {report && !report.blocking && (
        <div className="form" data-step="options">
          <h3>{t('setup.wizard.stepOptions')}</h3>
          <fieldset>
            <legend>{t('setup.wizard.tls')}</legend>
            <label className="inline">
              <input type="radio" name="tls" value="acme" checked={tls === 'acme'} onChange={() => setTls('acme')} />{' '}
              {t('setup.wizard.tlsAcme')}
            </label>
            <label className="inline">
              <input type="radio" name="tls" value="internal" checked={tls === 'internal'} onChange={() => setTls('internal')} />{' '}
              {t('setup.wizard.tlsInternal')}
            </label>
          </fieldset>
          {tls === 'acme' && (
            <label>
              <span>{t('setup.wizard.email')}</span>
              <input name="acme-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
            </label>
          )}
          <label className="inline">
            <input type="checkbox" name="restrict-sign-in" checked={restrictSignIn} onChange={(e) => setRestrict(e.target.checked)} />{' '}
            {t('setup.wizard.restrictSignIn')}
          </label>
          {report.proposedAllowedPrivateNetworks.length > 0 && (
            <label className="inline">
              <input type="checkbox" name="allow-private" checked={allowPrivate} onChange={(e) => setAllowPrivate(e.target.checked)} />{' '}
              {t('setup.wizard.allowPrivate', { cidrs: report.proposedAllowedPrivateNetworks.join(', ') })}
            </label>
          )}
          <h3>{t('setup.wizard.stepReview')}</h3>
          <button type="button" disabled={busy} onClick={() => void start(call('setup:review', choices()))}>
            {t('setup.wizard.review')}
          </button>
          <JobFailure job={review} />
        </div>
      )}

      {report && !report.blocking && reviewed && (
        <div data-step="review">
          {reviewed.rerun && <p className="banner">{t('setup.wizard.rerunNote')}</p>}
          {reviewed.files.map((f) => (
            <details key={f.path} data-file={f.path}>
              <summary>
                <code>{f.path}</code> ({f.mode})
              </summary>
              <pre className="log">{f.content}</pre>
            </details>
          ))}
          <h3>{t('setup.wizard.stepApply')}</h3>
          <button type="button" className="primary" disabled={busy} onClick={() => void start(call('setup:apply', choices()))}>
            {t('setup.wizard.apply')}
          </button>
        </div>
      )}
      <JobFailure job={apply} />
      {apply?.state === 'done' && (
        <p className="banner" data-setup-done>
          {t('setup.wizard.done', { url: (apply.result as { url: string }).url })}
        </p>
      )}
      {error && <ErrorNotice error={error} />}
    </div>
  );
}
