import { decryptKey, encryptKey, enums, readPrivateKey, type PartialConfig, type PrivateKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import { assertGpgCompatible } from './key-info';
import { runKeyJob } from './key-worker';
import { MIN_ACCEPTED_SCORE, checkPassphraseStrength } from './passphrase-strength';

/**
 * Two protections for the same v4 secret key (reliability §2.5):
 *  - the app's copy: Argon2 S2K + AEAD (openpgp.js refuses Argon2 without AEAD). GnuPG 2.2 cannot
 *    import it, but messages to the key stay SEIPDv1 because the public key's features are unchanged;
 *  - the recovery copy: iterated+salted S2K, which `gpg --import` accepts.
 */
export type Protection = 'app' | 'gpg';

/** Parses an armored private key; KEY_INVALID when it is not one. */
export async function parsePrivateKey(armored: string): Promise<PrivateKey> {
  try {
    return await readPrivateKey({ armoredKey: armored });
  } catch (e) {
    throw new AppError('KEY_INVALID', 'Not an OpenPGP private key', { reason: messageOf(e) }, { cause: e });
  }
}

/**
 * Returns a decrypted copy of the key, computed in a throwaway worker thread (key-worker.ts: Argon2's
 * 64 MiB must not stay resident). KEY_WRONG_PASSPHRASE for a wrong passphrase (both S2K kinds),
 * KEY_INVALID for a key that is not protected at all (we never accept an unprotected desktop key).
 */
export async function unlockPrivateKey(key: PrivateKey | string, passphrase: string): Promise<PrivateKey> {
  const armored = typeof key === 'string' ? key : key.armor();
  const { binary } = await runKeyJob({ t: 'key-unlock', armored, passphrase });
  return readPrivateKey({ binaryKey: binary! });
}

/** unlockPrivateKey on the calling thread (what the throwaway key worker runs; see key-worker.ts). */
export async function unlockPrivateKeyInThread(key: PrivateKey | string, passphrase: string): Promise<PrivateKey> {
  const parsed = typeof key === 'string' ? await parsePrivateKey(key) : key;
  if (parsed.isDecrypted()) throw new AppError('KEY_INVALID', 'The private key is not passphrase-protected');
  try {
    return await decryptKey({ privateKey: parsed, passphrase });
  } catch (e) {
    const msg = messageOf(e);
    if (/passphrase|authenticate|decrypting private key/i.test(msg)) {
      throw new AppError('KEY_WRONG_PASSPHRASE', 'Wrong passphrase for the private key', undefined, { cause: e });
    }
    throw new AppError('KEY_INVALID', 'The private key could not be unlocked', { reason: msg }, { cause: e });
  }
}

/**
 * Protects a decrypted key, in a throwaway worker thread like unlockPrivateKey; refuses weak
 * passphrases (see passphrase-strength). Returns armored text.
 */
export async function protectPrivateKey(unlocked: PrivateKey, passphrase: string, protection: Protection): Promise<string> {
  assertProtectable(unlocked, passphrase);
  const { armored } = await runKeyJob({ t: 'key-protect', unlocked: unlocked.write(), passphrase, protection });
  return armored!;
}

/** protectPrivateKey on the calling thread (what the throwaway key worker runs; see key-worker.ts). */
export async function protectPrivateKeyInThread(unlocked: PrivateKey, passphrase: string, protection: Protection): Promise<string> {
  assertProtectable(unlocked, passphrase);
  const config: PartialConfig =
    protection === 'app'
      ? { s2kType: enums.s2k.argon2, aeadProtect: true }
      : { s2kType: enums.s2k.iterated, aeadProtect: false, s2kIterationCountByte: 224 };
  // encryptKey mutates its input; clone so the caller's unlocked key stays usable.
  const copy = await readPrivateKey({ binaryKey: unlocked.write() });
  const protectedKey = await encryptKey({ privateKey: copy, passphrase, config });
  return protectedKey.armor();
}

/** What protecting needs, checked before any work: an unlocked, gpg-compatible key and a strong passphrase. */
function assertProtectable(unlocked: PrivateKey, passphrase: string): void {
  if (!unlocked.isDecrypted()) throw new AppError('INVALID_ARGUMENT', 'protectPrivateKey needs an unlocked key');
  assertAcceptablePassphrase(passphrase);
  assertGpgCompatible(unlocked);
}

/** Throws INVALID_ARGUMENT (with the strength reasons) for a passphrase below the accepted score. */
export function assertAcceptablePassphrase(passphrase: string): void {
  const strength = checkPassphraseStrength(passphrase);
  if (strength.score < MIN_ACCEPTED_SCORE) {
    throw new AppError('INVALID_ARGUMENT', 'Passphrase too weak', { score: strength.score, reasons: strength.reasons });
  }
}

/** Best-effort wipe of the secret material of an unlocked key (PrivateKey.clearPrivateParams, untyped). */
export function lockKey(key: PrivateKey): void {
  (key as unknown as { clearPrivateParams?: () => void }).clearPrivateParams?.();
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
