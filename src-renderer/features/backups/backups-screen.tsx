import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../components/empty-state';
import { NightlySection } from './nightly-section';
import { StorageSection } from './storage-section';

/** Backups: the nightly job on each server and where its backups go (Storage). */
export function BackupsScreen() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('backups.title')}</h1>
      <EmptyState text={t('backups.empty')} />
      <NightlySection />
      <StorageSection />
    </section>
  );
}
