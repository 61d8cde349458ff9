import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Args } from '../../../src-main/shared/contract';
import type { AppErrorData } from '../../../src-main/shared/errors';
import {
  checkEndpoint,
  DEFAULT_STORAGE_PREFIX,
  STORAGE_PRESET_INFO,
  STORAGE_PRESETS,
  STORAGE_TEST_STEPS,
  type StoragePreset,
  type StorageStepResult,
  type StorageTestResult,
  type StorageView,
} from '../../../src-main/shared/storage';
import { call } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { ProfileSelect, useChosenProfile } from '../../components/profile-select';
import { useStore } from '../../stores/store';

type Fields = {
  preset: StoragePreset;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  desktopAccessKeyId: string;
  desktopSecret: string;
  serverAccessKeyId: string;
  serverSecret: string;
};

const fromView = (v: StorageView | null): Fields => ({
  preset: v?.preset ?? 'r2',
  endpoint: v?.endpoint ?? STORAGE_PRESET_INFO.r2.endpointTemplate,
  region: v?.region ?? STORAGE_PRESET_INFO.r2.region,
  bucket: v?.bucket ?? '',
  prefix: v?.prefix ?? DEFAULT_STORAGE_PREFIX,
  forcePathStyle: v?.forcePathStyle ?? STORAGE_PRESET_INFO.r2.forcePathStyle,
  desktopAccessKeyId: v?.desktopAccessKeyId ?? '',
  desktopSecret: '',
  serverAccessKeyId: v?.serverAccessKeyId ?? '',
  serverSecret: '',
});

/** The connection test's steps, from the job's result or (on failure) its error details. */
function TestSteps({ steps }: { readonly steps: readonly StorageStepResult[] }) {
  const { t } = useTranslation();
  const byStep = new Map(steps.map((s) => [s.step, s]));
  return (
    <ul className="checks" data-storage-steps>
      {STORAGE_TEST_STEPS.map((step) => {
        const r = byStep.get(step);
        const outcome = r?.outcome ?? 'not-run';
        const cls = outcome === 'ok' || outcome === 'denied' ? 'pass' : outcome === 'allowed' ? 'warn' : outcome === 'failed' ? 'fail' : '';
        return (
          <li key={step} className={`check ${cls}`} data-storage-step={step} data-outcome={outcome}>
            <span>{t(`storage.outcomes.${outcome}`)}</span> {t(`storage.steps.${step}`)}
            {r?.code && <span className="small"> — {t(`errors.${r.code}`, { defaultValue: r.code })}</span>}
          </li>
        );
      })}
    </ul>
  );
}

function ConnectionTest({ profileId, disabled }: { readonly profileId: string; readonly disabled: boolean }) {
  const { t } = useTranslation();
  const upsertJob = useStore((s) => s.upsertJob);
  const [jobId, setJobId] = useState<string>();
  const [error, setError] = useState<AppErrorData>();
  const job = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const result = job?.state === 'done' ? (job.result as StorageTestResult) : undefined;
  const failedSteps = job?.state === 'failed' ? ((job.error?.details?.steps ?? []) as StorageStepResult[]) : undefined;
  const running = job !== undefined && !['done', 'failed', 'cancelled'].includes(job.state);
  return (
    <div className="card" data-storage-test={job?.state ?? 'idle'}>
      <div className="row spread">
        <strong>{t('storage.testTitle')}</strong>
        <button
          type="button"
          data-action="storage-test"
          disabled={disabled || running}
          onClick={async () => {
            setError(undefined);
            const r = await call('storage:test', { profileId });
            if (!r.ok) return setError(r.error);
            upsertJob(r.value);
            setJobId(r.value.id);
          }}
        >
          {t('storage.test')}
        </button>
      </div>
      <p className="small muted">{t('storage.testHint')}</p>
      {running && job?.step && <p className="small">{t(job.step, { defaultValue: '' })}</p>}
      {result && <TestSteps steps={result.steps} />}
      {result && (
        <p className="small" data-server-can-delete={String(result.serverCanDelete)}>
          {result.serverCanDelete === null
            ? t('storage.serverKeyNotTested')
            : result.serverCanDelete
              ? t('storage.serverCanDelete')
              : t('storage.serverCannotDelete')}
        </p>
      )}
      {failedSteps && <TestSteps steps={failedSteps} />}
      {job?.state === 'failed' && job.error && <ErrorNotice error={job.error as AppErrorData} />}
      {error && <ErrorNotice error={error} />}
    </div>
  );
}

