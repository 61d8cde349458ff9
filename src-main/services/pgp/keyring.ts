import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readKey, type PrivateKey, type PublicKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import type { SecretStore } from '../vault/secret-store';
import { generateDesktopKey } from './key-generate';
import { importPrivateKey, importPublicKey } from './key-import';
import { normalizeFingerprint, type KeyInfo } from './key-info';
import { exportRecoveryKey } from './key-export';
import { parsePrivateKey, protectPrivateKey, unlockPrivateKey } from './key-protect';
import { countBackupsUsingKey, type RecipientsOf } from './key-usage';
import { recoveryPageHtml, recoveryPageText } from './recovery-page';
import { UnlockCache } from './unlock-cache';

/** A recipient every backup is encrypted to. */
export interface RecipientEntry {
  readonly info: KeyInfo;
  readonly label: string;
  /** `desktop`: this machine's key (private part held here); others are public-only. */
  readonly role: 'desktop' | 'recovery' | 'other';
  readonly armoredPublic: string;
  readonly addedAt: string;
}

interface KeyringFile {
  readonly version: 1;
  readonly recipients: RecipientEntry[];
}

const KEYRING_FILE = 'keyring.json';
const PRIVATE_FILE = 'desktop-key.asc.wrapped';

/**
 * The desktop's keys: its own key pair (private part Argon2/AEAD-protected AND wrapped by the
 * SecretStore on disk) and the public-only extra recipients. All methods are main-process only;
 * nothing here ever returns private key material except the explicit recovery export.
 */
export class Keyring {
  readonly cache: UnlockCache;

  constructor(
    private readonly dir: string,
    private readonly secrets: SecretStore,
    cache?: UnlockCache,
  ) {
    this.cache = cache ?? new UnlockCache();
  }

  /** All recipients, desktop key first. */
  async list(): Promise<readonly RecipientEntry[]> {
    return (await this.load()).recipients;
  }

  async desktopKey(): Promise<RecipientEntry | undefined> {
    return (await this.list()).find((r) => r.role === 'desktop');
  }

  /** Generates the desktop key (refuses when one exists: remove it first, with its warning). */
  async generate(opts: { name: string; email?: string; passphrase: string }): Promise<KeyInfo> {
    await this.assertNoDesktopKey();
    const k = await generateDesktopKey(opts);
    await this.storeDesktop(k.info, k.armoredPrivate, k.armoredPublic);
    return k.info;
  }

  /** Imports an existing private key (e.g. from gpg) as the desktop key. */
  async importPrivate(opts: { armored: string; passphrase: string }): Promise<KeyInfo> {
    await this.assertNoDesktopKey();
    const k = await importPrivateKey(opts);
    await this.storeDesktop(k.info, k.armoredPrivate, k.armoredPublic);
    return k.info;
  }

  /** Adds a public-only recipient (offline recovery key, second laptop). */
  async addRecipient(opts: { armored: string; label: string; role?: 'recovery' | 'other' }): Promise<KeyInfo> {
    const { info, armoredPublic } = await importPublicKey(opts.armored);
    const file = await this.load();
    if (file.recipients.some((r) => r.info.fingerprint === info.fingerprint)) {
      throw new AppError('INVALID_ARGUMENT', 'This key is already a recipient', { fingerprint: info.fingerprint });
    }
    const entry: RecipientEntry = {
      info,
      label: opts.label,
      role: opts.role ?? 'recovery',
      armoredPublic,
      addedAt: new Date().toISOString(),
    };
    await this.save({ version: 1, recipients: [...file.recipients, entry] });
    return info;
  }

  /**
   * Removes a recipient. When `manifests` (verified backups) still list it, throws KEY_IN_USE with
   * `details.count` unless `force` — the UI shows the count and asks again.
   */
  async remove(fingerprint: string, opts: { manifests: readonly RecipientsOf[]; force?: boolean }): Promise<void> {
    const fp = normalizeFingerprint(fingerprint);
    const file = await this.load();
    const entry = file.recipients.find((r) => r.info.fingerprint === fp);
    if (!entry) throw new AppError('NOT_FOUND', 'No such key', { fingerprint: fp });
    const count = countBackupsUsingKey(opts.manifests, fp);
    if (count > 0 && !opts.force)
      throw new AppError('KEY_IN_USE', `${count} backups are encrypted to this key`, { fingerprint: fp, count });
    await this.save({ version: 1, recipients: file.recipients.filter((r) => r !== entry) });
    if (entry.role === 'desktop') {
      this.cache.lock();
      await rm(join(this.dir, PRIVATE_FILE), { force: true });
    }
  }

  /** Public keys every new backup must be encrypted to. */
  async recipientKeys(): Promise<PublicKey[]> {
    const list = await this.list();
    return Promise.all(list.map(async (r) => (await readKey({ armoredKey: r.armoredPublic })) as PublicKey));
  }

