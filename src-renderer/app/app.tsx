import { useTranslation } from 'react-i18next';
import type { ReactElement } from 'react';
import { ErrorNotice } from '../components/error-notice';
import { JobsPanel } from '../components/jobs-panel';
import { BackupsScreen } from '../features/backups/backups-screen';
import { RestoreScreen } from '../features/restore/restore-screen';
import { DashboardScreen } from '../features/dashboard/dashboard-screen';
import { InstanceScreen } from '../features/instance/instance-screen';
import { KeysScreen } from '../features/keys/keys-screen';
import { SettingsScreen } from '../features/settings/settings-screen';
import { SetupScreen } from '../features/setup/setup-screen';
import { ROUTES, type Route } from '../stores/app-slice';
import { useStore } from '../stores/store';
import { ErrorBoundary } from './error-boundary';

const SCREENS: Record<Route, () => ReactElement> = {
  setup: SetupScreen,
  dashboard: DashboardScreen,
  backups: BackupsScreen,
  restore: RestoreScreen,
  instance: InstanceScreen,
  keys: KeysScreen,
  settings: SettingsScreen,
};

/** The shell: navigation, the current screen, the jobs panel. `data-app-state` tells tests when it is ready. */
export function App() {
  const { t } = useTranslation();
  const status = useStore((s) => s.status);
  const fatal = useStore((s) => s.fatal);
  const route = useStore((s) => s.route);
  const navigate = useStore((s) => s.navigate);
  const connected = useStore((s) => s.connected);
  const mode = useStore((s) => s.info?.mode);
  const init = useStore((s) => s.init);

  if (status === 'loading') return <div className="loading" data-app-state="loading" />;
  if (status === 'fatal') {
    return (
      <div className="fatal" data-app-state="fatal">
        {fatal && <ErrorNotice error={fatal} onRetry={() => void init()} />}
      </div>
    );
  }
  const Screen = SCREENS[route];
  return (
    <div className="shell" data-app-state="ready">
      <nav className="nav" aria-label={t('app.name')}>
        <div className="brand">
          <img src="./icon.svg" alt="" width={32} height={32} />
          <div>
            <strong>{t('app.name')}</strong>
            <div className="small muted">{t('app.tagline')}</div>
          </div>
        </div>
        <ul>
          {ROUTES.map((r) => (
            <li key={r}>
              <button
                type="button"
                className={r === route ? 'active' : undefined}
                aria-current={r === route ? 'page' : undefined}
                data-route={r}
                onClick={() => navigate(r)}
              >
                {t(`nav.${r}`)}
              </button>
            </li>
          ))}
        </ul>
        {mode === 'browser' && <div className="small muted mode">{t('app.browserMode')}</div>}
      </nav>
      <main className="content">
        {!connected && (
          <div className="banner" role="status">
            {t('app.disconnected')}
          </div>
        )}
        <ErrorBoundary key={route}>
          <Screen />
        </ErrorBoundary>
      </main>
      <JobsPanel />
    </div>
  );
}
