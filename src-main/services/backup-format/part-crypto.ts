import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { createMessage, decrypt, encrypt, enums, readKey, readMessage, readPrivateKey, type PrivateKey, type PublicKey } from 'openpgp';
import { AppError, type ErrorCode } from '../../shared/errors';

/**
 * The per-part OpenPGP work, written so that it runs the same inline or inside a worker thread:
 * keys travel as binary packets, data as web streams of ~1 MiB chunks.
 */
export interface EncryptKeyBytes {
  /** Binary public keys of every recipient. */
  readonly recipients: readonly Uint8Array[];
  /** Binary UNPROTECTED server signing key (it lives unprotected on the server anyway). */
  readonly signingKey: Uint8Array;
}

export interface DecryptKeyBytes {
  /** Binary unlocked desktop private key: stays inside this process (main thread or its workers). */
  readonly decryptionKey: Uint8Array;
  /** Binary public key of the PINNED server signing key. */
  readonly verificationKey: Uint8Array;
}

/**
 * Sign-and-encrypt one part: one OpenPGP message (PKESK per recipient, SEIPDv1, one-pass signed,
 * no OpenPGP compression) so that `gpg -d part` both decrypts it and shows the server's signature.
 */
export async function encryptPartStream(input: ReadableStream<Uint8Array>, keys: EncryptKeyBytes): Promise<ReadableStream<Uint8Array>> {
  const encryptionKeys = await Promise.all(keys.recipients.map((k) => readKey({ binaryKey: k }) as Promise<PublicKey>));
  const signingKey = await readPrivateKey({ binaryKey: keys.signingKey });
  const message = await createMessage({ binary: input, format: 'binary' });
  return (await encrypt({
    message,
    encryptionKeys,
    signingKeys: signingKey,
    format: 'binary',
    config: { preferredCompressionAlgorithm: enums.compression.uncompressed },
  })) as ReadableStream<Uint8Array>;
}

/**
 * Decrypts one part into `outPath` (created 0600, must not exist) and returns only once the
 * stream ended without error AND the signature by the pinned key verified. With SEIPDv1,
 * `allowUnauthenticatedStream` is what keeps memory flat; it is safe here only because the output
 * goes to a private file that nobody reads before this resolves. The file is removed on failure.
 */
export async function decryptPartToFile(
  input: ReadableStream<Uint8Array>,
  keys: DecryptKeyBytes,
  outPath: string,
): Promise<{ plainSize: number }> {
  let decryptionKey: PrivateKey | undefined;
  try {
    decryptionKey = await readPrivateKey({ binaryKey: keys.decryptionKey });
    const verificationKey = await readKey({ binaryKey: keys.verificationKey });
    const message = await readMessage({ binaryMessage: input });
    const { data, signatures } = await decrypt({
      message,
      decryptionKeys: decryptionKey,
      verificationKeys: verificationKey,
      expectSigned: true,
      format: 'binary',
      config: { allowUnauthenticatedStream: true },
    });
    let plainSize = 0;
    const counted = Readable.fromWeb(data as NodeWebReadableStream<Uint8Array>);
    counted.on('data', (c: Uint8Array) => (plainSize += c.length));
    await pipeline(counted, createWriteStream(outPath, { flags: 'wx', mode: 0o600 }));
    if (signatures.length === 0) throw new Error('Message is not signed');
    for (const s of signatures) await s.verified;
    return { plainSize };
  } catch (e) {
    await rm(outPath, { force: true });
    throw classifyPartError(e);
  } finally {
    (decryptionKey as unknown as { clearPrivateParams?: () => void } | undefined)?.clearPrivateParams?.();
  }
}

/** Maps openpgp.js error messages to the closed error codes. */
export function classifyPartError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  let code: ErrorCode = 'BACKUP_DAMAGED';
  if (/not signed/i.test(msg)) code = 'BACKUP_UNSIGNED';
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
    case 'CANCELLED':
      return 'Cancelled';
    default:
      return 'A backup part is damaged';
  }
}
