import { create } from 'zustand';
import { getTransport } from '../api/client';
import { createAppSlice, type AppSlice } from './app-slice';
import { createInstanceSlice, type InstanceSlice } from './instance-slice';
import { createJobsSlice, type JobsSlice } from './jobs-slice';
import { createKeysSlice, type KeysSlice } from './keys-slice';
import { createProfilesSlice, type ProfilesSlice } from './profiles-slice';
import { createVaultSlice, type VaultSlice } from './vault-slice';

export type Store = AppSlice & JobsSlice & VaultSlice & ProfilesSlice & KeysSlice & InstanceSlice;

/** The one store, built from slices (zustand's slices pattern). */
export const useStore = create<Store>()((...a) => ({
  ...createAppSlice(...a),
  ...createJobsSlice(...a),
  ...createVaultSlice(...a),
  ...createProfilesSlice(...a),
  ...createKeysSlice(...a),
  ...createInstanceSlice(...a),
}));

/** Wires main's events into the store once, outside React. */
export function wireEvents(): () => void {
  return getTransport().onEvent(
    (e) => {
      const s = useStore.getState();
      if (e.type === 'job') {
        s.upsertJob(e.job);
        if (e.job.kind.startsWith('key-') && e.job.state === 'done') void s.loadKeys();
        if (e.job.kind === 'instance-blocks-import' && (e.job.state === 'done' || e.job.state === 'failed')) void s.loadInstanceBlocks();
      } else if (e.type === 'vault') void s.refreshVault().then(() => s.loadProfiles());
    },
    (connected) => {
      const s = useStore.getState();
      const was = s.connected;
      s.setConnected(connected);
      if (connected && !was) void s.loadJobs();
    },
  );
}
