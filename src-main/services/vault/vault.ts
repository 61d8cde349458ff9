import type { VaultStatus } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import { KeychainStore, hasRealKeyring, type SafeStorageLike } from './keychain-store';
import { PassphraseStore } from './passphrase-store';
import type { SecretStore } from './secret-store';
import { SessionStore } from './session-store';

export interface VaultOptions {
  readonly dataDir: string;
  /** Electron's safeStorage; absent in browser mode. */
  readonly safeStorage?: SafeStorageLike;
  readonly platform?: NodeJS.Platform;
  /** Called when the vault is locked or unlocked, so windows can be told. */
  readonly onChange?: (unlocked: boolean) => void;
}

/**
 * The secret store the services use. Picks the strongest mode available and says which:
 * OS keychain when a real keyring exists; otherwise a passphrase vault once the user sets a
 * passphrase (secrets typed before that move into it); until then, session-only memory.
 */
export class Vault implements SecretStore {
  private backend: SecretStore;
  private readonly passphraseStore: PassphraseStore;
  private readonly reason: VaultStatus['reason'];

  private constructor(
    private readonly opts: VaultOptions,
    backend: SecretStore,
    reason: VaultStatus['reason'],
  ) {
    this.backend = backend;
    this.reason = reason;
    this.passphraseStore = backend instanceof PassphraseStore ? backend : new PassphraseStore(opts.dataDir);
  }

  static async open(opts: VaultOptions): Promise<Vault> {
    const platform = opts.platform ?? process.platform;
    if (opts.safeStorage && hasRealKeyring(opts.safeStorage, platform)) {
      return new Vault(opts, new KeychainStore(opts.dataDir, opts.safeStorage), undefined);
    }
    const reason = opts.safeStorage ? 'no-keyring' : 'browser-mode';
    const pass = new PassphraseStore(opts.dataDir);
    return new Vault(opts, (await pass.exists()) ? pass : new SessionStore(), reason);
  }

  get mode(): SecretStore['mode'] {
    return this.backend.mode;
  }

  async status(): Promise<VaultStatus> {
    const base = {
      mode: this.backend.mode,
      unlocked: this.backend.isUnlocked(),
      passphraseSet: this.backend.mode === 'passphrase',
    };
    return this.reason ? { ...base, reason: this.reason } : base;
  }

  /** Sets the vault passphrase (only without a keyring, only once) and moves session secrets in. */
  async setPassphrase(passphrase: string): Promise<VaultStatus> {
    if (this.backend.mode === 'os-keychain') throw new AppError('INVALID_ARGUMENT', 'Secrets are already kept in the OS keychain');
    if (!(this.backend instanceof SessionStore)) throw new AppError('INVALID_ARGUMENT', 'A vault passphrase is already set');
    const session = this.backend;
    await this.passphraseStore.create(passphrase);
    for (const [name, value] of session.snapshot()) await this.passphraseStore.set(name, value);
    this.backend = this.passphraseStore;
    this.opts.onChange?.(true);
    return this.status();
  }

  async unlock(passphrase: string): Promise<VaultStatus> {
    if (this.backend !== this.passphraseStore) return this.status();
    await this.passphraseStore.unlock(passphrase);
    this.opts.onChange?.(true);
    return this.status();
  }

  async lock(): Promise<VaultStatus> {
    if (this.backend === this.passphraseStore) {
      this.passphraseStore.lock();
      this.opts.onChange?.(false);
    }
    return this.status();
  }

  isUnlocked(): boolean {
    return this.backend.isUnlocked();
  }
  get(name: string): Promise<Buffer | undefined> {
    return this.backend.get(name);
  }
  set(name: string, value: Buffer): Promise<void> {
    return this.backend.set(name, value);
  }
  delete(name: string): Promise<void> {
    return this.backend.delete(name);
  }
  wrap(plain: Buffer): Promise<Buffer> {
    return this.backend.wrap(plain);
  }
  unwrap(wrapped: Buffer): Promise<Buffer> {
    return this.backend.unwrap(wrapped);
  }
}
