import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  decryptSessionKeys,
  encryptSessionKey,
  enums,
  readKey,
  readMessage,
  readPrivateKey,
  type PrivateKey,
  type PublicKey,
} from 'openpgp';
import { AppError } from '../../shared/errors';
import { readPacket, writePacket } from './packet-framing';
import {
  PartDecryptor,
  PartEncryptor,
  classifyPartError,
  withCiphertext,
  type DecryptSetup,
  type ExpectedPart,
  type PartDigest,
  type PlainOut,
  type ReadDigest,
  type EdKey,
  type PartSession,
  type PartSigner,
  type SessionKey,
} from './native-part';

export type { ExpectedPart, PartCheck, PartDigest, ReadDigest } from './native-part';
export { classifyPartError, withCiphertext } from './native-part';

/**
 * The key side of the per-part OpenPGP work, on the thread that holds the keys (openpgp.js):
 * parsing keys, making each part's PKESK packets and session key, opening them when decrypting.
 * The bulk work (native-part.ts) runs the same inline or in a worker thread that never loads
 * openpgp.js nor sees a private key: it gets one part's session key at a time. One part = one
 * PKESK+SEIPDv1 message, one-pass signed, no OpenPGP compression, so that `gpg -d part` both
 * decrypts it and shows the server's signature.
 */

export interface EncryptKeyBytes {
  /** Binary public keys of every recipient. */
  readonly recipients: readonly Uint8Array[];
  /** Binary UNPROTECTED server signing key (it lives unprotected on the server anyway). */
  readonly signingKey: Uint8Array;
}

export interface DecryptKeyBytes {
  /** Binary unlocked desktop private key: stays on the thread that parses it. */
  readonly decryptionKey: Uint8Array;
  /** Binary public key of the PINNED server signing key. */
  readonly verificationKey: Uint8Array;
}

export interface PreparedEncryptKeys {
  readonly recipients: readonly PublicKey[];
  readonly signer: PartSigner;
}

export interface PreparedDecryptKeys {
  readonly decryptionKey: PrivateKey;
  /** Key IDs of the decryption key and its subkeys (a PKESK for one of these is addressed to us). */
  readonly ownKeyIds: readonly string[];
  /** The pinned key's usable Ed25519 signing keys (its primary key, or signing subkeys). */
  readonly verifiers: readonly EdKey[];
}

// ---------------------------------------------------------------------------------------------
// Ed25519 (legacy EdDSA, algorithm 22) keys as Node KeyObjects

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function edPublicPoint(key: { keyPacket: unknown }): Uint8Array {
  const packet = key.keyPacket as { algorithm: number; publicParams: { Q?: Uint8Array } };
  const q = packet.publicParams.Q;
  if (packet.algorithm !== enums.publicKey.eddsaLegacy || !q || q.length !== 33 || q[0] !== 0x40)
    throw new AppError('KEY_INVALID', 'The server signing key must be an Ed25519 (legacy EdDSA) key');
  return q.subarray(1);
}

interface KeyLike {
  getKeyID(): { toHex(): string };
  getFingerprint(): string;
  getCreationTime(): Date;
}

function edKeyInfo(key: KeyLike, publicKey: KeyObject): EdKey {
  return {
    keyId: Buffer.from(key.getKeyID().toHex(), 'hex'),
    fingerprint: Buffer.from(key.getFingerprint(), 'hex'),
    created: Math.floor(key.getCreationTime().getTime() / 1000),
    publicKey,
  };
}

export async function prepareEncryptKeys(keys: EncryptKeyBytes): Promise<PreparedEncryptKeys> {
  const recipients = await Promise.all(keys.recipients.map((k) => readKey({ binaryKey: k }) as Promise<PublicKey>));
  const signing = await readPrivateKey({ binaryKey: keys.signingKey });
  // Throws (expired, revoked, unusable) like openpgp.js's own signing would.
  await signing.getSigningKey();
  const x = edPublicPoint(signing);
  const seed = (signing.keyPacket as unknown as { privateParams?: { seed?: Uint8Array } }).privateParams?.seed;
  if (!seed || seed.length !== 32) throw new AppError('KEY_INVALID', 'The signing key must be unlocked');
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(x), d: b64url(seed) };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(x) }, format: 'jwk' });
  return { recipients, signer: { ...edKeyInfo(signing, publicKey), privateKey } };
}

