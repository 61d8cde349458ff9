import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';

/** Says where secrets live and lets the user set, unlock or lock the vault passphrase. */
export function VaultPanel() {
  const { t } = useTranslation();
  const vault = useStore((s) => s.vault);
  const setPassphrase = useStore((s) => s.setVaultPassphrase);
  const unlock = useStore((s) => s.unlockVault);
  const lock = useStore((s) => s.lockVault);
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<AppErrorData>();
  const [hint, setHint] = useState<string>();
  if (!vault) return null;

  async function onSet(e: FormEvent): Promise<void> {
    e.preventDefault();
    if (pass.length < 8) return setHint(t('vault.tooShort'));
    if (pass !== again) return setHint(t('vault.mismatch'));
    setHint(undefined);
    setError(await setPassphrase(pass));
    setPass('');
    setAgain('');
  }
  async function onUnlock(e: FormEvent): Promise<void> {
    e.preventDefault();
    setError(await unlock(pass));
    setPass('');
  }

  return (
    <div className="card" data-vault-mode={vault.mode} data-vault-unlocked={String(vault.unlocked)}>
      <h2>{t('vault.title')}</h2>
      <p>{t(`vault.modes.${vault.mode}`)}</p>
      {vault.reason && <p className="muted small">{t(`vault.reasons.${vault.reason}`)}</p>}
      {vault.mode === 'passphrase' && <p className="badge">{vault.unlocked ? t('vault.unlocked') : t('vault.locked')}</p>}
      {vault.mode === 'session-only' && (
        <form onSubmit={(e) => void onSet(e)} className="form" aria-label={t('vault.setPassphrase')}>
          <h3>{t('vault.setPassphrase')}</h3>
          <p className="muted small">{t('vault.setPassphraseHint')}</p>
          <label>
            <span>{t('vault.passphrase')}</span>
            <input
              name="vault-passphrase"
              type="password"
              autoComplete="new-password"
              value={pass}
              onChange={(e) => setPass(e.target.value)}
            />
          </label>
          <label>
            <span>{t('vault.passphraseAgain')}</span>
            <input
              name="vault-passphrase-again"
              type="password"
              autoComplete="new-password"
              value={again}
              onChange={(e) => setAgain(e.target.value)}
            />
          </label>
          {hint && <p className="error-notice">{hint}</p>}
          <button type="submit" className="primary">
            {t('common.save')}
          </button>
        </form>
      )}
      {vault.mode === 'passphrase' && !vault.unlocked && (
        <form onSubmit={(e) => void onUnlock(e)} className="form" aria-label={t('vault.unlock')}>
          <label>
            <span>{t('vault.passphrase')}</span>
            <input
              name="vault-unlock"
              type="password"
              autoComplete="current-password"
              value={pass}
              onChange={(e) => setPass(e.target.value)}
            />
          </label>
          <button type="submit" className="primary">
            {t('vault.unlock')}
          </button>
        </form>
      )}
      {vault.mode === 'passphrase' && vault.unlocked && (
        <button type="button" onClick={() => void lock().then(setError)}>
          {t('vault.lock')}
        </button>
      )}
      {error && <ErrorNotice error={error} />}
    </div>
  );
}
