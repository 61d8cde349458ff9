import type { StateCreator } from 'zustand';
import type { ProfileInput } from '../../src-main/shared/contract';
import type { ServerProfile } from '../../src-main/shared/domain';
import type { AppErrorData } from '../../src-main/shared/errors';
import type { Result } from '../../src-main/shared/result';
import { call } from '../api/client';
import type { Store } from './store';

export interface ProfilesSlice {
  profiles: readonly ServerProfile[];
  profilesError?: AppErrorData;
  loadProfiles(): Promise<void>;
  saveProfile(input: ProfileInput): Promise<Result<ServerProfile>>;
  deleteProfile(id: string): Promise<AppErrorData | undefined>;
}

export const createProfilesSlice: StateCreator<Store, [], [], ProfilesSlice> = (set, get) => ({
  profiles: [],
  async loadProfiles() {
    const r = await call('profiles:list', {});
    set(r.ok ? { profiles: r.value, profilesError: undefined } : { profilesError: r.error });
  },
  async saveProfile(input) {
    const r = await call('profiles:save', input);
    if (r.ok) await get().loadProfiles();
    return r;
  },
  async deleteProfile(id) {
    const r = await call('profiles:delete', { id });
    if (!r.ok) return r.error;
    await get().loadProfiles();
    return undefined;
  },
});
