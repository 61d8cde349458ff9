import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { PassphraseStrengthView } from '../../../src-main/shared/domain';
import { call } from '../../api/client';

/** Passphrase typed twice, with main's strength check shown as it is typed. */
export function PassphraseFields({
  value,
  again,
  onChange,
}: {
  value: string;
  again: string;
  onChange: (v: string, again: string) => void;
}) {
  const { t } = useTranslation();
  const [strength, setStrength] = useState<PassphraseStrengthView>();
  useEffect(() => {
    let live = true;
    void call('keys:strength', { passphrase: value }).then((r) => live && r.ok && setStrength(r.value));
    return () => {
      live = false;
    };
  }, [value]);
  return (
    <>
      <label>
        <span>{t('keys.passphrase')}</span>
        <input
          type="password"
          name="key-passphrase"
          autoComplete="new-password"
          value={value}
          onChange={(e) => onChange(e.target.value, again)}
        />
      </label>
      {strength && value && (
        <div className="small" data-strength={strength.score}>
          {t('keys.strength')}: {t(`keys.strengthScores.s${strength.score}`)}
          {strength.reasons.map((r) => (
            <div key={r} className="muted">
              {t(r)}
            </div>
          ))}
        </div>
      )}
      <label>
        <span>{t('keys.passphraseAgain')}</span>
        <input
          type="password"
          name="key-passphrase-again"
          autoComplete="new-password"
          value={again}
          onChange={(e) => onChange(value, e.target.value)}
        />
      </label>
    </>
  );
}

export function formatFingerprint(fp: string): string {
  const g = fp.replace(/\s+/g, '').match(/.{1,4}/g) ?? [];
  return `${g.slice(0, 5).join(' ')}  ${g.slice(5).join(' ')}`;
}
