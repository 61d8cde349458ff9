import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../components/empty-state';
import { StorageSection } from './storage-section';

/** Backups: where they go (Storage) now; the runs list joins it when backups run. */
export function BackupsScreen() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('backups.title')}</h1>
      <EmptyState text={t('backups.empty')} />
      <StorageSection />
    </section>
  );
}
