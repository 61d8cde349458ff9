import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ServerProfile } from '../../../src-main/shared/domain';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { EmptyState } from '../../components/empty-state';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';
import { ProfileForm } from './profile-form';
import { SetupWizard } from './setup-wizard';

/** Server profiles: the list, and the form to add or edit one. */
export function SetupScreen() {
  const { t } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  const remove = useStore((s) => s.deleteProfile);
  const [editing, setEditing] = useState<ServerProfile | 'new'>();
  const [error, setError] = useState<AppErrorData>();
  const [wizardFor, setWizardFor] = useState<string>();
  const wizardProfile = profiles.find((p) => p.id === wizardFor);

  return (
    <section>
      <h1>{t('setup.title')}</h1>
      <p className="muted">{t('setup.intro')}</p>
      {profiles.length === 0 && !editing && (
        <EmptyState text={t('setup.empty')}>
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            {t('setup.add')}
          </button>
        </EmptyState>
      )}
      {profiles.length > 0 && (
        <ul className="cards" aria-label={t('setup.title')}>
          {profiles.map((p) => (
            <li key={p.id} className="card" data-profile={p.name}>
              <div className="row spread">
                <strong>{p.name}</strong>
                <code>
                  {p.user}@{p.host}:{p.port}
                </code>
              </div>
              <div className="small muted">
                {p.domain} · {p.stackDir} · {t(`setup.auth.${p.auth}`)}
              </div>
              {p.hasSecret && <div className="small">{t('setup.secretStored')}</div>}
              <div className="row">
                <button type="button" className="primary" onClick={() => setWizardFor(p.id)}>
                  {t('setup.wizard.open')}
                </button>
                <button type="button" onClick={() => setEditing(p)}>
                  {t('common.edit')}
                </button>
                <button
                  type="button"
                  onClick={() => {
                    if (window.confirm(t('setup.confirmDelete', { name: p.name }))) void remove(p.id).then(setError);
                  }}
                >
                  {t('common.delete')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {profiles.length > 0 && !editing && (
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          {t('setup.add')}
        </button>
      )}
      {error && <ErrorNotice error={error} />}
      {editing && <ProfileForm profile={editing === 'new' ? undefined : editing} onDone={() => setEditing(undefined)} />}
      {wizardProfile && <SetupWizard profile={wizardProfile} onClose={() => setWizardFor(undefined)} />}
    </section>
  );
}