export async function prepareDecryptKeys(keys: DecryptKeyBytes): Promise<PreparedDecryptKeys> {
  const decryptionKey = await readPrivateKey({ binaryKey: keys.decryptionKey });
  const verification = await readKey({ binaryKey: keys.verificationKey });
  // Every key that may verify: self-signatures valid, able to sign, not revoked (openpgp.js checks),
  // and Ed25519 legacy (what the server key is; others cannot be checked here).
  const verifiers: EdKey[] = [];
  for (const k of verification.getKeys()) {
    const usable = await verification.getSigningKey(k.getKeyID(), null).then(
      () => true,
      () => false,
    );
    if (!usable || (k.keyPacket as unknown as { algorithm: number }).algorithm !== enums.publicKey.eddsaLegacy) continue;
    const x = edPublicPoint(k);
    verifiers.push(edKeyInfo(k, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(x) }, format: 'jwk' })));
  }
  if (verifiers.length === 0) throw new AppError('BACKUP_SIGNATURE_INVALID', 'The pinned server key has no usable Ed25519 signing key');
  return {
    decryptionKey,
    ownKeyIds: decryptionKey.getKeys().map((k) => k.getKeyID().toHex()),
    verifiers,
  };
}

/** A fresh session key and its PKESK packets for one part. */
export async function newPartSession(keys: PreparedEncryptKeys, date = new Date()): Promise<PartSession> {
  const sessionKey = randomBytes(32);
  const pkesks = (await encryptSessionKey({
    data: sessionKey,
    algorithm: 'aes256',
    encryptionKeys: [...keys.recipients],
    format: 'binary',
    date,
  })) as Uint8Array;
  return { pkesks, sessionKey, created: Math.floor(date.getTime() / 1000), signer: keys.signer };
}

/**
 * Opens a part's session key from its PKESK packets with the (unlocked) decryption key; returns
 * the one {@link primeSessionKey} opened ahead for the same packets when there is one.
 */
export function openSessionKey(keys: PreparedDecryptKeys, pkesks: readonly Uint8Array[]): Promise<SessionKey> {
  const cache = primed.get(keys);
  if (cache?.size) {
    const id = Buffer.concat(pkesks).toString('hex');
    const ahead = cache.get(id);
    if (ahead) {
      cache.delete(id);
      return ahead;
    }
  }
  return openSessionKeyNow(keys, pkesks);
}

async function openSessionKeyNow(keys: PreparedDecryptKeys, pkesks: readonly Uint8Array[]): Promise<SessionKey> {
  const message = await readMessage({ binaryMessage: Buffer.concat(pkesks) });
  const found = await decryptSessionKeys({ message, decryptionKeys: keys.decryptionKey });
  const k = found[0];
  if (!k || (k.algorithm !== 'aes128' && k.algorithm !== 'aes192' && k.algorithm !== 'aes256')) throw new Error('unsupported session key');
  return { algorithm: k.algorithm, data: k.data };
}

/**
 * Session keys opened ahead, per prepared key, by the PKESK packets they came from (hex). Why: a
 * worker asks for its part's session key once it has read the PKESK packets, and waited for the
 * calling thread's ECDH (openpgp.js, ~2 ms) and its turn in that busy thread's event loop: 0.13 s
 * of a 1 GiB decrypt's worker time, 40 parts. The parts reader reads each queued part's first chunk
 * early and opens its session key here while the part waits.
 */
const primed = new WeakMap<PreparedDecryptKeys, Map<string, Promise<SessionKey>>>();
/** Session keys held ahead per key at most (the parts reader queues fewer parts than this). */
const MAX_PRIMED = 16;

/**
 * Opens, ahead of time, the session key of a part whose first bytes are `head`, so that
 * {@link openSessionKey} finds it ready. Best effort: if `head` does not start with complete
 * PKESK packets followed by another packet, or the key cannot be opened, nothing is kept and the
 * part's decryption opens (and reports) it as usual. Only the key is opened: no data is decrypted.
 * Resolves to whether a key was opened (callers need not wait).
 */
export async function primeSessionKey(keys: DecryptKeyBytes, head: Uint8Array): Promise<boolean> {
  const pkesks = leadingPkesks(head);
  if (!pkesks) return false;
  const id = Buffer.concat(pkesks).toString('hex');
  let prepared: PreparedDecryptKeys;
  try {
    prepared = await decryptKeys(keys);
  } catch {
    return false; // the part's decryption reports it
  }
  let cache = primed.get(prepared);
  if (!cache) primed.set(prepared, (cache = new Map()));
  if (!cache.has(id)) {
    if (cache.size >= MAX_PRIMED) cache.delete(cache.keys().next().value!);
    cache.set(id, openSessionKeyNow(prepared, pkesks));
  }
  const p = cache.get(id)!;
  return p.then(
    () => true,
    () => {
      if (cache.get(id) === p) cache.delete(id);
      return false;
    },
  );
}

