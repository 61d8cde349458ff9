import { setImmediate as nextTurn } from 'node:timers/promises';
import { AppError, type ErrorCode } from '../../shared/errors';
import {
  PartDecryptor,
  PartEncryptor,
  PartError,
  prepareDecryptKeys,
  prepareEncryptKeys,
  type CiphertextDigest,
  type DecryptKeyBytes,
  type EncryptKeyBytes,
  type PreparedDecryptKeys,
  type PreparedEncryptKeys,
} from './native-part';

export type { CiphertextDigest, DecryptKeyBytes, EncryptKeyBytes } from './native-part';

/**
 * The per-part OpenPGP work, written so that it runs the same inline or inside a worker thread:
 * keys travel as binary packets, data as ~1 MiB chunks, each processed synchronously by
 * native-part.ts (one part = one PKESK+SEIPDv1 message, one-pass signed, no OpenPGP compression,
 * so that `gpg -d part` both decrypts it and shows the server's signature).
 */

/** Parsed keys of the last job, reused while the same key bytes come back (every part of a backup). */
let encCache: { bytes: readonly Uint8Array[]; keys: Promise<PreparedEncryptKeys> } | undefined;
let decCache: { bytes: readonly Uint8Array[]; keys: Promise<PreparedDecryptKeys> } | undefined;

function sameList(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(b[i]!));
}

function encryptKeys(keys: EncryptKeyBytes): Promise<PreparedEncryptKeys> {
  const bytes = [keys.signingKey, ...keys.recipients];
  if (!encCache || !sameList(encCache.bytes, bytes)) {
    const p = prepareEncryptKeys(keys);
    encCache = { bytes: bytes.map((b) => Uint8Array.from(b)), keys: p };
    p.catch(() => (encCache = undefined));
  }
  return encCache.keys;
}

function decryptKeys(keys: DecryptKeyBytes): Promise<PreparedDecryptKeys> {
  const bytes = [keys.decryptionKey, keys.verificationKey];
  if (!decCache || !sameList(decCache.bytes, bytes)) {
    const p = prepareDecryptKeys(keys);
    decCache = { bytes: bytes.map((b) => Uint8Array.from(b)), keys: p };
    p.catch(() => (decCache = undefined));
  }
  return decCache.keys;
}

/** Starts one part's encryption (PKESKs made, signer ready). */
export async function startPartEncryption(keys: EncryptKeyBytes): Promise<PartEncryptor> {
  try {
    return await PartEncryptor.create(await encryptKeys(keys));
  } catch (e) {
    throw classifyPartError(e);
  }
}

/** Starts one part's decryption into `outPath` (created 0600 with 'wx': it must not exist). */
export async function startPartDecryption(keys: DecryptKeyBytes, outPath: string): Promise<PartDecryptor> {
  try {
    return new PartDecryptor(await decryptKeys(keys), outPath);
  } catch (e) {
    throw classifyPartError(e);
  }
}

/**
 * Sign-and-encrypt one part from `input` (≈1 MiB chunks), calling `write` for each ciphertext
 * chunk (awaited: backpressure). Resolves to the ciphertext's size and SHA-256.
 */
export async function encryptPart(
  keys: EncryptKeyBytes,
  input: AsyncIterable<Uint8Array>,
  write: (chunk: Uint8Array) => Promise<void>,
  signal?: AbortSignal,
): Promise<CiphertextDigest> {
  const enc = await startPartEncryption(keys);
  for await (const chunk of input) {
    // let I/O callbacks and worker messages run between synchronous 1 MiB crypto steps
    await nextTurn();
    if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
    const out = enc.update(chunk);
    if (out) await write(out);
  }
  if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
  const out = enc.final();
  if (out) await write(out);
  return enc.digest();
}

/**
 * Decrypts one part into `outPath` (created 0600, must not exist) and returns only once the whole
 * message was read, the MDC matched AND the signature by the pinned key verified. The plaintext
 * goes to a private file that nobody reads before this resolves; it is removed on failure. After
 * a failure the rest of `input` is still read and hashed, so the error carries the ciphertext's
 * size and SHA-256 (details.ciphertext) for the caller to compare with the manifest.
 */
export async function decryptPartToFile(
  input: AsyncIterable<Uint8Array>,
  keys: DecryptKeyBytes,
  outPath: string,
  signal?: AbortSignal,
): Promise<{ plainSize: number } & CiphertextDigest> {
  const dec = await startPartDecryption(keys, outPath);
  try {
    for await (const chunk of input) {
      await nextTurn();
      if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
      await dec.push(chunk);
    }
    if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
  } catch (e) {
    dec.discard();
    throw classifyPartError(e);
  }
  try {
    const { plainSize } = await dec.end();
    return { plainSize, ...dec.digest() };
  } catch (e) {
    dec.discard();
    throw withCiphertext(classifyPartError(e), dec.digest());
  }
}

/** Attaches the ciphertext digest of a failed part (see decryptPartToFile). */
export function withCiphertext(e: AppError, digest: CiphertextDigest): AppError {
  return new AppError(e.code, e.message, { ...(e.details ?? {}), ciphertext: digest }, { cause: e });
}

/** Maps part errors (ours and openpgp.js's) to the closed error codes. */
export function classifyPartError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  let code: ErrorCode = 'BACKUP_DAMAGED';
  if (e instanceof PartError) code = e.code;
  else if (/not signed/i.test(msg)) code = 'BACKUP_UNSIGNED';
  else if (/signing key|signature|signed digest/i.test(msg)) code = 'BACKUP_SIGNATURE_INVALID';
  else if (/session key decryption failed|no (?:valid )?decryption key/i.test(msg)) code = 'KEY_NOT_RECIPIENT';
  else if (/abort|cancel/i.test(msg)) code = 'CANCELLED';
  return new AppError(code, partErrorText(code), { reason: msg }, { cause: e });
}

function partErrorText(code: ErrorCode): string {
  switch (code) {
    case 'BACKUP_UNSIGNED':
      return 'A backup part is not signed';
    case 'BACKUP_SIGNATURE_INVALID':
      return 'A backup part is not signed by the pinned server key';
    case 'KEY_NOT_RECIPIENT':
      return 'This key is not a recipient of the backup';
    case 'KEY_INVALID':
      return 'The server signing key cannot be used';
    case 'CANCELLED':
      return 'Cancelled';
    default:
      return 'A backup part is damaged';
  }
}
