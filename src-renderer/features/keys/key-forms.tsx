import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { call } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { useStore } from '../../stores/store';
import { PassphraseFields } from './passphrase-fields';

function Form({
  title,
  hint,
  name,
  onSubmit,
  error,
  children,
}: {
  title: string;
  hint: string;
  name: string;
  onSubmit: () => Promise<void>;
  error?: AppErrorData | string;
  children: ReactNode;
}) {
  return (
    <form
      className="card form"
      aria-label={title}
      data-form={name}
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      <h2>{title}</h2>
      <p className="muted small">{hint}</p>
      {children}
      {typeof error === 'string' ? <p className="error-notice">{error}</p> : error && <ErrorNotice error={error} />}
    </form>
  );
}

export function GenerateKeyForm() {
  const { t } = useTranslation();
  const generate = useStore((s) => s.generateKey);
  const [name, setName] = useState('');
  const [pass, setPass] = useState(['', '']);
  const [error, setError] = useState<AppErrorData | string>();
  return (
    <Form
      title={t('keys.generateTitle')}
      hint={t('keys.generateHint')}
      name="generate"
      error={error}
      onSubmit={async () => {
        if (pass[0] !== pass[1]) return setError(t('keys.mismatch'));
        setError(await generate({ name: name.trim() || 'Ohitori', passphrase: pass[0]! }));
        setPass(['', '']);
      }}
    >
      <label>
        <span>{t('keys.name')}</span>
        <input name="key-name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <PassphraseFields value={pass[0]!} again={pass[1]!} onChange={(a, b) => setPass([a, b])} />
      <button type="submit" className="primary">
        {t('keys.generate')}
      </button>
    </Form>
  );
}

export function ImportKeyForm() {
  const { t } = useTranslation();
  const importKey = useStore((s) => s.importKey);
  const [armored, setArmored] = useState('');
  const [pass, setPass] = useState('');
  const [error, setError] = useState<AppErrorData>();
  return (
    <Form
      title={t('keys.importTitle')}
      hint={t('keys.importHint')}
      name="import"
      error={error}
      onSubmit={async () => setError(await importKey({ armored, passphrase: pass }))}
    >
      <label>
        <span>{t('keys.armored')}</span>
        <textarea name="key-armored" rows={4} value={armored} onChange={(e) => setArmored(e.target.value)} spellCheck={false} />
      </label>
      <label>
        <span>{t('keys.passphrase')}</span>
        <input type="password" name="import-passphrase" autoComplete="off" value={pass} onChange={(e) => setPass(e.target.value)} />
      </label>
      <button type="submit">{t('keys.import')}</button>
    </Form>
  );
}

export function AddRecipientForm() {
  const { t } = useTranslation();
  const add = useStore((s) => s.addRecipient);
  const [armored, setArmored] = useState('');
  const [label, setLabel] = useState('');
  const [role, setRole] = useState<'recovery' | 'other'>('recovery');
  const [error, setError] = useState<AppErrorData>();
  return (
    <Form
      title={t('keys.addTitle')}
      hint={t('keys.addHint')}
      name="add-recipient"
      error={error}
      onSubmit={async () => {
        const e = await add({ armored, label, role });
        setError(e);
        if (!e) setArmored('');
      }}
    >
      <label>
        <span>{t('keys.armored')}</span>
        <textarea name="recipient-armored" rows={4} value={armored} onChange={(e) => setArmored(e.target.value)} spellCheck={false} />
      </label>
      <label>
        <span>{t('keys.label')}</span>
        <input name="recipient-label" value={label} onChange={(e) => setLabel(e.target.value)} />
      </label>
      <label>
        <span>{t('keys.role')}</span>
        <select name="recipient-role" value={role} onChange={(e) => setRole(e.target.value as 'recovery' | 'other')}>
          <option value="recovery">{t('keys.roles.recovery')}</option>
          <option value="other">{t('keys.roles.other')}</option>
        </select>
      </label>
      <button type="submit">{t('keys.add')}</button>
    </Form>
  );
}

export function ExportRecoveryForm({ defaultDir }: { defaultDir: string }) {
  const { t } = useTranslation();
  const [pass, setPass] = useState('');
  const [recovery, setRecovery] = useState('');
  const [path, setPath] = useState(`${defaultDir}/ohitori-recovery-key.asc`);
  const [error, setError] = useState<AppErrorData>();
  const [done, setDone] = useState<string>();
  return (
    <Form
      title={t('keys.exportRecoveryTitle')}
      hint={t('keys.exportRecoveryHint')}
      name="export-recovery"
      error={error}
      onSubmit={async () => {
        const r = await call('keys:export-recovery', { passphrase: pass, path, ...(recovery ? { recoveryPassphrase: recovery } : {}) });
        setPass('');
        setRecovery('');
        setError(r.ok ? undefined : r.error);
        setDone(r.ok ? t('keys.exported', r.value) : undefined);
      }}
    >
      <label>
        <span>{t('keys.passphrase')}</span>
        <input type="password" name="export-passphrase" autoComplete="off" value={pass} onChange={(e) => setPass(e.target.value)} />
      </label>
      <label>
        <span>{t('keys.recoveryPassphrase')}</span>
        <input
          type="password"
          name="export-recovery-passphrase"
          autoComplete="new-password"
          value={recovery}
          onChange={(e) => setRecovery(e.target.value)}
        />
      </label>
      <label>
        <span>{t('keys.path')}</span>
        <input name="export-path" value={path} onChange={(e) => setPath(e.target.value)} />
      </label>
      <button type="submit">{t('keys.exportRecovery')}</button>
      {done && <p data-exported>{done}</p>}
    </Form>
  );
}
