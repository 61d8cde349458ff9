import { useTranslation } from 'react-i18next';
import { BackupList } from './backup-list';
import { NightlySection } from './nightly-section';
import { StorageSection } from './storage-section';

/** Backups: the list of backup runs (signature and verified state, Verify), the nightly job on each server, and where backups go (Storage). */
export function BackupsScreen() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('backups.title')}</h1>
      <BackupList />
      <NightlySection />
      <StorageSection />
    </section>
  );
}
