import type { FormEvent, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppErrorData } from '../../../src-main/shared/errors';
import { ErrorNotice } from '../../components/error-notice';

/** ErrorNotice plus what the details say in words: a missing permission, why a user is protected. */
export function InstanceError({ error }: { readonly error?: AppErrorData }) {
  const { t } = useTranslation();
  if (!error) return null;
  const d = error.details ?? {};
  const permission = typeof d.permission === 'string' ? d.permission : undefined;
  const reason = typeof d.reason === 'string' ? d.reason : undefined;
  const param = typeof d.param === 'string' ? d.param : typeof d.field === 'string' ? d.field : undefined;
  return (
    <div data-instance-error={error.code}>
      <ErrorNotice error={error} />
      {permission && (
        <p className="small" data-missing-permission={permission}>
          {t('instance.missingPermission', { permission })}
        </p>
      )}
      {error.code === 'MISSKEY_PERMISSION_DENIED' && reason === 'role' && <p className="small">{t('instance.notAdmin')}</p>}
      {error.code === 'MISSKEY_PROTECTED_USER' && reason && (
        <p className="small" data-protected-reason={reason}>
          {t(`instance.protectedReasons.${reason}`, { defaultValue: '' })}
        </p>
      )}
      {error.code === 'INVALID_ARGUMENT' && param && (
        <p className="small" data-invalid-field={param}>
          {t('instance.invalidField', { field: param })}
        </p>
      )}
    </div>
  );
}

/** A card with a form, in the Keys screen's pattern. */
export function Panel({
  title,
  hint,
  name,
  onSubmit,
  error,
  children,
}: {
  readonly title: string;
  readonly hint?: string;
  readonly name: string;
  readonly onSubmit?: () => Promise<void>;
  readonly error?: AppErrorData;
  readonly children: ReactNode;
}) {
  const body = (
    <>
      <h2>{title}</h2>
      {hint && <p className="muted small">{hint}</p>}
      {children}
      <InstanceError error={error} />
    </>
  );
  return onSubmit ? (
    <form
      className="card form"
      aria-label={title}
      data-form={name}
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {body}
    </form>
  ) : (
    <section className="card form" aria-label={title} data-section={name}>
      {body}
    </section>
  );
}
