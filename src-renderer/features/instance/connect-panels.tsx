import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { call } from '../../api/client';
import { useStore } from '../../stores/store';
import { Panel } from './instance-ui';

/** Creates the first administrator with the setup password and applies the single-user preset. */
export function FirstAdminForm({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const load = useStore((s) => s.loadInstance);
  const setSettings = useStore((s) => s.setInstanceSettings);
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [setupPassword, setSetupPassword] = useState('');
  const [federate, setFederate] = useState(true);
  const [error, setError] = useState<AppErrorData>();
  const [busy, setBusy] = useState(false);
  return (
    <Panel
      title={t('instance.firstAdmin.title')}
      hint={t('instance.firstAdmin.hint')}
      name="first-admin"
      error={error}
      onSubmit={async () => {
        setBusy(true);
        const r = await call('instance:first-admin', {
          profileId,
          username,
          password,
          federate,
          ...(setupPassword ? { setupPassword } : {}),
        });
        setBusy(false);
        setPassword('');
        setError(r.ok ? undefined : r.error);
        if (r.ok) {
          setSettings(r.value.settings);
          await load();
        }
      }}
    >
      <label>
        <span>{t('instance.firstAdmin.username')}</span>
        <input name="admin-username" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
      </label>
      <label>
        <span>{t('instance.firstAdmin.password')}</span>
        <input
          type="password"
          name="admin-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete="new-password"
        />
      </label>
      <label>
        <span>{t('instance.firstAdmin.setupPassword')}</span>
        <input
          type="password"
          name="setup-password"
          value={setupPassword}
          onChange={(e) => setSetupPassword(e.target.value)}
          autoComplete="off"
        />
      </label>
      <label className="row">
        <input
          type="checkbox"
          name="federate"
          checked={federate}
          onChange={(e) => setFederate(e.target.checked)}
          style={{ width: 'auto' }}
        />
        <span>{t('instance.federate')}</span>
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {t('instance.firstAdmin.create')}
      </button>
    </Panel>
  );
}

/** Connects with a pasted token. */
export function TokenForm({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const load = useStore((s) => s.loadInstance);
  const [token, setToken] = useState('');
  const [error, setError] = useState<AppErrorData>();
  return (
    <Panel
      title={t('instance.token.title')}
      hint={t('instance.token.hint')}
      name="connect-token"
      error={error}
      onSubmit={async () => {
        const r = await call('instance:connect-token', { profileId, token });
        setToken('');
        setError(r.ok ? undefined : r.error);
        if (r.ok) await load();
      }}
    >
      <label>
        <span>{t('instance.token.label')}</span>
        <input type="password" name="misskey-token" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" />
      </label>
      <button type="submit">{t('instance.token.connect')}</button>
    </Panel>
  );
}

/** MiAuth: open the approval page on the instance, then ask whether it was approved. */
export function MiAuthPanel({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const load = useStore((s) => s.loadInstance);
  const [pending, setPending] = useState<{ url: string; session: string; opened: boolean }>();
  const [error, setError] = useState<AppErrorData>();
  const [notYet, setNotYet] = useState(false);
  return (
    <Panel title={t('instance.miauth.title')} hint={t('instance.miauth.hint')} name="miauth" error={error}>
      <div className="row">
        <button
          type="button"
          onClick={async () => {
            setNotYet(false);
            const r = await call('instance:miauth-start', { profileId });
            if (!r.ok) return setError(r.error);
            const o = await call('shell:open-external', { url: r.value.url });
            setError(o.ok ? undefined : o.error);
            setPending({ ...r.value, opened: o.ok && o.value.opened });
          }}
        >
          {t('instance.miauth.open')}
        </button>
        {pending && (
          <button
            type="button"
            data-miauth-check
            onClick={async () => {
              const r = await call('instance:miauth-check', { profileId, session: pending.session });
              setError(r.ok ? undefined : r.error);
              if (r.ok && r.value.approved) {
                setPending(undefined);
                await load();
              } else setNotYet(r.ok);
            }}
          >
            {t('instance.miauth.check')}
          </button>
        )}
      </div>
      {pending && (
        <p className="small">
          {pending.opened ? t('instance.miauth.opened') : t('instance.miauth.openYourself')}{' '}
          <a href={pending.url} target="_blank" rel="noreferrer" data-miauth-url={pending.url}>
            {pending.url}
          </a>
        </p>
      )}
      {notYet && <p data-miauth-pending>{t('instance.miauth.notYet')}</p>}
    </Panel>
  );
}
