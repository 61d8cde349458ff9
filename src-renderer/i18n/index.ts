import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { LanguageSetting } from '../../src-main/shared/domain';
import { en } from './en';
import { ja } from './ja';

export type Lang = 'ja' | 'en';

/** `system` follows the browser/OS locale: Japanese for any `ja*`, English otherwise. */
export function resolveLanguage(setting: LanguageSetting, browserLanguages: readonly string[]): Lang {
  if (setting !== 'system') return setting;
  return browserLanguages.some((l) => l.toLowerCase().startsWith('ja')) ? 'ja' : 'en';
}

export const i18n = i18next.createInstance();

/** Initialises synchronously (resources are bundled) so the first render already has words. */
export function initI18n(lang: Lang): void {
  void i18n.use(initReactI18next).init({
    initAsync: false,
    showSupportNotice: false,
    resources: { en: { translation: en }, ja: { translation: ja } },
    lng: lang,
    fallbackLng: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
}
