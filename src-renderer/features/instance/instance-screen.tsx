import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { call } from '../../api/client';
import { EmptyState } from '../../components/empty-state';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';
import { BlocksPanel, EmojiPanels, ProfilePanel, RelaysPanel, RemoteFilesPanel, SettingsPanel, UsersPanel } from './admin-panels';
import { FirstAdminForm, MiAuthPanel, TokenForm } from './connect-panels';
import { InstanceError } from './instance-ui';

function StatusCard() {
  const { t } = useTranslation();
  const st = useStore((s) => s.instanceStatus);
  const loading = useStore((s) => s.instanceLoading);
  const load = useStore((s) => s.loadInstance);
  if (!st) return null;
  return (
    <div
      className="card"
      data-instance-status
      data-reachable={String(st.reachable)}
      data-connected={String(st.connected)}
      data-require-setup={String(st.requireSetup ?? '')}
      data-token-kind={st.tokenKind ?? ''}
    >
      <div className="row spread">
        <strong>
          <code>{st.origin}</code>
        </strong>
        <span className="badge">{st.reachable ? t('instance.status.reachable') : t('instance.status.unreachable')}</span>
      </div>
      {st.unreachableReason && (
        <p className="small" data-unreachable-reason={st.unreachableReason}>
          {t(`instance.unreachableReasons.${st.unreachableReason}`)}
        </p>
      )}
      {st.version && (
        <p className="small">
          {t('instance.status.version', { version: st.version })}
          {st.gates && !st.gates.setupPassword && <span data-gate="setup-password"> — {t('instance.status.noSetupPassword')}</span>}
        </p>
      )}
      <p className="small">
        {st.connected
          ? t('instance.status.connected', { kind: t(`instance.tokenKinds.${st.tokenKind ?? 'pasted'}`), username: st.username ?? '?' })
          : st.requireSetup
            ? t('instance.status.needsSetup')
            : t('instance.status.notConnected')}
      </p>
      {st.permissions && st.permissions.some((p) => p.state !== 'granted') && (
        <div data-permissions>
          <p className="small">{t('instance.status.permissionsLacking')}</p>
          <ul className="plain small">
            {st.permissions
              .filter((p) => p.state !== 'granted')
              .map((p) => (
                <li key={p.permission} data-permission={p.permission} data-permission-state={p.state}>
                  <code>{p.permission}</code> — {t(`instance.permissionStates.${p.state}`)}
                </li>
              ))}
          </ul>
        </div>
      )}
      <div className="row">
        <button type="button" disabled={loading} onClick={() => void load()}>
          {t('instance.reload')}
        </button>
        {st.connected && (
          <button
            type="button"
            onClick={async () => {
              if (!window.confirm(t('instance.disconnectConfirm'))) return;
              await call('instance:disconnect', { profileId: st.profileId });
              await load();
            }}
          >
            {t('instance.disconnect')}
          </button>
        )}
      </div>
    </div>
  );
}

/** Instance administration over Misskey's API for one server profile. */
export function InstanceScreen() {
  const { t } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  const profileId = useStore((s) => s.instanceProfileId);
  const select = useStore((s) => s.selectInstanceProfile);
  const st = useStore((s) => s.instanceStatus);
  const settings = useStore((s) => s.instanceSettings);
  const error = useStore((s) => s.instanceError);
  const sessionOnly = useStore((s) => s.vault?.mode === 'session-only');
  const unlocked = useStore((s) => s.vault?.unlocked);
  const load = useStore((s) => s.loadInstance);

  // Re-read when the screen opens and whenever the secret store locks or unlocks.
  useEffect(() => {
    void load();
  }, [unlocked, load]);

  useEffect(() => {
    if (profiles.length === 0) return;
    if (!profileId || !profiles.some((p) => p.id === profileId)) void select(profiles[0]!.id);
  }, [profiles, profileId, select]);

  if (profiles.length === 0)
    return (
      <section>
        <h1>{t('instance.title')}</h1>
        <EmptyState text={t('instance.empty')} />
      </section>
    );
  const ready = st && st.profileId === profileId;
  return (
    <section data-instance-screen>
      <h1>{t('instance.title')}</h1>
      <label className="card">
        <span>{t('instance.server')}</span>
        <select name="instance-profile" value={profileId ?? ''} onChange={(e) => void select(e.target.value)}>
          {profiles.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} — {p.domain}
            </option>
          ))}
        </select>
      </label>
      <InstanceError error={error} />
      {ready && <StatusCard />}
      {ready && st.gates && !st.gates.supported && (
        <p className="error-notice" data-gate="unsupported">
          {t('instance.status.unsupported')}
        </p>
      )}
      {ready && st.vaultLocked && <ErrorNotice error={{ code: 'VAULT_LOCKED', message: 'locked' }} />}
      {ready && profileId && !st.connected && !st.vaultLocked && (
        <>
          {sessionOnly && (
            <p className="banner" role="note" data-vault-session-only>
              {t('instance.sessionOnly')}
            </p>
          )}
          {st.requireSetup && <FirstAdminForm profileId={profileId} />}
          <MiAuthPanel profileId={profileId} />
          <TokenForm profileId={profileId} />
        </>
      )}
      {ready && profileId && st.connected && settings && (
        <div key={profileId}>
          <SettingsPanel profileId={profileId} settings={settings} />
          <RemoteFilesPanel profileId={profileId} settings={settings} />
          <ProfilePanel profileId={profileId} settings={settings} />
          <RelaysPanel profileId={profileId} />
          <BlocksPanel profileId={profileId} />
          <UsersPanel profileId={profileId} />
          <EmojiPanels profileId={profileId} native={st.isNativeToken === true} />
        </div>
      )}
    </section>
  );
}
