import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';
import { open, seal } from './aes-envelope';
import type { SecretStore } from './secret-store';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

/** scrypt cost: ~0.2–0.4 s and 64 MiB here; an attacker with the file pays that per guess. */
const KDF = { N: 1 << 16, r: 8, p: 1 } as const;

const fileSchema = z.object({
  version: z.literal(1),
  kdf: z.object({ name: z.literal('scrypt'), N: z.number(), r: z.number(), p: z.number(), salt: z.string() }),
  check: z.string(),
  entries: z.record(z.string(), z.string()),
});
type VaultFile = z.infer<typeof fileSchema>;

const CHECK_PLAIN = Buffer.from('ohitori-vault-check');

/**
 * Secrets encrypted (AES-256-GCM) with a key derived by scrypt from a passphrase the user sets,
 * in `<dataDir>/vault.json`. Used where no OS keyring exists (Linux `basic_text`, browser mode).
 * The passphrase itself is never stored; the derived key lives in memory until `lock()`.
 */
export class PassphraseStore implements SecretStore {
  readonly mode = 'passphrase' as const;
  private key: Buffer | undefined;
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'vault.json');
  }

  private async read(): Promise<VaultFile | undefined> {
    const raw = await readJsonFile(this.path);
    if (raw === undefined) return undefined;
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) throw new AppError('INTERNAL', 'vault.json is damaged', { path: this.path });
    return parsed.data;
  }

  private static derive(passphrase: string, f: VaultFile['kdf']): Promise<Buffer> {
    return scrypt(passphrase, Buffer.from(f.salt, 'base64'), 32, { N: f.N, r: f.r, p: f.p, maxmem: 256 * f.N * f.r });
  }

  async exists(): Promise<boolean> {
    return (await this.read()) !== undefined;
  }

  /** Creates the vault with a new passphrase; refuses when one exists (unlock instead). */
  async create(passphrase: string): Promise<void> {
    if (await this.read()) throw new AppError('INVALID_ARGUMENT', 'A vault passphrase is already set');
    const kdf = { name: 'scrypt' as const, ...KDF, salt: randomBytes(16).toString('base64') };
    const key = await PassphraseStore.derive(passphrase, kdf);
    await writeJsonFile(this.path, { version: 1, kdf, check: seal(key, CHECK_PLAIN).toString('base64'), entries: {} });
    this.key = key;
  }

  async unlock(passphrase: string): Promise<void> {
    const f = await this.read();
    if (!f) throw new AppError('NOT_FOUND', 'No vault passphrase has been set');
    const key = await PassphraseStore.derive(passphrase, f.kdf);
    let check: Buffer;
    try {
      check = open(key, Buffer.from(f.check, 'base64'));
    } catch {
      throw new AppError('VAULT_WRONG_PASSPHRASE', 'Wrong vault passphrase');
    }
    if (check.length !== CHECK_PLAIN.length || !timingSafeEqual(check, CHECK_PLAIN)) {
      throw new AppError('VAULT_WRONG_PASSPHRASE', 'Wrong vault passphrase');
    }
    this.key = key;
  }

  lock(): void {
    this.key?.fill(0);
    this.key = undefined;
  }

  isUnlocked(): boolean {
    return this.key !== undefined;
  }

  private requireKey(): Buffer {
    if (!this.key) throw new AppError('VAULT_LOCKED', 'The vault is locked');
    return this.key;
  }

  async get(name: string): Promise<Buffer | undefined> {
    const key = this.requireKey();
    const v = (await this.read())?.entries[name];
    return v === undefined ? undefined : open(key, Buffer.from(v, 'base64'));
  }

  async set(name: string, value: Buffer): Promise<void> {
    const key = this.requireKey();
    const f = await this.read();
    if (!f) throw new AppError('NOT_FOUND', 'No vault passphrase has been set');
    await writeJsonFile(this.path, { ...f, entries: { ...f.entries, [name]: seal(key, value).toString('base64') } });
  }

  async delete(name: string): Promise<void> {
    this.requireKey();
    const f = await this.read();
    if (!f || !(name in f.entries)) return;
    const entries = { ...f.entries };
    delete entries[name];
    await writeJsonFile(this.path, { ...f, entries });
  }

  async wrap(plain: Buffer): Promise<Buffer> {
    return seal(this.requireKey(), plain);
  }

  async unwrap(wrapped: Buffer): Promise<Buffer> {
    try {
      return open(this.requireKey(), wrapped);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('VAULT_WRONG_PASSPHRASE', 'This data was wrapped by another vault or is damaged');
    }
  }
}
