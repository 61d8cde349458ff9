import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { KeySummary } from '../../../src-main/shared/domain';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { call } from '../../api/client';
import { EmptyState } from '../../components/empty-state';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';
import { AddRecipientForm, ExportRecoveryForm, GenerateKeyForm, ImportKeyForm } from './key-forms';
import { formatFingerprint } from './passphrase-fields';

function KeyCard({ k }: { readonly k: KeySummary }) {
  const { t } = useTranslation();
  const remove = useStore((s) => s.removeKey);
  const [error, setError] = useState<AppErrorData>();
  const [armored, setArmored] = useState<string>();
  const fp = formatFingerprint(k.fingerprint);
  async function onRemove(): Promise<void> {
    if (!window.confirm(t('keys.removeConfirm', { fingerprint: fp }))) return;
    let e = await remove(k.fingerprint, false);
    if (e?.code === 'KEY_IN_USE' && window.confirm(t('keys.removeInUse', { count: Number(e.details?.count ?? 0) })))
      e = await remove(k.fingerprint, true);
    setError(e);
  }
  return (
    <li className="card" data-key-role={k.role} data-fingerprint={k.fingerprint}>
      <div className="row spread">
        <strong>{k.role === 'desktop' ? t('keys.roles.desktop') : k.label}</strong>
        <span className="badge">{t(`keys.roles.${k.role}`)}</span>
      </div>
      <div className="small muted">{k.userIds.join(', ')}</div>
      <div className="small">
        {t('keys.fingerprint')}: <code data-fingerprint-text>{fp}</code>
      </div>
      <div className="small muted">
        {t('keys.created')}: {new Date(k.createdAt).toLocaleDateString()} · {k.algorithm}
      </div>
      <div className="row">
        <button
          type="button"
          onClick={() =>
            void call('keys:export-public', { fingerprint: k.fingerprint }).then((r) =>
              r.ok ? setArmored(r.value.armored) : setError(r.error),
            )
          }
        >
          {t('keys.exportPublic')}
        </button>
        <button type="button" onClick={() => void onRemove()}>
          {t('keys.remove')}
        </button>
      </div>
      {armored && <textarea readOnly rows={6} value={armored} className="armored" aria-label={t('keys.exportPublic')} />}
      {error && <ErrorNotice error={error} />}
    </li>
  );
}

function LockPanel() {
  const { t } = useTranslation();
  const unlocked = useStore((s) => s.keys?.unlocked ?? false);
  const unlock = useStore((s) => s.unlockKey);
  const lock = useStore((s) => s.lockKey);
  const [pass, setPass] = useState('');
  const [error, setError] = useState<AppErrorData>();
  return (
    <div className="card" data-key-unlocked={String(unlocked)}>
      <p>{unlocked ? t('keys.unlocked') : t('keys.locked')}</p>
      {unlocked ? (
        <button type="button" onClick={() => void lock().then(setError)}>
          {t('keys.lock')}
        </button>
      ) : (
        <form
          className="row"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void unlock(pass).then(setError);
            setPass('');
          }}
        >
          <input
            type="password"
            name="unlock-passphrase"
            aria-label={t('keys.passphrase')}
            autoComplete="current-password"
            value={pass}
            onChange={(e) => setPass(e.target.value)}
          />
          <button type="submit">{t('keys.unlock')}</button>
        </form>
      )}
      {error && <ErrorNotice error={error} />}
    </div>
  );
}

/** The keys every backup is encrypted to, the desktop key's lock, and recovery exports. */
export function KeysScreen() {
  const { t } = useTranslation();
  const keys = useStore((s) => s.keys?.keys ?? []);
  const home = useStore((s) => s.info?.homeDir ?? '/tmp');
  const hasDesktop = keys.some((k) => k.role === 'desktop');
  return (
    <section>
      <h1>{t('keys.title')}</h1>
      {keys.length === 0 ? <EmptyState text={t('keys.empty')} /> : <p className="muted">{t('keys.intro')}</p>}
      {keys.length > 0 && (
        <ul className="cards" aria-label={t('keys.title')}>
          {keys.map((k) => (
            <KeyCard key={k.fingerprint} k={k} />
          ))}
        </ul>
      )}
      {hasDesktop && <LockPanel />}
      {!hasDesktop && <GenerateKeyForm />}
      {!hasDesktop && <ImportKeyForm />}
      {hasDesktop && <AddRecipientForm />}
      {hasDesktop && <ExportRecoveryForm defaultDir={home} />}
    </section>
  );
}
