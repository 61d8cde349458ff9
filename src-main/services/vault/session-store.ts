import { AppError } from '../../shared/errors';
import type { SecretStore } from './secret-store';

/**
 * Keeps secrets in memory only: nothing reaches the disk, everything is gone when the app quits.
 * Used when no OS keyring exists and the user has not set a vault passphrase. `wrap` refuses,
 * because a blob wrapped by a key that dies with the process could never be read again.
 */
export class SessionStore implements SecretStore {
  readonly mode = 'session-only' as const;
  private readonly entries = new Map<string, Buffer>();

  isUnlocked(): boolean {
    return true;
  }
  async get(name: string): Promise<Buffer | undefined> {
    const v = this.entries.get(name);
    return v ? Buffer.from(v) : undefined;
  }
  async set(name: string, value: Buffer): Promise<void> {
    this.entries.set(name, Buffer.from(value));
  }
  async delete(name: string): Promise<void> {
    this.entries.delete(name);
  }
  /** All entries, for moving them into a persistent store once the user sets a passphrase. */
  snapshot(): ReadonlyMap<string, Buffer> {
    return this.entries;
  }
  async wrap(): Promise<Buffer> {
    throw new AppError('VAULT_UNAVAILABLE', 'Secrets are kept for this session only; set a vault passphrase to store them');
  }
  async unwrap(): Promise<Buffer> {
    throw new AppError('VAULT_UNAVAILABLE', 'Secrets are kept for this session only; set a vault passphrase to store them');
  }
}
