import { useTranslation } from 'react-i18next';
import { EmptyState } from '../components/empty-state';

/** Screens whose capabilities arrive with later work; each says honestly what will be here. */
function Honest({ area }: { readonly area: 'restore' }) {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t(`${area}.title`)}</h1>
      <EmptyState text={t(`${area}.empty`)} />
    </section>
  );
}

export const RestoreScreen = () => <Honest area="restore" />;
