import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ProfileInput } from '../../../src-main/shared/contract';
import { AUTH_METHODS, DEFAULT_STACK_DIR, type AuthMethod, type ServerProfile } from '../../../src-main/shared/domain';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';

interface Props {
  readonly profile?: ServerProfile;
  readonly onDone: () => void;
}

/** Create or edit a server profile. The secret is sent to main on save and never kept here. */
export function ProfileForm({ profile, onDone }: Props) {
  const { t } = useTranslation();
  const save = useStore((s) => s.saveProfile);
  const vaultUnlocked = useStore((s) => s.vault?.unlocked ?? false);
  const [f, setF] = useState({
    name: profile?.name ?? '',
    host: profile?.host ?? '',
    port: String(profile?.port ?? 22),
    user: profile?.user ?? '',
    auth: (profile?.auth ?? 'key') as AuthMethod,
    keyPath: profile?.keyPath ?? '',
    domain: profile?.domain ?? '',
    stackDir: profile?.stackDir ?? DEFAULT_STACK_DIR,
    secret: '',
  });
  const [error, setError] = useState<AppErrorData>();
  const [invalid, setInvalid] = useState<readonly string[]>([]);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    const input: ProfileInput = {
      ...(profile ? { id: profile.id } : {}),
      name: f.name.trim(),
      host: f.host.trim(),
      port: Number(f.port),
      user: f.user.trim(),
      auth: f.auth,
      ...(f.auth === 'key' ? { keyPath: f.keyPath.trim() } : {}),
      domain: f.domain.trim().toLowerCase(),
      stackDir: f.stackDir.trim(),
      ...(f.secret ? { secret: f.secret } : {}),
    };
    const r = await save(input);
    if (r.ok) {
      setF({ ...f, secret: '' });
      onDone();
      return;
    }
    setError(r.error);
    const issues = (r.error.details?.issues ?? []) as readonly { path: string }[];
    setInvalid(issues.map((i) => i.path));
  }

  const field = (k: Exclude<keyof typeof f, 'auth'>, type = 'text', extra: Record<string, string> = {}) => (
    <label className={invalid.includes(k) ? 'invalid' : undefined}>
      <span>{t(`setup.fields.${k}`)}</span>
      <input name={k} type={type} value={f[k]} onChange={set(k)} aria-invalid={invalid.includes(k)} {...extra} />
    </label>
  );

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label={t(profile ? 'setup.editTitle' : 'setup.newTitle')}>
      <h3>{t(profile ? 'setup.editTitle' : 'setup.newTitle')}</h3>
      {field('name')}
      {field('host', 'text', { autoCapitalize: 'off', spellCheck: 'false' })}
      {field('port', 'number', { min: '1', max: '65535' })}
      {field('user', 'text', { autoCapitalize: 'off' })}
      <label>
        <span>{t('setup.fields.auth')}</span>
        <select name="auth" value={f.auth} onChange={set('auth')}>
          {AUTH_METHODS.map((m) => (
            <option key={m} value={m}>
              {t(`setup.auth.${m}`)}
            </option>
          ))}
        </select>
      </label>
      {f.auth === 'key' && field('keyPath')}
      {f.auth !== 'agent' &&
        field('secret', 'password', { autoComplete: 'off', placeholder: profile?.hasSecret ? t('setup.fields.secretKeep') : '' })}
      {f.auth !== 'agent' && !vaultUnlocked && <p className="muted small">{t('setup.vaultLockedHint')}</p>}
      {field('domain', 'text', { autoCapitalize: 'off', placeholder: 'misskey.example.com' })}
      {field('stackDir')}
      {error && <ErrorNotice error={error} />}
      <div className="row">
        <button type="submit" className="primary">
          {t('common.save')}
        </button>
        <button type="button" onClick={onDone}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
