import type { StateCreator } from 'zustand';
import type { Args } from '../../src-main/shared/contract';
import type { KeysState } from '../../src-main/shared/domain';
import type { AppErrorData } from '../../src-main/shared/errors';
import { call } from '../api/client';
import type { Store } from './store';

type Outcome = AppErrorData | undefined;

export interface KeysSlice {
  keys?: KeysState;
  loadKeys(): Promise<Outcome>;
  /** Starts a job; the key list reloads when the job finishes (see wireEvents). */
  generateKey(a: Args<'keys:generate'>): Promise<Outcome>;
  importKey(a: Args<'keys:import-private'>): Promise<Outcome>;
  addRecipient(a: Args<'keys:add-recipient'>): Promise<Outcome>;
  removeKey(fingerprint: string, force: boolean): Promise<Outcome>;
  unlockKey(passphrase: string): Promise<Outcome>;
  lockKey(): Promise<Outcome>;
}

/** Keys as main reports them. Passphrases and armored private keys pass through to main, never stored here. */
export const createKeysSlice: StateCreator<Store, [], [], KeysSlice> = (set, get) => {
  const state = async (r: Awaited<ReturnType<typeof call<'keys:list'>>>): Promise<Outcome> => {
    if (!r.ok) return r.error;
    set({ keys: r.value });
    return undefined;
  };
  const job = async (r: Awaited<ReturnType<typeof call<'keys:generate'>>>): Promise<Outcome> => {
    if (!r.ok) return r.error;
    get().upsertJob(r.value);
    return undefined;
  };
  return {
    loadKeys: async () => state(await call('keys:list', {})),
    generateKey: async (a) => job(await call('keys:generate', a)),
    importKey: async (a) => job(await call('keys:import-private', a)),
    async addRecipient(a) {
      const r = await call('keys:add-recipient', a);
      return r.ok ? get().loadKeys() : r.error;
    },
    async removeKey(fingerprint, force) {
      const r = await call('keys:remove', { fingerprint, force });
      return r.ok ? get().loadKeys() : r.error;
    },
    unlockKey: async (passphrase) => state(await call('keys:unlock', { passphrase })),
    lockKey: async () => state(await call('keys:lock', {})),
  };
};
