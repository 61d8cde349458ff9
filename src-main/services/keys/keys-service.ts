import { dirname, join } from 'node:path';
import type { KeysState, KeySummary, PassphraseStrengthView } from '../../shared/domain';
import { AppError, isDiskFullError } from '../../shared/errors';
import { writeFileAtomic } from '../files/atomic-file';
import type { RecipientsOf } from '../pgp/key-usage';
import { Keyring, type RecipientEntry } from '../pgp/keyring';
import { checkPassphraseStrength, MIN_ACCEPTED_SCORE } from '../pgp/passphrase-strength';
import type { SecretStore } from '../vault/secret-store';

/** Where verified manifests come from (the backups capability); none before any backup exists. */
export type ManifestSource = () => Promise<readonly RecipientsOf[]>;

const summary = (r: RecipientEntry): KeySummary => ({
  fingerprint: r.info.fingerprint,
  userIds: r.info.userIds,
  createdAt: r.info.createdAt,
  algorithm: r.info.algorithm,
  label: r.label,
  role: r.role,
});

/**
 * The Keys screen's service: the keyring in `<data>/keys`, passphrase checks, and exports written
 * by main to a path the user chose — private material never travels to the renderer.
 */
export class KeysService {
  readonly keyring: Keyring;

  constructor(
    dataDir: string,
    secrets: SecretStore,
    private readonly manifests: ManifestSource = async () => [],
  ) {
    this.keyring = new Keyring(join(dataDir, 'keys'), secrets);
  }

  async state(): Promise<KeysState> {
    return { keys: (await this.keyring.list()).map(summary), unlocked: this.keyring.cache.isUnlocked() };
  }

  strength(passphrase: string): PassphraseStrengthView {
    const s = checkPassphraseStrength(passphrase);
    return { score: s.score, bits: s.bits, reasons: [...s.reasons], acceptable: s.score >= MIN_ACCEPTED_SCORE };
  }

  private requireStrong(passphrase: string): void {
    if (!this.strength(passphrase).acceptable)
      throw new AppError('INVALID_ARGUMENT', 'The passphrase is too weak', { field: 'passphrase' });
  }

  async generate(opts: { name: string; email?: string; passphrase: string }): Promise<KeySummary> {
    this.requireStrong(opts.passphrase);
    await this.keyring.generate(opts);
    await this.keyring.unlock(opts.passphrase);
    return summary((await this.keyring.desktopKey())!);
  }

  async importPrivate(opts: { armored: string; passphrase: string }): Promise<KeySummary> {
    await this.keyring.importPrivate(opts);
    return summary((await this.keyring.desktopKey())!);
  }

  async addRecipient(opts: { armored: string; label: string; role: 'recovery' | 'other' }): Promise<KeySummary> {
    const info = await this.keyring.addRecipient(opts);
    return summary((await this.keyring.list()).find((r) => r.info.fingerprint === info.fingerprint)!);
  }

  async remove(fingerprint: string, force: boolean): Promise<void> {
    await this.keyring.remove(fingerprint, { manifests: await this.manifests(), force });
  }

  async exportPublic(fingerprint: string): Promise<string> {
    return this.keyring.exportPublic(fingerprint);
  }

  /** Writes the gpg-importable recovery key (0600) and its printable page beside it. */
  async exportRecovery(opts: {
    passphrase: string;
    recoveryPassphrase?: string;
    path: string;
  }): Promise<{ keyPath: string; pagePath: string }> {
    if (opts.recoveryPassphrase) this.requireStrong(opts.recoveryPassphrase);
    const r = await this.keyring.exportRecovery(opts);
    const keyPath = opts.path.endsWith('.asc') ? opts.path : `${opts.path}.asc`;
    const pagePath = keyPath.replace(/\.asc$/, '-recovery-sheet.html');
    try {
      await writeFileAtomic(keyPath, r.armoredKey, 0o600);
      await writeFileAtomic(pagePath, r.pageHtml, 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (isDiskFullError(e)) throw new AppError('DISK_FULL', 'The disk is full');
      throw new AppError('NOT_FOUND', `Cannot write to ${dirname(keyPath)} (${code ?? 'error'})`);
    }
    return { keyPath, pagePath };
  }

  async unlock(passphrase: string): Promise<KeysState> {
    await this.keyring.unlock(passphrase);
    return this.state();
  }

  async lock(): Promise<KeysState> {
    this.keyring.lock();
    return this.state();
  }
}
