import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ServerProfile } from '../../../src-main/shared/domain';
import type { InstanceStatus } from '../../../src-main/shared/instance';
import { call } from '../../api/client';
import { EmptyState } from '../../components/empty-state';
import { useStore } from '../../stores/store';
import { DiskUsageLine } from '../instance/disk-usage';
import { BackupLine } from './backup-line';

/** One server at a glance: is the instance up and which Misskey runs, backups, disk use. */
function ServerCard({ profile }: { readonly profile: ServerProfile }) {
  const { t } = useTranslation();
  const [status, setStatus] = useState<InstanceStatus | 'checking' | 'error'>('checking');
  useEffect(() => {
    let live = true;
    void call('instance:status', { profileId: profile.id }).then((r) => live && setStatus(r.ok ? r.value : 'error'));
    return () => {
      live = false;
    };
  }, [profile.id]);
  const state = status === 'checking' ? 'checking' : status === 'error' || !status.reachable ? 'down' : 'up';
  return (
    <li className="card" data-server={profile.name} data-state={state}>
      <div className="row spread">
        <strong>{profile.name}</strong>
        <span className={`badge ${state === 'up' ? 'done' : state === 'down' ? 'failed' : ''}`}>{t(`dashboard.states.${state}`)}</span>
      </div>
      <div className="small muted">{profile.domain}</div>
      {typeof status === 'object' && status.version && <div data-version>{t('dashboard.version', { version: status.version })}</div>}
      {typeof status === 'object' && !status.reachable && status.unreachableReason && (
        <div className="small muted">{t(`dashboard.reasons.${status.unreachableReason}`)}</div>
      )}
      <BackupLine profileId={profile.id} />
      <DiskUsageLine profileId={profile.id} />
    </li>
  );
}

export function DashboardScreen() {
  const { t } = useTranslation();
  const profiles = useStore((s) => s.profiles);
  return (
    <section>
      <h1>{t('dashboard.title')}</h1>
      {profiles.length === 0 ? (
        <EmptyState text={t('dashboard.empty')} />
      ) : (
        <ul className="cards" aria-label={t('dashboard.servers')}>
          {profiles.map((p) => (
            <ServerCard key={p.id} profile={p} />
          ))}
        </ul>
      )}
    </section>
  );
}
