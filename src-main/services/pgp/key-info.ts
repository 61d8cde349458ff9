import { enums, type Key } from 'openpgp';
import { AppError } from '../../shared/errors';

/** What the UI shows about a key. Keys are always named by their full fingerprint, never by a short ID. */
export interface KeyInfo {
  /** 40 upper-case hex characters (v4 fingerprint). */
  readonly fingerprint: string;
  readonly userIds: readonly string[];
  readonly createdAt: string;
  /** e.g. `eddsaLegacy/ed25519Legacy` for the primary key. */
  readonly algorithm: string;
  readonly hasPrivate: boolean;
  /** True when some (sub)key can encrypt, i.e. the key can be a backup recipient. */
  readonly canEncrypt: boolean;
}

/** Describes a parsed key for lists and confirmations. */
export async function describeKey(key: Key): Promise<KeyInfo> {
  const algo = key.getAlgorithmInfo();
  let canEncrypt = true;
  try {
    await key.getEncryptionKey();
  } catch {
    canEncrypt = false;
  }
  return {
    fingerprint: normalizeFingerprint(key.getFingerprint()),
    userIds: key.getUserIDs(),
    createdAt: key.getCreationTime().toISOString(),
    algorithm: algo.curve ? `${algo.algorithm}/${algo.curve}` : String(algo.algorithm),
    hasPrivate: key.isPrivate(),
    canEncrypt,
  };
}

/** Upper-case hex without spaces; throws INVALID_ARGUMENT for anything that is not a v4 fingerprint. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/\s+/g, '').toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(hex)) throw new AppError('INVALID_ARGUMENT', 'Not a v4 OpenPGP fingerprint', { fingerprint: fp });
  return hex;
}

/** `ABCD 1234 …` in groups of four, the way gpg prints it, for printed pages and confirmations. */
export function formatFingerprint(fp: string): string {
  const hex = normalizeFingerprint(fp);
  const groups = hex.match(/.{4}/g) ?? [];
  return `${groups.slice(0, 5).join(' ')}  ${groups.slice(5).join(' ')}`;
}

/**
 * Refuses key material GnuPG 2.2 cannot use (v6 keys, RFC 9580 X25519/Ed25519, AEAD-only features):
 * every backup must stay decryptable with stock gpg.
 */
export function assertGpgCompatible(key: Key): void {
  const packets = [key.keyPacket, ...key.subkeys.map((s) => s.keyPacket)];
  for (const p of packets) {
    if (p.version !== 4) throw new AppError('KEY_INVALID', `Key version ${p.version} is not readable by GnuPG 2.2; use a v4 key`);
    const algo = String(enums.read(enums.publicKey, p.algorithm));
    if (algo === 'x25519' || algo === 'ed25519' || algo === 'x448' || algo === 'ed448') {
      throw new AppError('KEY_INVALID', `Algorithm ${algo} (RFC 9580) is not readable by GnuPG 2.2; use curve25519Legacy or RSA`);
    }
  }
}
