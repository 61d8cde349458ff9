import type { StateCreator } from 'zustand';
import type { AppInfo, LanguageSetting, Settings } from '../../src-main/shared/domain';
import type { AppErrorData } from '../../src-main/shared/errors';
import { call } from '../api/client';
import { i18n, resolveLanguage } from '../i18n';
import type { Store } from './store';

export const ROUTES = ['setup', 'dashboard', 'backups', 'restore', 'instance', 'keys', 'settings'] as const;
export type Route = (typeof ROUTES)[number];

export interface AppSlice {
  status: 'loading' | 'ready' | 'fatal';
  fatal?: AppErrorData;
  info?: AppInfo;
  settings: Settings;
  route: Route;
  connected: boolean;
  init(): Promise<void>;
  navigate(route: Route): void;
  setLanguage(language: LanguageSetting): Promise<AppErrorData | undefined>;
  setConnected(connected: boolean): void;
}

/** App-wide state: start-up, the current screen, language. */
export const createAppSlice: StateCreator<Store, [], [], AppSlice> = (set, get) => ({
  status: 'loading',
  settings: { language: 'system' },
  route: 'dashboard',
  connected: true,
  async init() {
    const [info, settings] = await Promise.all([call('app:info', {}), call('settings:get', {})]);
    if (!info.ok || !settings.ok) {
      set({ status: 'fatal', fatal: !info.ok ? info.error : !settings.ok ? settings.error : undefined });
      return;
    }
    await i18n.changeLanguage(resolveLanguage(settings.value.language, navigator.languages));
    document.documentElement.lang = i18n.language;
    set({ info: info.value, settings: settings.value });
    await Promise.all([get().loadJobs(), get().refreshVault(), get().loadProfiles(), get().loadKeys()]);
    set({ status: 'ready', route: get().profiles.length === 0 ? 'setup' : 'dashboard' });
  },
  navigate(route) {
    set({ route });
  },
  async setLanguage(language) {
    const r = await call('settings:set', { language });
    if (!r.ok) return r.error;
    await i18n.changeLanguage(resolveLanguage(r.value.language, navigator.languages));
    document.documentElement.lang = i18n.language;
    set({ settings: r.value });
    return undefined;
  },
  setConnected(connected) {
    set({ connected });
  },
});