  /** Unlocks the desktop key into the idle-expiring cache. KEY_WRONG_PASSPHRASE on a wrong passphrase. */
  async unlock(passphrase: string): Promise<void> {
    const unlocked = await unlockPrivateKey(await this.readAppKey(), passphrase);
    this.cache.set(unlocked);
  }

  /** Runs `fn` with the unlocked key (KEY_WRONG_PASSPHRASE with details.locked when locked). */
  withUnlockedKey<T>(fn: (key: PrivateKey) => Promise<T>): Promise<T> {
    return this.cache.use(fn);
  }

  lock(): void {
    this.cache.lock();
  }

  /** Re-protects the stored key under a new passphrase. */
  async changePassphrase(oldPassphrase: string, newPassphrase: string): Promise<void> {
    const unlocked = await unlockPrivateKey(await this.readAppKey(), oldPassphrase);
    const armored = await protectPrivateKey(unlocked, newPassphrase, 'app');
    await this.writePrivate(armored);
    this.cache.set(unlocked);
  }

  /** Armored public key of any recipient. */
  async exportPublic(fingerprint: string): Promise<string> {
    const fp = normalizeFingerprint(fingerprint);
    const entry = (await this.list()).find((r) => r.info.fingerprint === fp);
    if (!entry) throw new AppError('NOT_FOUND', 'No such key', { fingerprint: fp });
    return entry.armoredPublic;
  }

  /** The gpg-importable recovery copy of the private key (iterated S2K) plus the printable sheet. */
  async exportRecovery(opts: {
    passphrase: string;
    recoveryPassphrase?: string;
    storageHint?: string;
  }): Promise<{ armoredKey: string; pageText: string; pageHtml: string }> {
    const desktop = await this.desktopKey();
    if (!desktop) throw new AppError('NOT_FOUND', 'There is no desktop key yet');
    const armoredKey = await exportRecoveryKey({
      armoredAppKey: await this.readAppKey(),
      passphrase: opts.passphrase,
      ...(opts.recoveryPassphrase ? { recoveryPassphrase: opts.recoveryPassphrase } : {}),
    });
    const others = (await this.list())
      .filter((r) => r.role !== 'desktop')
      .map((r) => ({ fingerprint: r.info.fingerprint, label: r.label }));
    const input = {
      fingerprint: desktop.info.fingerprint,
      userIds: desktop.info.userIds,
      createdAt: desktop.info.createdAt,
      otherRecipients: others,
      ...(opts.storageHint ? { storageHint: opts.storageHint } : {}),
    };
    return { armoredKey, pageText: recoveryPageText(input), pageHtml: recoveryPageHtml(input) };
  }

  private async assertNoDesktopKey(): Promise<void> {
    const d = await this.desktopKey();
    if (d) throw new AppError('KEY_IN_USE', 'A desktop key already exists; remove it first', { fingerprint: d.info.fingerprint });
  }

  private async storeDesktop(info: KeyInfo, armoredPrivate: string, armoredPublic: string): Promise<void> {
    await this.writePrivate(armoredPrivate);
    const file = await this.load();
    const entry: RecipientEntry = { info, label: 'desktop', role: 'desktop', armoredPublic, addedAt: new Date().toISOString() };
    await this.save({ version: 1, recipients: [entry, ...file.recipients.filter((r) => r.info.fingerprint !== info.fingerprint)] });
  }

  private async readAppKey(): Promise<string> {
    let wrapped: Buffer;
    try {
      wrapped = await readFile(join(this.dir, PRIVATE_FILE));
    } catch (e) {
      throw new AppError('NOT_FOUND', 'There is no desktop private key', undefined, { cause: e });
    }
    const armored = (await this.secrets.unwrap(wrapped)).toString('utf8');
    await parsePrivateKey(armored);
    return armored;
  }

  private async writePrivate(armored: string): Promise<void> {
    await atomicWrite(join(this.dir, PRIVATE_FILE), await this.secrets.wrap(Buffer.from(armored, 'utf8')));
  }

  private async load(): Promise<KeyringFile> {
    try {
      const parsed = JSON.parse(await readFile(join(this.dir, KEYRING_FILE), 'utf8')) as KeyringFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.recipients)) throw new Error('bad keyring file');
      return parsed;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, recipients: [] };
      throw new AppError('INTERNAL', 'The keyring file is unreadable', undefined, { cause: e });
    }
  }

  private async save(file: KeyringFile): Promise<void> {
    await atomicWrite(join(this.dir, KEYRING_FILE), Buffer.from(JSON.stringify(file, null, 2) + '\n'));
  }
}

async function atomicWrite(path: string, data: Buffer): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
