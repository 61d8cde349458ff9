import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';
import type { SecretStore } from './secret-store';

/** The part of Electron's `safeStorage` we use; injected so this module never imports electron. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: `basic_text` means no real keyring (the "encryption" key is hard-coded). */
  getSelectedStorageBackend?(): string;
}

/** True when safeStorage is backed by a real OS keyring, i.e. secrets may be persisted with it. */
export function hasRealKeyring(s: SafeStorageLike, platform: NodeJS.Platform): boolean {
  if (!s.isEncryptionAvailable()) return false;
  if (platform !== 'linux') return true;
  const backend = s.getSelectedStorageBackend?.() ?? 'unknown';
  return backend !== 'basic_text' && backend !== 'unknown';
}

const MAGIC = 'OHK1:';

/** Secrets encrypted by the OS keychain (Electron safeStorage) in `<dataDir>/secrets.json`. */
export class KeychainStore implements SecretStore {
  readonly mode = 'os-keychain' as const;
  private readonly path: string;
  constructor(
    dataDir: string,
    private readonly safe: SafeStorageLike,
  ) {
    this.path = join(dataDir, 'secrets.json');
  }

  private async read(): Promise<Record<string, string>> {
    const parsed = z.record(z.string(), z.string()).safeParse((await readJsonFile(this.path)) ?? {});
    if (!parsed.success) throw new AppError('INTERNAL', 'secrets.json is damaged');
    return parsed.data;
  }

  isUnlocked(): boolean {
    return true;
  }

  async get(name: string): Promise<Buffer | undefined> {
    const v = (await this.read())[name];
    return v === undefined ? undefined : await this.unwrap(Buffer.from(v, 'base64'));
  }

  async set(name: string, value: Buffer): Promise<void> {
    const all = await this.read();
    await writeJsonFile(this.path, { ...all, [name]: (await this.wrap(value)).toString('base64') });
  }

  async delete(name: string): Promise<void> {
    const all = await this.read();
    if (!(name in all)) return;
    delete all[name];
    await writeJsonFile(this.path, all);
  }

  async wrap(plain: Buffer): Promise<Buffer> {
    return this.safe.encryptString(MAGIC + plain.toString('base64'));
  }

  async unwrap(wrapped: Buffer): Promise<Buffer> {
    let s: string;
    try {
      s = this.safe.decryptString(wrapped);
    } catch {
      throw new AppError('VAULT_UNAVAILABLE', 'The OS keychain could not decrypt this secret');
    }
    if (!s.startsWith(MAGIC)) throw new AppError('VAULT_UNAVAILABLE', 'Not an Ohitori secret');
    return Buffer.from(s.slice(MAGIC.length), 'base64');
  }
}