function StorageForm({
  profileId,
  view,
  onSaved,
}: {
  readonly profileId: string;
  readonly view: StorageView | null;
  readonly onSaved: (v: StorageView) => void;
}) {
  const { t } = useTranslation();
  const vaultUnlocked = useStore((s) => s.vault?.unlocked ?? false);
  const [f, setF] = useState<Fields>(() => fromView(view));
  const [error, setError] = useState<AppErrorData>();
  const [invalid, setInvalid] = useState<readonly string[]>([]);
  const [saved, setSaved] = useState(false);
  const set = (k: keyof Fields) => (e: { target: { value: string } }) => {
    setSaved(false);
    setF({ ...f, [k]: e.target.value });
  };
  const endpointCheck = checkEndpoint(f.endpoint.trim());

  function choosePreset(preset: StoragePreset): void {
    const p = STORAGE_PRESET_INFO[preset];
    setSaved(false);
    setF({ ...f, preset, endpoint: p.endpointTemplate, region: p.region, forcePathStyle: p.forcePathStyle });
  }

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    const serverKeyId = f.serverAccessKeyId.trim();
    const input: Args<'storage:save'> = {
      profileId,
      preset: f.preset,
      endpoint: f.endpoint.trim(),
      region: f.region.trim(),
      bucket: f.bucket.trim(),
      prefix: f.prefix.trim(),
      forcePathStyle: f.forcePathStyle,
      desktopAccessKeyId: f.desktopAccessKeyId.trim(),
      ...(f.desktopSecret ? { desktopSecret: f.desktopSecret } : {}),
      serverAccessKeyId: serverKeyId || null,
      ...(serverKeyId && f.serverSecret ? { serverSecret: f.serverSecret } : {}),
    };
    const r = await call('storage:save', input);
    if (!r.ok) {
      setError(r.error);
      const issues = (r.error.details?.issues ?? []) as readonly { path: string }[];
      setInvalid(issues.map((i) => String(i.path)));
      return;
    }
    setError(undefined);
    setInvalid([]);
    setF({ ...f, desktopSecret: '', serverSecret: '' });
    setSaved(true);
    onSaved(r.value);
  }

  const field = (k: Exclude<keyof Fields, 'preset' | 'forcePathStyle'>, type = 'text', extra: Record<string, string> = {}) => (
    <label className={invalid.includes(k) ? 'invalid' : undefined}>
      <span>{t(`storage.fields.${k}`)}</span>
      <input
        name={`storage-${k}`}
        type={type}
        value={f[k]}
        onChange={set(k)}
        aria-invalid={invalid.includes(k)}
        autoCapitalize="off"
        spellCheck={false}
        {...extra}
      />
    </label>
  );
  const secretSaved = (has: boolean | undefined): Record<string, string> => (has ? { placeholder: t('storage.secretKeep') } : {});

  return (
    <form className="card form" data-form="storage" onSubmit={(e) => void submit(e)} aria-label={t('storage.title')}>
      <label>
        <span>{t('storage.fields.preset')}</span>
        <select name="storage-preset" value={f.preset} onChange={(e) => choosePreset(e.target.value as StoragePreset)}>
          {STORAGE_PRESETS.map((p) => (
            <option key={p} value={p}>
              {p === 'custom' ? t('storage.presets.custom') : STORAGE_PRESET_INFO[p].label}
            </option>
          ))}
        </select>
      </label>
      <p className="small muted" data-preset-hint={f.preset}>
        {t(`storage.presetHints.${f.preset}`)}
      </p>
      {field('endpoint', 'url')}
      {!endpointCheck.ok && f.endpoint.trim() !== '' && (
        <p className="small muted" data-endpoint-problem={endpointCheck.reason}>
          {t(`storage.endpointProblems.${endpointCheck.reason}`)}
        </p>
      )}
      {endpointCheck.ok && endpointCheck.insecure && (
        <p className="small check warn" data-endpoint-insecure>
          {t('storage.insecureWarning')}
        </p>
      )}
      {field('region')}
      {field('bucket')}
      {field('prefix')}
      <label className="inline">
        <input
          type="checkbox"
          name="storage-forcePathStyle"
          checked={f.forcePathStyle}
          onChange={(e) => {
            setSaved(false);
            setF({ ...f, forcePathStyle: e.target.checked });
          }}
        />
        <span>{t('storage.fields.forcePathStyle')}</span>
      </label>

      <h3>{t('storage.desktopKeyTitle')}</h3>
      <p className="small muted">{t('storage.desktopKeyHint')}</p>
      {field('desktopAccessKeyId')}
      {field('desktopSecret', 'password', { autoComplete: 'off', ...secretSaved(view?.hasDesktopSecret) })}
      {view?.hasDesktopSecret && (
        <p className="small" data-secret-saved="desktop">
          {t('storage.secretSaved')}
        </p>
      )}

      <h3>{t('storage.serverKeyTitle')}</h3>
      <p className="small muted">{t('storage.serverKeyHint')}</p>
      {field('serverAccessKeyId')}
      {field('serverSecret', 'password', { autoComplete: 'off', ...secretSaved(view?.hasServerSecret) })}
      {view?.hasServerSecret && (
        <p className="small" data-secret-saved="server">
          {t('storage.secretSaved')}
        </p>
      )}
      {!vaultUnlocked && <p className="muted small">{t('setup.vaultLockedHint')}</p>}

      {error && <ErrorNotice error={error} />}
      <div className="row">
        <button type="submit" className="primary">
          {t('common.save')}
        </button>
        {saved && (
          <span className="small" data-storage-saved>
            {t('storage.saved')}
          </span>
        )}
      </div>
    </form>
  );
}

