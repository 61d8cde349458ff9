import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, type LanguageSetting } from '../../../src-main/shared/domain';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';
import { VaultPanel } from './vault-panel';

export function SettingsScreen() {
  const { t } = useTranslation();
  const language = useStore((s) => s.settings.language);
  const setLanguage = useStore((s) => s.setLanguage);
  const info = useStore((s) => s.info);
  const selfCheck = useStore((s) => s.startSelfCheck);
  const jobsError = useStore((s) => s.jobsError);
  const [error, setError] = useState<AppErrorData>();
  return (
    <section>
      <h1>{t('settings.title')}</h1>
      <div className="card form">
        <label>
          <span>{t('settings.language')}</span>
          <select name="language" value={language} onChange={(e) => void setLanguage(e.target.value as LanguageSetting).then(setError)}>
            {LANGUAGES.map((l) => (
              <option key={l} value={l}>
                {t(`settings.languages.${l}`)}
              </option>
            ))}
          </select>
        </label>
        {error && <ErrorNotice error={error} />}
      </div>
      <VaultPanel />
      <div className="card">
        <h2>{t('settings.selfCheck')}</h2>
        <p className="muted small">{t('settings.selfCheckHint')}</p>
        <button type="button" onClick={() => void selfCheck(true)}>
          {t('settings.selfCheck')}
        </button>
        {jobsError && <ErrorNotice error={jobsError} />}
      </div>
      {info && (
        <dl className="card facts">
          <dt>{t('settings.version')}</dt>
          <dd>{info.version}</dd>
          <dt>{t('settings.mode')}</dt>
          <dd>{t(`settings.modes.${info.mode}`)}</dd>
          <dt>{t('settings.dataDir')}</dt>
          <dd>
            <code>{info.dataDir}</code>
          </dd>
        </dl>
      )}
    </section>
  );
}
