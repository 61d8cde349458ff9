import type { StateCreator } from 'zustand';
import type { VaultStatus } from '../../src-main/shared/domain';
import type { AppErrorData } from '../../src-main/shared/errors';
import { call } from '../api/client';
import type { Store } from './store';

export interface VaultSlice {
  vault?: VaultStatus;
  refreshVault(): Promise<void>;
  /** Passphrases go straight to main and are never kept in the store. */
  setVaultPassphrase(passphrase: string): Promise<AppErrorData | undefined>;
  unlockVault(passphrase: string): Promise<AppErrorData | undefined>;
  lockVault(): Promise<AppErrorData | undefined>;
}

export const createVaultSlice: StateCreator<Store, [], [], VaultSlice> = (set, get) => {
  const after = async (r: Awaited<ReturnType<typeof call<'vault:status'>>>): Promise<AppErrorData | undefined> => {
    if (!r.ok) return r.error;
    set({ vault: r.value });
    await get().loadProfiles();
    return undefined;
  };
  return {
    async refreshVault() {
      const r = await call('vault:status', {});
      if (r.ok) set({ vault: r.value });
    },
    setVaultPassphrase: async (passphrase) => after(await call('vault:set-passphrase', { passphrase })),
    unlockVault: async (passphrase) => after(await call('vault:unlock', { passphrase })),
    lockVault: async () => after(await call('vault:lock', {})),
  };
};
