import { useTranslation } from 'react-i18next';
import type { PreflightReport } from '../../../src-main/shared/setup';

const ICON = { pass: '✓', warn: '!', fail: '✗' } as const;

/** Each check with its status and reason, in the user's language. */
export function PreflightList({
  report,
  onFix,
}: {
  readonly report: PreflightReport;
  readonly onFix?: (fix: NonNullable<PreflightReport['checks'][number]['fix']>) => void;
}) {
  const { t } = useTranslation();
  return (
    <ul className="checks" aria-label={t('setup.wizard.stepCheck')}>
      {report.checks.map((c) => (
        <li key={c.id} className={`check ${c.status}`} data-check={c.id} data-status={c.status}>
          <span aria-hidden="true">{ICON[c.status]}</span> {t(c.messageKey, { ...(c.values ?? {}) } as Record<string, string>)}
          {c.fix && onFix && (
            <button type="button" data-fix={c.fix} onClick={() => onFix(c.fix!)}>
              {t(`setup.fixes.${c.fix}`)}
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