/**
 * The PKESK packets (tag 1, re-framed like the decryptor does) that start `head`, if they are
 * complete and another packet header follows them.
 */
function leadingPkesks(head: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  for (let i = 0; ;) {
    const p = readPacket(head, i);
    if (typeof p !== 'string' && p.tag === 1) {
      out.push(writePacket(1, p.body));
      i = p.next;
      continue;
    }
    // Stopped at the next packet (the encrypted one, whose partial length readPacket declines) or
    // at a PKESK cut off by the end of `head`: only in the first case are the PKESKs all there.
    const h = head[i];
    const otherPacket = h !== undefined && (h & 0xc0) === 0xc0 && (h & 0x3f) !== 1;
    return out.length > 0 && otherPacket ? out : undefined;
  }
}

/** The decryption setup of a part, with the session key opened on this thread. */
export function decryptSetup(keys: PreparedDecryptKeys): DecryptSetup {
  return { verifiers: keys.verifiers, ownKeyIds: keys.ownKeyIds, openSessionKey: (p) => openSessionKey(keys, p) };
}

/** Parsed keys of the last job, reused while the same key bytes come back (every part of a backup). */
let encCache: { bytes: readonly Uint8Array[]; keys: Promise<PreparedEncryptKeys> } | undefined;
let decCache: { bytes: readonly Uint8Array[]; keys: Promise<PreparedDecryptKeys> } | undefined;

function sameList(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(b[i]!));
}

/** {@link prepareEncryptKeys}, cached for the same key bytes; errors are classified. */
export function encryptKeys(keys: EncryptKeyBytes): Promise<PreparedEncryptKeys> {
  const bytes = [keys.signingKey, ...keys.recipients];
  if (!encCache || !sameList(encCache.bytes, bytes)) {
    const p = prepareEncryptKeys(keys).catch((e: unknown) => {
      encCache = undefined;
      throw classifyPartError(e);
    });
    encCache = { bytes: bytes.map((b) => Uint8Array.from(b)), keys: p };
  }
  return encCache.keys;
}

/** {@link prepareDecryptKeys}, cached for the same key bytes; errors are classified. */
export function decryptKeys(keys: DecryptKeyBytes): Promise<PreparedDecryptKeys> {
  const bytes = [keys.decryptionKey, keys.verificationKey];
  if (!decCache || !sameList(decCache.bytes, bytes)) {
    const p = prepareDecryptKeys(keys).catch((e: unknown) => {
      decCache = undefined;
      throw classifyPartError(e);
    });
    decCache = { bytes: bytes.map((b) => Uint8Array.from(b)), keys: p };
  }
  return decCache.keys;
}

/**
 * Ends a job's hold on the unlocked key: forgets the parsed form of these decryption keys (and the
 * session keys opened ahead with them), and zeroes both this module's copy of the key bytes and
 * `keys.decryptionKey` (the caller's, which it must not use again). Why: the cache above held the
 * unlocked desktop key for as long as the process ran, while the unlock cache (`UnlockCache`)
 * promises to lock it after a few idle minutes. A later job parses it again (~10 ms).
 */
export function releaseDecryptKeys(keys: DecryptKeyBytes): void {
  if (decCache && sameList(decCache.bytes, [keys.decryptionKey, keys.verificationKey])) {
    for (const b of decCache.bytes) (b as Uint8Array).fill(0);
    decCache = undefined;
  }
  keys.decryptionKey.fill(0);
}

/**
 * Starts one part's encryption on this thread (PKESKs made, signer ready). The plaintext chunks it
 * is given are handed over, as PartRunner.encrypt's input is: their memory takes the ciphertext
 * (PartEncryptor's reuseInput).
 */
async function startPartEncryption(keys: EncryptKeyBytes): Promise<PartEncryptor> {
  try {
    return new PartEncryptor(await newPartSession(await encryptKeys(keys)), { reuseInput: true });
  } catch (e) {
    throw classifyPartError(e);
  }
}