/** Backups → Storage: the S3-compatible bucket of one server profile, its two keys, and the connection test. */
export function StorageSection() {
  const { t } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  const vaultUnlocked = useStore((s) => s.vault?.unlocked);
  const [view, setView] = useState<{ readonly id: string; readonly v: StorageView | null }>();
  const [error, setError] = useState<AppErrorData>();

  const [profileId, setChosen] = useChosenProfile();

  useEffect(() => {
    if (!profileId) return;
    let live = true;
    void call('storage:get', { profileId }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setError(undefined);
        setView({ id: profileId, v: r.value });
      } else setError(r.error);
    });
    return () => {
      live = false;
    };
  }, [profileId, vaultUnlocked]);

  const ready = view && view.id === profileId;
  return (
    <section data-section="storage" aria-label={t('storage.title')}>
      <h2>{t('storage.title')}</h2>
      <p className="muted">{t('storage.intro')}</p>
      {profiles.length === 0 ? (
        <p className="muted">{t('storage.noProfile')}</p>
      ) : (
        <ProfileSelect name="storage-profile" label={t('storage.server')} value={profileId} onChange={setChosen} />
      )}
      {error && <ErrorNotice error={error} />}
      {ready && profileId && (
        <div key={profileId} data-storage-profile={profileId} data-storage-configured={String(view.v !== null)}>
          <StorageForm profileId={profileId} view={view.v} onSaved={(v) => setView({ id: profileId, v })} />
          <ConnectionTest profileId={profileId} disabled={view.v === null} />
        </div>
      )}
    </section>
  );
}
