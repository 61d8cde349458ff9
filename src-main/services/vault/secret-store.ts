/**
 * Where secrets (SSH passwords, tokens, storage keys, the wrapped private key) are kept.
 * Three modes, chosen at start-up and shown to the user:
 *  - `os-keychain`: Electron safeStorage with a real keyring backend;
 *  - `passphrase`: AES-256-GCM with a key derived (scrypt) from a passphrase the user sets;
 *  - `session-only`: nothing persisted; secrets live in memory until the app quits.
 * Implementations live beside this file; services depend only on this interface.
 */
import type { SecretStoreMode } from '../../shared/domain';

export type { SecretStoreMode };

export interface SecretStore {
  readonly mode: SecretStoreMode;
  /** True when secrets can be read now (passphrase mode needs unlocking first). */
  isUnlocked(): boolean;
  get(name: string): Promise<Buffer | undefined>;
  set(name: string, value: Buffer): Promise<void>;
  delete(name: string): Promise<void>;
  /** Encrypts an opaque blob for storage in a file the caller owns (e.g. the private key file). */
  wrap(plain: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer): Promise<Buffer>;
}
