import { readKey, type PrivateKey, type PublicKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import { assertGpgCompatible, describeKey, type KeyInfo } from './key-info';
import { lockKey, parsePrivateKey, protectPrivateKey, unlockPrivateKey } from './key-protect';

/** Result of importing an existing private key (e.g. `gpg --export-secret-keys --armor`). */
export interface ImportedPrivateKey {
  readonly info: KeyInfo;
  /** Re-protected for the app (Argon2 + AEAD) with the passphrase given (or `newPassphrase`). */
  readonly armoredPrivate: string;
  readonly armoredPublic: string;
}

/**
 * Imports an armored private key with its passphrase: proves the passphrase, checks gpg 2.2
 * compatibility and that the key can decrypt (has an encryption subkey), then re-protects it for
 * the app. KEY_WRONG_PASSPHRASE / KEY_INVALID on failure.
 */
export async function importPrivateKey(opts: { armored: string; passphrase: string; newPassphrase?: string }): Promise<ImportedPrivateKey> {
  const parsed = await parsePrivateKey(opts.armored);
  assertGpgCompatible(parsed);
  const unlocked = await unlockPrivateKey(parsed, opts.passphrase);
  try {
    await unlocked.getDecryptionKeys().then((keys) => {
      if (keys.length === 0) throw new Error('no decryption key');
    });
    await unlocked.getEncryptionKey();
  } catch (e) {
    lockKey(unlocked);
    throw new AppError('KEY_INVALID', 'This key cannot encrypt/decrypt (no usable encryption subkey)', undefined, { cause: e });
  }
  try {
    const armoredPrivate = await protectPrivateKey(unlocked, opts.newPassphrase ?? opts.passphrase, 'app');
    const pub = unlocked.toPublic();
    return { info: await describeKey(pub), armoredPrivate, armoredPublic: pub.armor() };
  } finally {
    lockKey(unlocked);
  }
}

/**
 * Parses an armored PUBLIC key for use as an extra recipient (offline recovery key, second laptop).
 * A private key pasted by mistake is reduced to its public part (the secret is never kept).
 */
export async function importPublicKey(armored: string): Promise<{ info: KeyInfo; key: PublicKey; armoredPublic: string }> {
  let key;
  try {
    key = await readKey({ armoredKey: armored });
  } catch (e) {
    throw new AppError('KEY_INVALID', 'Not an OpenPGP public key', undefined, { cause: e });
  }
  const pub = key.isPrivate() ? (key as PrivateKey).toPublic() : (key as PublicKey);
  assertGpgCompatible(pub);
  try {
    await pub.getEncryptionKey();
  } catch (e) {
    throw new AppError('KEY_INVALID', 'This key has no valid encryption subkey (expired, revoked or sign-only)', undefined, { cause: e });
  }
  return { info: await describeKey(pub), key: pub, armoredPublic: pub.armor() };
}

/** Parses the server's signing public key for pinning; checks it can verify signatures. */
export async function importSigningPublicKey(armored: string): Promise<{ fingerprint: string; key: PublicKey }> {
  let key;
  try {
    key = await readKey({ armoredKey: armored });
  } catch (e) {
    throw new AppError('KEY_INVALID', 'Not an OpenPGP public key', undefined, { cause: e });
  }
  const pub = key.isPrivate() ? (key as PrivateKey).toPublic() : (key as PublicKey);
  try {
    await pub.getSigningKey();
  } catch (e) {
    throw new AppError('KEY_INVALID', 'This key cannot sign', undefined, { cause: e });
  }
  return { fingerprint: pub.getFingerprint().toUpperCase(), key: pub };
}
