import type { PrivateKey } from 'openpgp';
import { lockKey, parsePrivateKey, protectPrivateKey, unlockPrivateKey } from './key-protect';

/**
 * Exports a recovery copy of the desktop's private key that stock GnuPG 2.2 imports
 * (iterated+salted S2K, no AEAD). `recoveryPassphrase` defaults to the key's passphrase; the user
 * may choose a different one for the printed copy.
 */
export async function exportRecoveryKey(opts: { armoredAppKey: string; passphrase: string; recoveryPassphrase?: string }): Promise<string> {
  const unlocked = await unlockPrivateKey(await parsePrivateKey(opts.armoredAppKey), opts.passphrase);
  try {
    return await protectPrivateKey(unlocked, opts.recoveryPassphrase ?? opts.passphrase, 'gpg');
  } finally {
    lockKey(unlocked);
  }
}

/** Same as {@link exportRecoveryKey} for a key that is already unlocked (from the unlock cache). */
export async function exportRecoveryKeyFromUnlocked(unlocked: PrivateKey, recoveryPassphrase: string): Promise<string> {
  return protectPrivateKey(unlocked, recoveryPassphrase, 'gpg');
}

/** The public half, armored, for sharing or for the server's recipient list. */
export async function exportPublicKey(armoredKey: string): Promise<string> {
  if (armoredKey.includes('PRIVATE KEY BLOCK')) return (await parsePrivateKey(armoredKey)).toPublic().armor();
  return armoredKey;
}
