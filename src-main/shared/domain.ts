/** Domain types shared by main and renderer. Plain data only. */

export const LANGUAGES = ['system', 'ja', 'en'] as const;
export type LanguageSetting = (typeof LANGUAGES)[number];

export interface Settings {
  readonly language: LanguageSetting;
}

export const AUTH_METHODS = ['key', 'agent', 'password'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** A server the user manages. Secrets (password, key passphrase) live in the secret store, not here. */
export interface ServerProfile {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly auth: AuthMethod;
  /** Path of the private key file on the desktop, for `auth: 'key'`. */
  readonly keyPath?: string;
  readonly domain: string;
  readonly stackDir: string;
  /** True when a password / key passphrase is kept in the secret store. */
  readonly hasSecret: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type SecretStoreMode = 'os-keychain' | 'passphrase' | 'session-only';

export interface VaultStatus {
  readonly mode: SecretStoreMode;
  /** Secrets can be read and written now. */
  readonly unlocked: boolean;
  /** passphrase mode: a passphrase has been set before (so the user unlocks rather than creates). */
  readonly passphraseSet: boolean;
  /** Why the OS keychain is not used, when it is not. */
  readonly reason?: 'no-keyring' | 'browser-mode';
}

export interface AppInfo {
  readonly version: string;
  readonly mode: 'electron' | 'browser';
  readonly dataDir: string;
  /** Where exports are suggested by default. */
  readonly homeDir: string;
  readonly platform: string;
}

export const DEFAULT_STACK_DIR = '/var/servers/docker/misskey';

/** A key as the UI shows it: always by its full fingerprint. Never private material. */
export interface KeySummary {
  readonly fingerprint: string;
  readonly userIds: readonly string[];
  readonly createdAt: string;
  readonly algorithm: string;
  readonly label: string;
  /** `desktop`: this computer's key (private part here); others are public-only recipients. */
  readonly role: 'desktop' | 'recovery' | 'other';
}

export interface KeysState {
  readonly keys: readonly KeySummary[];
  /** The desktop key is unlocked in main right now (it locks itself after a few idle minutes). */
  readonly unlocked: boolean;
}

export interface PassphraseStrengthView {
  readonly score: 0 | 1 | 2 | 3 | 4;
  readonly bits: number;
  /** i18n keys, e.g. `passphrase.too-short`. */
  readonly reasons: readonly string[];
  readonly acceptable: boolean;
}
