import { useTranslation } from 'react-i18next';
import { EmptyState } from '../components/empty-state';
import { useStore } from '../stores/store';

/** Screens whose capabilities arrive with later work; each says honestly what will be here. */
function Honest({ area }: { readonly area: 'restore' }) {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t(`${area}.title`)}</h1>
      <EmptyState text={t(`${area}.empty`)} />
    </section>
  );
}

export const RestoreScreen = () => <Honest area="restore" />;

export function DashboardScreen() {
  const { t } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  return (
    <section>
      <h1>{t('dashboard.title')}</h1>
      {profiles.length === 0 ? (
        <EmptyState text={t('dashboard.empty')} />
      ) : (
        <ul className="cards" aria-label={t('dashboard.servers')}>
          {profiles.map((p) => (
            <li key={p.id} className="card">
              <div className="row spread">
                <strong>{p.name}</strong>
                <span className="badge">{t('dashboard.statusUnknown')}</span>
              </div>
              <div className="small muted">{p.domain}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
