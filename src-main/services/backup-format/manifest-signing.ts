import { createMessage, readMessage, sign, verify, type PrivateKey, type PublicKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import { canonicalJson, parseManifestJson, type BackupManifest } from './manifest';
import { bytesEqual, concatBytes, mpisAreCanonical, readV4Signature, splitPackets, writePacket, type RawPacket } from './packet-framing';

const TAG_SIGNATURE = 2;
const TAG_ONE_PASS = 4;
const TAG_LITERAL = 11;
const LITERAL_NAME = 'manifest.json';

/**
 * Signs the canonical manifest JSON as an inline-signed (not encrypted) binary OpenPGP message.
 * Why this form: one object (the manifest's existence is what makes a backup visible, so it must be
 * written atomically), readable without the private key (listing needs no passphrase), and stock
 * gpg verifies and prints it: `gpg --output manifest.json --decrypt manifest.json.pgp`.
 */
export async function signManifest(manifest: BackupManifest, signingKey: PrivateKey): Promise<Uint8Array> {
  const data = new TextEncoder().encode(canonicalJson(manifest));
  const message = await createMessage({ binary: data, filename: LITERAL_NAME, format: 'binary', date: new Date(0) });
  const signed = await sign({ message, signingKeys: signingKey, format: 'binary' });
  // The writer must produce exactly what the reader accepts.
  await verifyManifest(signed, signingKey.toPublic());
  return signed;
}

/**
 * Verifies a manifest object against the PINNED server signing key and parses it.
 *  - BACKUP_UNSIGNED: a bare literal message (a "backup" forged without any signing key);
 *  - BACKUP_SIGNATURE_INVALID: signed by another key, or the signature does not match;
 *  - BACKUP_DAMAGED: anything else (truncation, framing, JSON, schema, non-canonical).
 */
export async function verifyManifest(bytes: Uint8Array, pinnedSigningKey: PublicKey): Promise<BackupManifest> {
  const packets = splitOrDamaged(bytes);
  let verifiedData: Uint8Array;
  let keyId: Uint8Array;
  try {
    const message = await readMessage({ binaryMessage: bytes });
    const result = await verify({ message, verificationKeys: pinnedSigningKey, expectSigned: true, format: 'binary' });
    verifiedData = result.data;
    const [only, ...more] = result.signatures;
    if (!only || more.length > 0) throw new Error('expected exactly one signature');
    await only.verified;
    keyId = Uint8Array.from(Buffer.from(only.keyID.toHex(), 'hex'));
  } catch (e) {
    throw new AppError(
      'BACKUP_SIGNATURE_INVALID',
      'The manifest is not signed by the pinned server key',
      { reason: (e as Error).message },
      { cause: e },
    );
  }
  const data = checkFraming(bytes, packets, keyId);
  if (!bytesEqual(verifiedData, data)) throw new AppError('BACKUP_DAMAGED', 'Manifest data mismatch');
  const manifest = parseManifestJson(verifiedData);
  const pinned = pinnedSigningKey.getFingerprint().toUpperCase();
  if (manifest.signingKey !== pinned) {
    throw new AppError('BACKUP_SIGNATURE_INVALID', 'The manifest names another signing key', {
      expected: pinned,
      found: manifest.signingKey,
    });
  }
  return manifest;
}

/** Splits the object into packets: BACKUP_DAMAGED when malformed, BACKUP_UNSIGNED when no signature at all. */
function splitOrDamaged(bytes: Uint8Array): RawPacket[] {
  let packets;
  try {
    packets = splitPackets(bytes);
  } catch (e) {
    throw new AppError('BACKUP_DAMAGED', 'The manifest object is truncated or malformed', { reason: (e as Error).message }, { cause: e });
  }
  const tags = packets.map((p) => p.tag);
  if (!tags.includes(TAG_SIGNATURE) && !tags.includes(TAG_ONE_PASS)) throw new AppError('BACKUP_UNSIGNED', 'The manifest is not signed');
  return packets;
}

/**
 * Checks that the object is exactly [one-pass-sig, literal(b, "manifest.json", date 0), signature]
 * with every field the signature does not cover rebuilt from the ones it does (and from the
 * verified issuer key ID). Returns the literal data.
 */
function checkFraming(bytes: Uint8Array, packets: readonly RawPacket[], keyId: Uint8Array): Uint8Array {
  const [ops, lit, sig] = packets;
  if (packets.length !== 3 || ops?.tag !== TAG_ONE_PASS || lit?.tag !== TAG_LITERAL || sig?.tag !== TAG_SIGNATURE) {
    throw new AppError('BACKUP_DAMAGED', 'Unexpected packets in the manifest object', { tags: packets.map((p) => p.tag) });
  }
  let fields;
  try {
    fields = readV4Signature(sig.body);
  } catch (e) {
    throw new AppError('BACKUP_DAMAGED', 'Malformed manifest signature', { reason: (e as Error).message }, { cause: e });
  }
  // openpgp.js v6 puts the issuer in the hashed area and leaves the unhashed area empty.
  if (fields.unhashed.length !== 0) throw new AppError('BACKUP_DAMAGED', 'Unexpected unhashed signature data');
  if (!mpisAreCanonical(fields.mpis)) throw new AppError('BACKUP_DAMAGED', 'Malformed manifest signature values');
  const opsBody = concatBytes([
    Uint8Array.of(3, fields.signatureType, fields.hashAlgorithm, fields.publicKeyAlgorithm),
    keyId,
    Uint8Array.of(1),
  ]);
  const name = new TextEncoder().encode(LITERAL_NAME);
  const data = lit.body.subarray(Math.min(lit.body.length, 2 + name.length + 4));
  const litBody = concatBytes([Uint8Array.of(0x62, name.length), name, Uint8Array.of(0, 0, 0, 0), data]);
  const rebuilt = concatBytes([
    writePacket(TAG_ONE_PASS, opsBody),
    writePacket(TAG_LITERAL, litBody),
    writePacket(TAG_SIGNATURE, sig.body),
  ]);
  if (!bytesEqual(rebuilt, bytes)) throw new AppError('BACKUP_DAMAGED', 'The manifest object is not in its canonical form');
  return data;
}
