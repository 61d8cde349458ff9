import { useTranslation } from 'react-i18next';
import type { AppErrorData } from '../../src-main/shared/errors';

/** Shows an error code in the user's words, with a retry action when one makes sense. */
export function ErrorNotice({ error, onRetry }: { readonly error: AppErrorData; readonly onRetry?: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="error-notice" role="alert" data-error-code={error.code} title={error.message}>
      <span>{t(`errors.${error.code}`, { defaultValue: t('errors.INTERNAL') })}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}