/** Starts one part's decryption on this thread (see PlainOut: a file, or a sink of verified steps). */
export async function startPartDecryption(keys: DecryptKeyBytes, out: PlainOut, expected?: ExpectedPart): Promise<PartDecryptor> {
  try {
    return new PartDecryptor(decryptSetup(await decryptKeys(keys)), out, expected ? { expected } : {});
  } catch (e) {
    throw classifyPartError(e);
  }
}

/**
 * Where a decrypted part goes: a private file (0600, written from its start, trusted only once the
 * decryption resolved), or `write`, called (and awaited: backpressure) with verified plaintext only:
 * format v3, step by step (see PlainOut in native-part.ts).
 */
export type PartOutput = string | ((verified: Uint8Array) => Promise<void>);

/**
 * Bytes encrypted or decrypted between two turns of the event loop when a part runs on the calling
 * thread. That thread also moves every byte of the other parts (reads the input or the sources,
 * feeds the worker, writes its ciphertext or reads back verified parts, starts the next part), so a
 * long synchronous step starves them.
 * - Decrypt (1 GiB, one part inline + one worker, 4 alternating runs): with whole 1 MiB chunks
 *   (≈2 ms each) the worker sat idle for half of the run; 2.16 s with 1 MiB steps, 1.93 s with
 *   256 KiB, 1.90 s with 128 KiB, 1.91 s with 64 KiB — as fast as two workers (1.88 s) without their
 *   memory — and peak RSS 189 → 178 MiB.
 * - Encrypt (same setup): with 1 MiB steps (≈2.6 ms of crypto each) the worker sat idle 0.63 s
 *   between its parts and 0.2 s waiting for its output to be taken, with 128 KiB 0.23 s and 0.15 s;
 *   the run 2.60 → 2.51 s. The calling thread's queues then fill faster: the encrypt-only run
 *   peaked at 205–211 MiB against 185 (at most one part's plaintext per running part, as designed),
 *   while a 4 GiB backup (tar → zstd → encrypt) peaked the same (219–222 against 211–222 MiB).
 */
const INLINE_STEP = 128 * 1024;

/**
 * Sign-and-encrypt one part from `input` (≈1 MiB chunks), calling `write` for each ciphertext
 * chunk (awaited: backpressure). Resolves to the ciphertext's size and the v2 check.
 */
export async function encryptPart(
  keys: EncryptKeyBytes,
  input: AsyncIterable<Uint8Array>,
  write: (chunk: Uint8Array) => Promise<void>,
  signal?: AbortSignal,
): Promise<PartDigest> {
  const enc = await startPartEncryption(keys);
  for await (const chunk of input) {
    for (let at = 0; at < chunk.length; at += INLINE_STEP) {
      await nextTurn();
      if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
      const out = enc.update(chunk.subarray(at, at + INLINE_STEP));
      if (out) await write(out);
    }
  }
  if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
  const out = enc.final();
  if (out) await write(out);
  return enc.digest();
}

/**
 * Decrypts one part to `out` (see PartOutput) and returns only once the whole message was read, its
 * integrity checked (MDC, or the ciphertext or check against `expected`) AND the signature by the
 * pinned key verified. A file is removed on failure; `write` never gets a byte that did not match
 * the signed manifest. After a failure the rest of `input` is still read and hashed, so the error
 * carries the ciphertext's size and SHA-256 (details.ciphertext) for the caller to compare with
 * the manifest.
 */
export async function decryptPart(
  input: AsyncIterable<Uint8Array>,
  keys: DecryptKeyBytes,
  out: PartOutput,
  signal?: AbortSignal,
  expected?: ExpectedPart,
): Promise<{ plainSize: number } & ReadDigest> {
  const verified: Uint8Array[] = [];
  const dec = await startPartDecryption(keys, typeof out === 'string' ? out : (v) => verified.push(v), expected);
  const flush = async () => {
    if (typeof out === 'string') return;
    while (verified.length) await out(verified.shift()!);
  };
  try {
    for await (const chunk of input) {
      for (let at = 0; at < chunk.length; at += INLINE_STEP) {
        await nextTurn();
        if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
        await dec.push(chunk.subarray(at, at + INLINE_STEP));
        await flush();
      }
    }
    if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
  } catch (e) {
    dec.discard();
    throw classifyPartError(e);
  }
  try {
    const { plainSize } = await dec.end();
    await flush();
    return { plainSize, ...dec.digest() };
  } catch (e) {
    dec.discard();
    throw withCiphertext(classifyPartError(e), dec.digest());
  }
}
