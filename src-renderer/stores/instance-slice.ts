import type { StateCreator } from 'zustand';
import type { AppErrorData } from '../../src-main/shared/errors';
import type { InstanceSettings, InstanceStatus, RelayView } from '../../src-main/shared/instance';
import { call } from '../api/client';
import type { Store } from './store';

type Outcome = AppErrorData | undefined;

export interface InstanceSlice {
  /** The server profile the Instance screen works on. */
  instanceProfileId?: string;
  instanceStatus?: InstanceStatus;
  instanceSettings?: InstanceSettings;
  instanceRelays?: readonly RelayView[];
  /** The block list exactly as last read: the base every block change is checked against. */
  instanceBlocks?: readonly string[];
  instanceLoading: boolean;
  instanceError?: AppErrorData;
  selectInstanceProfile(id: string | undefined): Promise<void>;
  /** Status, then (when connected) settings, relays and blocks. */
  loadInstance(): Promise<void>;
  setInstanceSettings(s: InstanceSettings): void;
  setInstanceRelays(r: readonly RelayView[]): void;
  setInstanceBlocks(b: readonly string[]): void;
  loadInstanceBlocks(): Promise<Outcome>;
}

/** Instance administration state; tokens never come here, only what main reports. */
export const createInstanceSlice: StateCreator<Store, [], [], InstanceSlice> = (set, get) => ({
  instanceLoading: false,
  async selectInstanceProfile(id) {
    set({
      instanceProfileId: id,
      instanceStatus: undefined,
      instanceSettings: undefined,
      instanceRelays: undefined,
      instanceBlocks: undefined,
      instanceError: undefined,
    });
    if (id) await get().loadInstance();
  },
  async loadInstance() {
    const profileId = get().instanceProfileId;
    if (!profileId) return;
    set({ instanceLoading: true });
    const st = await call('instance:status', { profileId });
    if (get().instanceProfileId !== profileId) return;
    if (!st.ok) {
      set({ instanceLoading: false, instanceError: st.error, instanceStatus: undefined });
      return;
    }
    set({ instanceStatus: st.value, instanceError: undefined });
    if (st.value.connected && st.value.reachable) {
      const [settings, relays, blocks] = await Promise.all([
        call('instance:settings', { profileId }),
        call('instance:relays', { profileId }),
        call('instance:blocks', { profileId }),
      ]);
      if (get().instanceProfileId !== profileId) return;
      set({
        instanceSettings: settings.ok ? settings.value : undefined,
        instanceRelays: relays.ok ? relays.value : undefined,
        instanceBlocks: blocks.ok ? blocks.value : undefined,
        instanceError: !settings.ok ? settings.error : !relays.ok ? relays.error : !blocks.ok ? blocks.error : undefined,
      });
    } else set({ instanceSettings: undefined, instanceRelays: undefined, instanceBlocks: undefined });
    set({ instanceLoading: false });
  },
  setInstanceSettings: (s) => set({ instanceSettings: s }),
  setInstanceRelays: (r) => set({ instanceRelays: r }),
  setInstanceBlocks: (b) => set({ instanceBlocks: b }),
  async loadInstanceBlocks() {
    const profileId = get().instanceProfileId;
    if (!profileId) return undefined;
    const r = await call('instance:blocks', { profileId });
    if (!r.ok) return r.error;
    set({ instanceBlocks: r.value });
    return undefined;
  },
});
