import {
  createCipheriv,
  createHash,
  randomBytes,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type Cipher,
  type Hash,
  type KeyObject,
} from 'node:crypto';
import { closeSync, constants as fsFlags, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import { AppError, isDiskFullError, type ErrorCode } from '../../shared/errors';
import { freeMemory } from './chunk-queue';
import { CHECK_STEP } from './format';
import { writePacket } from './packet-framing';

/**
 * The bulk of each part's OpenPGP message, built and checked with Node's native crypto in
 * synchronous per-chunk steps (no web streams, no per-byte promises): AES-256-CFB (SEIPDv1), the
 * SHA-1 MDC, the signature hash and Ed25519, plus the SHA-256 of the ciphertext the manifest
 * records. openpgp.js still does what touches key material formats: parsing keys and creating /
 * opening the PKESK packets (ECDH). The messages are exactly what RFC 4880 and GnuPG 2.2 read:
 *
 *   PKESK v3 per recipient · SEIPD v1 { prefix · one-pass signature · literal ('b') · signature v4 · MDC }
 *
 * Why (docs/architecture.md, performance): openpgp.js's stream plumbing cost more than the
 * crypto, and it signs Ed25519-legacy with SHA-512 (no SHA-NI) where SHA-256 is allowed (RFC 9580
 * §5.2.3.3: at least 256 bits) and runs at twice the speed here.
 */

/** Partial body chunks of 2^20 bytes (RFC 4880 §4.2.2.4). */
const PARTIAL_EXP = 20;
const PARTIAL = 1 << PARTIAL_EXP;
const HASH_SHA256 = 8;
const PK_EDDSA_LEGACY = 22;
const SIG_BINARY = 0x00;
const NODE_HASH: Record<number, string> = { 8: 'sha256', 9: 'sha384', 10: 'sha512' };
/**
 * Crypto calls get at most this many bytes: Node allocates a fresh output buffer per call, and
 * below glibc's mmap threshold that stays cheap (1 MiB calls measured 20–25% slower per core).
 */
const SLICE = 64 * 1024;
/** Largest non-data packet (PKESK, one-pass signature, signature) a reader buffers. */
const MAX_SMALL_PACKET = 64 * 1024;

/**
 * What format v2 manifests record of each part besides its size, so that a reader checks it with
 * ONE hash pass (the signature's SHA-256 over the data, which it computes anyway) where v1 took
 * three (ciphertext SHA-256, MDC SHA-1, signature SHA-256), and the writer with two where v1 took
 * three (no SHA-256 of the ciphertext). See docs/backup-format.md §Integrity.
 */
export interface PartCheck {
  /** SHA-256 (hex) of the part's plaintext: the literal data, a slice of the compressed archive. */
  readonly plainSha256: string;
  /** SHA-256 (hex) of the part's PKESK packets: everything before the encrypted packet. */
  readonly headSha256: string;
  /** The SEIPDv1 modification detection code (hex, 20 bytes): SHA-1 over the encrypted content. */
  readonly mdc: string;
  /**
   * Format v3: SHA-256 (hex, concatenated) of the plaintext's first k × CHECK_STEP bytes, for every
   * whole step before the end. The encryptor gets each from the signature's running hash (a copy
   * finalised at the boundary: no extra pass); a reader with them releases the plaintext step by
   * step, each step only once its prefix digest matched (see PartDecryptor's sink).
   */
  readonly stepSha256?: string;
}

/** A part as the encryptor made it: what the manifest lists. */
export interface PartDigest {
  /** Ciphertext bytes (the object's size). */
  readonly size: number;
  readonly check: PartCheck;
}

/** What a decryption read: the ciphertext size, and its SHA-256 unless a {@link PartCheck} was checked instead. */
export interface ReadDigest {
  readonly size: number;
  readonly sha256?: string;
}

/** A part as the signed manifest lists it: size and SHA-256 of the ciphertext (format v1), or size and check (v2). */
export interface ExpectedPart {
  readonly size: number;
  readonly sha256?: string;
  readonly check?: PartCheck;
}

/** An Ed25519 (legacy EdDSA, algorithm 22) OpenPGP key as a Node KeyObject, with its identity. */
export interface EdKey {
  readonly keyId: Uint8Array;
  readonly fingerprint: Uint8Array;
  /** Key creation time (seconds). */
  readonly created: number;
  readonly publicKey: KeyObject;
}

/** The server signing key, ready to sign (a KeyObject can be posted to a worker thread). */
export interface PartSigner extends EdKey {
  readonly privateKey: KeyObject;
}

/** Everything one part's encryption needs: its PKESK packets, the session key they carry, the signer. */
export interface PartSession {
  /** PKESK v3 packets (one per recipient) for `sessionKey`. */
  readonly pkesks: Uint8Array;
  /** AES-256 session key of this part only. */
  readonly sessionKey: Uint8Array;
  /** Signature and literal-data time (seconds). */
  readonly created: number;
  readonly signer: PartSigner;
}

export interface SessionKey {
  readonly algorithm: 'aes128' | 'aes192' | 'aes256';
  readonly data: Uint8Array;
}

/** What one part's decryption needs besides the ciphertext. */
export interface DecryptSetup {
  /** The pinned key's usable Ed25519 signing keys (its primary key, or signing subkeys). */
  readonly verifiers: readonly EdKey[];
  /** Key IDs (hex) of the decryption key and its subkeys: a PKESK for one of these is addressed to us. */
  readonly ownKeyIds: readonly string[];
  /**
   * Opens the session key from the part's PKESK packets (done where the private key is). A rejection
   * means the packets are addressed to us but unreadable: the part is damaged.
   */
  openSessionKey(pkesks: readonly Uint8Array[]): Promise<SessionKey>;
}

/**
 * Packet writer for one packet with partial body lengths: holds back less than one partial chunk
 * (references, no copies) so that every header precedes exactly 2^20 bytes; `end` writes the
 * final definite-length piece.
 */
class PartialPacketWriter {
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  constructor(
    tag: number,
    private readonly sink: (b: Uint8Array) => void,
  ) {
    sink(Uint8Array.of(0xc0 | tag));
  }

  /** Whether bytes of `buffer` are still held back (referenced, not yet written on). */
  holds(buffer: ArrayBufferLike): boolean {
    return this.pending.some((p) => p.buffer === buffer);
  }

  write(b: Uint8Array): void {
    if (b.length === 0) return;
    this.pending.push(b);
    this.pendingLen += b.length;
    while (this.pendingLen >= PARTIAL) this.flushPartial();
  }

  end(): void {
    this.sink(definiteLength(this.pendingLen));
    for (const p of this.pending) this.sink(p);
    this.pending = [];
    this.pendingLen = 0;
  }

  private flushPartial(): void {
    this.sink(Uint8Array.of(224 + PARTIAL_EXP));
    let left = PARTIAL;
    while (left > 0) {
      const p = this.pending[0]!;
      if (p.length <= left) {
        this.sink(p);
        this.pending.shift();
        left -= p.length;
      } else {
        this.sink(p.subarray(0, left));
        this.pending[0] = p.subarray(left);
        left = 0;
      }
    }
    this.pendingLen -= PARTIAL;
  }
}

function definiteLength(n: number): Uint8Array {
  if (n < 192) return Uint8Array.of(n);
  if (n < 8384) return Uint8Array.of(((n - 192) >> 8) + 192, (n - 192) & 0xff);
  return Uint8Array.of(255, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

const u32 = (n: number) => Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

function subpacket(type: number, body: Uint8Array): Uint8Array {
  return Buffer.concat([definiteLength(body.length + 1), Uint8Array.of(type), body]);
}

/** RFC 4880 §3.2 MPI of a big-endian byte string (leading zero bytes dropped, exact bit count). */
function mpi(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  const bits = v.length === 0 ? 0 : (v.length - 1) * 8 + (32 - Math.clz32(v[0]!));
  return Buffer.concat([Uint8Array.of(bits >> 8, bits & 0xff), v]);
}

/**
 * Signs and encrypts one part. `update` and `final` return the next ciphertext bytes (one buffer of
 * their own, unpooled, or none); `digest()` gives its size and the v2 check. Two hash passes over
 * the data: the signature's SHA-256 and the MDC's SHA-1, both part of the OpenPGP message.
 *
 * With `reuseInput` the caller hands over the memory of the plaintext it passes (the whole buffer
 * under each chunk): once the encryptor has read the last of a buffer and the caller has moved on to
 * another one, the ciphertext is written into it instead of into new memory (see take).
 */
export class PartEncryptor {
  private readonly cipher: Cipher;
  private readonly mdc: Hash = createHash('sha1');
  private readonly sigHash: Hash = createHash('sha256');
  private readonly seipd: PartialPacketWriter;
  private readonly literal: PartialPacketWriter;
  private out: Uint8Array[] = [];
  private outLen = 0;
  private size = 0;
  private finished = false;
  /** The cipher's own output buffers (freed once copied out: see freeNow). */
  private readonly ciphered = new WeakSet<ArrayBufferLike>();

  private readonly signer: PartSigner;
  private readonly created: number;
  private readonly headSha256: string;
  private plainSha256 = '';
  private mdcHex = '';
  /** Plaintext bytes hashed so far, and the prefix digests at every CHECK_STEP boundary. */
  private hashed = 0;
  private readonly steps: string[] = [];
  /** With reuseInput: the plaintext buffer being passed, and earlier ones not reused yet. */
  private inputBuffer: ArrayBufferLike | undefined;
  private readonly handedOver: ArrayBufferLike[] = [];

  constructor(
    session: PartSession,
    private readonly opts: { reuseInput?: boolean } = {},
  ) {
    this.signer = session.signer;
    this.created = session.created;
    this.headSha256 = createHash('sha256').update(session.pkesks).digest('hex');
    this.cipher = createCipheriv('aes-256-cfb', session.sessionKey, Buffer.alloc(16));
    this.emit(session.pkesks);
    this.seipd = new PartialPacketWriter(18, (b) => this.emit(b));
    this.seipd.write(Uint8Array.of(1)); // SEIPD version 1
    const prefix = randomBytes(18);
    prefix[16] = prefix[14]!;
    prefix[17] = prefix[15]!;
    this.inner(prefix);
    // one-pass signature (v3): binary document, SHA-256, EdDSA legacy, issuer key ID, last = 1
    this.inner(
      writePacket(4, Buffer.concat([Uint8Array.of(3, SIG_BINARY, HASH_SHA256, PK_EDDSA_LEGACY), this.signer.keyId, Uint8Array.of(1)])),
    );
    this.literal = new PartialPacketWriter(11, (b) => this.inner(b));
    this.literal.write(Buffer.concat([Uint8Array.of(0x62, 0), u32(this.created)])); // 'b', no file name, date
  }

  /** Encrypts the next plaintext bytes; returns ciphertext ready to store (possibly empty). */
  update(plain: Uint8Array): Uint8Array | undefined {
    if (this.finished) throw new Error('PartEncryptor already finished');
    for (let o = 0; o < plain.length;) {
      // slices end at step boundaries, where the running hash is copied and finalised
      const n = Math.min(SLICE, plain.length - o, CHECK_STEP - (this.hashed % CHECK_STEP));
      const s = plain.subarray(o, o + n);
      this.sigHash.update(s);
      this.hashed += n;
      if (this.hashed % CHECK_STEP === 0) this.steps.push(this.sigHash.copy().digest('hex'));
      this.literal.write(s);
      o += n;
    }
    if (this.opts.reuseInput && plain.buffer !== this.inputBuffer) {
      if (this.inputBuffer) this.handedOver.push(this.inputBuffer);
      this.inputBuffer = plain.buffer;
    }
    return this.take();
  }

  final(): Uint8Array | undefined {
    if (this.finished) throw new Error('PartEncryptor already finished');
    this.finished = true;
    this.literal.end();
    this.inner(this.signature());
    this.inner(Uint8Array.of(0xd3, 0x14)); // MDC packet header, covered by the MDC itself
    const mdc = this.mdc.digest();
    this.mdcHex = mdc.toString('hex');
    this.seipd.write(this.cipher.update(mdc));
    this.seipd.write(this.cipher.final());
    this.seipd.end();
    return this.take();
  }

  /** Size and the format v3 check of the whole part (after `final`). */
  digest(): PartDigest {
    // a boundary at the very end is the whole plaintext: plainSha256, not a step
    const steps = this.hashed > 0 && this.hashed % CHECK_STEP === 0 ? this.steps.slice(0, -1) : this.steps;
    return {
      size: this.size,
      check: { plainSha256: this.plainSha256, headSha256: this.headSha256, mdc: this.mdcHex, stepSha256: steps.join('') },
    };
  }

  private signature(): Uint8Array {
    this.plainSha256 = this.sigHash.copy().digest('hex'); // the data alone, before the signature trailer
    const s = this.signer;
    const hashedSubpackets = Buffer.concat([
      subpacket(0x80 | 2, u32(this.created)), // signature creation time (critical)
      subpacket(16, s.keyId), // issuer key ID
      subpacket(33, Buffer.concat([Uint8Array.of(4), s.fingerprint])), // issuer fingerprint (v4)
    ]);
    const hashed = Buffer.concat([
      Uint8Array.of(4, SIG_BINARY, PK_EDDSA_LEGACY, HASH_SHA256, hashedSubpackets.length >> 8, hashedSubpackets.length & 0xff),
      hashedSubpackets,
    ]);
    this.sigHash.update(hashed);
    this.sigHash.update(Buffer.concat([Uint8Array.of(4, 0xff), u32(hashed.length)]));
    const digest = this.sigHash.digest();
    const rs = nodeSign(null, digest, s.privateKey); // pure Ed25519 over the digest, as EdDSA legacy defines
    const body = Buffer.concat([hashed, Uint8Array.of(0, 0), digest.subarray(0, 2), mpi(rs.subarray(0, 32)), mpi(rs.subarray(32))]);
    return writePacket(2, body);
  }

  /** Plaintext inside the SEIPD packet: MDC-hashed, encrypted, framed. */
  private inner(b: Uint8Array): void {
    for (let o = 0; o < b.length; o += SLICE) {
      const s = b.subarray(o, o + SLICE);
      this.mdc.update(s);
      const c = this.cipher.update(s);
      this.ciphered.add(c.buffer);
      this.seipd.write(c);
    }
  }

  private emit(b: Uint8Array): void {
    if (b.length === 0) return;
    this.out.push(b);
    this.outLen += b.length;
  }

  /**
   * The ciphertext made so far, in one buffer: a plaintext buffer handed over and done with
   * (reuseInput), or new memory. Into a reused buffer goes as much as it holds; the rest (a few
   * bytes: the ciphertext of a 1 MiB chunk is 1 MiB plus its packet headers) waits for the next
   * call. Why: a new 1 MiB buffer per MiB, touched for the first time, cost page faults and kernel
   * time on the 2-core VM (perf, 1 GiB encrypt: this copy into new memory ≈ 10% of all samples).
   */
  private take(): Uint8Array | undefined {
    if (this.outLen === 0) return undefined;
    const spare = this.finished ? undefined : this.spareBuffer();
    const n = spare ? Math.min(this.outLen, spare.byteLength) : this.outLen;
    const chunk = spare ? new Uint8Array(spare, 0, n) : Buffer.allocUnsafeSlow(n); // own ArrayBuffer: transferable
    for (let o = 0; o < n;) {
      const p = this.out[0]!;
      const k = Math.min(p.length, n - o);
      chunk.set(k === p.length ? p : p.subarray(0, k), o);
      o += k;
      if (k < p.length) {
        this.out[0] = p.subarray(k);
        break;
      }
      this.out.shift();
      // a cipher output emitted whole is not referenced anywhere else (a split one stays pending)
      if (this.ciphered.has(p.buffer)) freeNow(p);
    }
    this.outLen -= n;
    this.size += n;
    return chunk;
  }

  /** A handed-over plaintext buffer none of whose bytes are still held back, if any. */
  private spareBuffer(): ArrayBuffer | undefined {
    const i = this.handedOver.findIndex((b) => b instanceof ArrayBuffer && b.byteLength > 0 && !this.literal.holds(b));
    return i < 0 ? undefined : (this.handedOver.splice(i, 1)[0] as ArrayBuffer);
  }
}

// ---------------------------------------------------------------------------------------------
// Decryption

export class PartError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
const damaged = (why: string) => new PartError('BACKUP_DAMAGED', why);

interface PacketHandler {
  start(tag: number): void;
  body(b: Uint8Array): void;
  end(): void;
}

/**
 * Push parser for a sequence of OpenPGP packets (RFC 4880 §4.2): new-format headers (partial
 * lengths only for data packets) and old-format headers with a definite length.
 */
class PacketParser {
  private hdr: number[] = [];
  private state: 'header' | 'length' | 'body' = 'header';
  private tag = -1;
  private remaining = 0;
  private last = true;
  private newFormat = true;
  private oldLenBytes = 0;

  constructor(private readonly h: PacketHandler) {}

  /** True between packets. */
  get idle(): boolean {
    return this.state === 'header' && this.hdr.length === 0;
  }

  push(b: Uint8Array): void {
    let i = 0;
    while (i < b.length) {
      if (this.state === 'body') {
        const n = Math.min(this.remaining, b.length - i);
        this.h.body(b.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        this.settle();
        continue;
      }
      this.hdr.push(b[i++]!);
      if (this.state === 'header') this.readHeader();
      else this.readLength(this.hdr);
    }
  }

  private readHeader(): void {
    const h = this.hdr;
    const first = h[0]!;
    if ((first & 0x80) === 0) throw damaged('not an OpenPGP packet');
    this.newFormat = (first & 0x40) !== 0;
    if (this.newFormat) {
      if (h.length === 1) return;
      this.tag = first & 0x3f;
      this.readLength(h.slice(1), true);
      return;
    }
    const lt = first & 3;
    if (lt === 3) throw damaged('indeterminate packet length');
    this.oldLenBytes = 1 << lt;
    if (h.length < 1 + this.oldLenBytes) return;
    this.tag = (first >> 2) & 0xf;
    let n = 0;
    for (let k = 1; k <= this.oldLenBytes; k++) n = n * 256 + h[k]!;
    this.begin(n, true, true);
  }

  /** New-format length octets (after the tag byte, or between partial chunks). */
  private readLength(l: number[], first = false): void {
    const o = l[0]!;
    let n: number;
    let last = true;
    if (o < 192) n = o;
    else if (o < 224) {
      if (l.length < 2) return;
      n = ((o - 192) << 8) + l[1]! + 192;
    } else if (o === 255) {
      if (l.length < 5) return;
      n = l[1]! * 2 ** 24 + (l[2]! << 16) + (l[3]! << 8) + l[4]!;
    } else {
      if (![8, 9, 11, 18, 20].includes(this.tag)) throw damaged('partial length on a non-data packet');
      n = 1 << (o & 0x1f);
      last = false;
    }
    this.begin(n, last, first);
  }

  private begin(n: number, last: boolean, first: boolean): void {
    this.hdr = [];
    this.remaining = n;
    this.last = last;
    this.state = 'body';
    if (first) this.h.start(this.tag);
    this.settle();
  }

  private settle(): void {
    if (this.state !== 'body' || this.remaining > 0) return;
    if (this.last) {
      this.state = 'header';
      this.h.end();
    } else this.state = 'length';
  }
}

/**
 * XOR of byte ranges in WebAssembly SIMD (128-bit lanes): `xor(dst, src, len)` sets
 * mem[dst..dst+len) ^= mem[src..src+len), len a multiple of 16. Measured here: ≈12 GiB/s including
 * the copy into its memory, against ≈2 GiB/s for the best plain-JS loop (Int32Array) — the XOR
 * was a tenth of a decrypting worker's time. The module is these 100 bytes (hand-assembled; the
 * test suite checks it against a JS XOR): one function, one 3-page memory, both exported.
 */
// prettier-ignore
const XOR_WASM = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // type: (i32 dst, i32 src, i32 len) → ()
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x03, // memory: min 3 pages (192 KiB), no max
  0x07, 0x0d, 0x02, 0x03, 0x78, 0x6f, 0x72, 0x00, 0x00, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, // export "xor", "mem"
  0x0a, 0x39, 0x01, 0x37, // code: one body of 55 bytes
  0x01, 0x01, 0x7f, // one i32 local: i
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 0x03, 0x20, 0x02, 0x4f, 0x0d, 0x01, // if i >= len: break
  0x20, 0x00, 0x20, 0x03, 0x6a, // dst + i (store address)
  0x20, 0x00, 0x20, 0x03, 0x6a, 0xfd, 0x00, 0x00, 0x00, // v128.load dst + i
  0x20, 0x01, 0x20, 0x03, 0x6a, 0xfd, 0x00, 0x00, 0x00, // v128.load src + i
  0xfd, 0x51, 0xfd, 0x0b, 0x00, 0x00, // v128.xor, v128.store
  0x20, 0x03, 0x41, 0x10, 0x6a, 0x21, 0x03, 0x0c, 0x00, // i += 16; continue
  0x0b, 0x0b, 0x0b, // end loop, end block, end function
]);
/** The part of the WebAssembly JS API used here (the Node typings declare no WebAssembly values). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { mem: { buffer: ArrayBuffer }; xor: XorInstance['xor'] } };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let xorModule: object | undefined;

interface XorInstance {
  readonly mem: Buffer;
  readonly xor: (dst: number, src: number, len: number) => void;
}

function xorInstance(): XorInstance {
  xorModule ??= new wasm.Module(XOR_WASM);
  const exp = new wasm.Instance(xorModule).exports;
  return { mem: Buffer.from(exp.mem.buffer), xor: exp.xor };
}

/** Layout of a {@link CfbDecipher}'s WebAssembly memory: [prev block | ciphertext] then keystream. */
const CT_AT = 0;
const KS_AT = SLICE + 32;

/**
 * AES-CFB decryption with a zero IV (OpenPGP SEIPDv1, no resync), computed in parallel form:
 * P[i] = C[i] XOR E(C[i-1]) with C[-1] = IV, so the block cipher runs as one ECB call over the
 * previous ciphertext blocks (pipelined AES-NI) and the XOR runs in WebAssembly SIMD. Node's own
 * CFB decrypts one block at a time (measured ≈ 630 MiB per CPU-second here against ≈ 2.9 GiB for
 * ECB). `update` returns a view into this decipher's memory: use it before the next call.
 */
export class CfbDecipher {
  private readonly ecb: Cipher;
  private readonly w = xorInstance();
  private readonly carry = Buffer.alloc(16);
  private carryLen = 0;

  constructor(ecbName: string, key: Uint8Array) {
    this.ecb = createCipheriv(ecbName, key, null);
    this.ecb.setAutoPadding(false);
    this.w.mem.fill(0, CT_AT, CT_AT + 16); // C[-1] = IV = 0
  }

  /**
   * Decrypts `ct` (after any held-back partial block), handing the plaintext to `emit` piece by
   * piece; each piece is a view valid only during that call (the next slice reuses the memory).
   * Why not return it whole: the ciphertext rarely starts on a block boundary (packet headers), so
   * most calls had a held-back block in front and were concatenated — one more copy of every byte,
   * and a fresh buffer, for a caller that only hashes and writes it.
   */
  update(ct: Uint8Array, emit: (plain: Buffer) => void): void {
    const mem = this.w.mem;
    let off = 0;
    if (this.carryLen > 0) {
      const take = Math.min(16 - this.carryLen, ct.length);
      this.carry.set(ct.subarray(0, take), this.carryLen);
      this.carryLen += take;
      off = take;
      if (this.carryLen < 16) return;
      const ks = this.ecb.update(mem.subarray(CT_AT, CT_AT + 16));
      for (let i = 0; i < 16; i++) ks[i]! ^= this.carry[i]!;
      mem.set(this.carry, CT_AT); // the new previous block
      this.carryLen = 0;
      emit(ks);
    }
    const whole = (ct.length - off) & ~15;
    for (let done = 0; done < whole;) {
      const n = Math.min(SLICE, whole - done);
      mem.set(ct.subarray(off + done, off + done + n), CT_AT + 16); // aligned copy of the ciphertext blocks
      const ks = this.ecb.update(mem.subarray(CT_AT, CT_AT + n)); // E(C[i-1]) for every block
      mem.set(ks, KS_AT);
      freeNow(ks);
      this.w.xor(KS_AT, CT_AT + 16, n);
      mem.copyWithin(CT_AT, CT_AT + n, CT_AT + n + 16); // the last ciphertext block is the next "previous"
      done += n;
      emit(mem.subarray(KS_AT, KS_AT + n));
    }
    off += whole;
    if (off < ct.length) {
      this.carry.set(ct.subarray(off), 0);
      this.carryLen = ct.length - off;
    }
  }

  /** The last, short block. */
  final(): Buffer {
    if (this.carryLen === 0) return Buffer.alloc(0);
    const ks = this.ecb.update(this.w.mem.subarray(CT_AT, CT_AT + 16));
    for (let i = 0; i < this.carryLen; i++) ks[i]! ^= this.carry[i]!;
    const out = ks.subarray(0, this.carryLen);
    this.carryLen = 0;
    return out;
  }
}

/**
 * Frees a buffer this code made and no longer uses at once instead of at the next GC (freeMemory).
 * Why: Node's cipher output is a new, zero-filled 64 KiB buffer per call, and freed in bulk by the
 * GC they made glibc hand memory back and fault it in again; freed one by one, the next call gets
 * the same memory back.
 */
function freeNow(b: Uint8Array): void {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) freeMemory(b.buffer);
}

/** A definite-length packet collected whole (bounded). */
class SmallPacket {
  private parts: Uint8Array[] = [];
  private len = 0;
  body(b: Uint8Array): void {
    this.len += b.length;
    if (this.len > MAX_SMALL_PACKET) throw damaged('packet too large');
    this.parts.push(Buffer.from(b));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const PREFIX = 18;
const MDC_LEN = 22;

export interface PartDecryptOptions {
  /**
   * The part as the signed manifest lists it; anything else fails with BACKUP_DAMAGED.
   * - `sha256` (format v1): the ciphertext's SHA-256 is compared at the end, and the SEIPDv1 MDC
   *   (a SHA-1 of the content) is not computed: a ciphertext that hashes to what the pinned key
   *   signed is the one the server wrote, byte for byte, so the MDC could only agree.
   * - `check` (format v2): neither the ciphertext's SHA-256 nor the MDC is computed. The PKESK
   *   packets' SHA-256 is compared before the session key is opened, the data's SHA-256 (a copy of
   *   the signature hash, no extra pass) when the data ends, and the decrypted MDC bytes with the
   *   recorded ones. Every ciphertext byte is then covered: a changed byte in the encrypted packet
   *   changes its own plaintext byte and garbles the next 16 (CFB), which land in the hashed data,
   *   in packets parsed strictly, or in the compared MDC; the packet framing around it and the size
   *   are checked as they are parsed.
   */
  readonly expected?: ExpectedPart;
}

/**
 * Where a part's plaintext goes: a file path (see {@link openPlainFile}; the plaintext is written as
 * it is decrypted and trusted only after `end`), or a sink that gets only verified plaintext (format
 * v3, `expected.check.stepSha256` required): the data is written over the ciphertext chunks given
 * to `push` (see writeOver), and each chunk goes to the sink once all of its data is verified — up
 * to a CHECK_STEP boundary whose prefix SHA-256 matched the signed manifest, or, for the last
 * ones, the whole data matching `plainSha256`. The sink gets views of those chunks, in order, not
 * touched again by the decryptor (a worker transfers them as they are: no copy, no new buffer).
 */
export type PlainOut = string | ((verified: Uint8Array) => void);

/**
 * Decrypts and verifies one part (see {@link PlainOut}). Feed ciphertext with `push`, then `end`:
 * it resolves only when the whole message was read, its integrity checked (the MDC, or the
 * ciphertext's SHA-256 or the check against `expected`), and the one signature verified by the
 * pinned key. On any error the caller must `discard()` (removes a file).
 */
export class PartDecryptor {
  private readonly ctHash: Hash = createHash('sha256');
  private readonly hashCiphertext: boolean;
  private readonly check: PartCheck | undefined;
  private ctDigest: ReadDigest | undefined;
  private size = 0;
  private readonly outer: PacketParser;
  private readonly innerParser: PacketParser;
  private fd: number | undefined;
  private failed: unknown;
  // outer state
  private readonly pkesks: Uint8Array[] = [];
  private outerTag = -1;
  private small = new SmallPacket();
  private seipdStarted = false;
  private seipdEnded = false;
  private seipdVersionSeen = false;
  private pendingCt: Uint8Array[] = [];
  private decipher: CfbDecipher | undefined;
  // inner state
  private readonly mdc: Hash | undefined;
  private tail: Uint8Array = new Uint8Array(0);
  private prefix: number[] = [];
  private innerTag = -1;
  private innerSmall = new SmallPacket();
  private ops: Buffer | undefined;
  private sigHash: Hash | undefined;
  private literalHeader: number[] | undefined;
  private literalDone = false;
  private verified = false;
  private plainSize = 0;
  // sink mode (format v3): the prefix digests the data is checked against, how much of it matched,
  // and the pushed ciphertext chunks, which the data is written over (see writeOver)
  private readonly sink: ((verified: Uint8Array) => void) | undefined;
  private readonly outPath: string | undefined;
  private readonly steps: Buffer | undefined;
  private stepIndex = 0;
  private readonly spaces: { buf: Uint8Array; fill: number }[] = [];
  /** Index in `spaces` of the chunk the data is being written to. */
  private writeAt = 0;

  constructor(
    private readonly setup: DecryptSetup,
    out: PlainOut,
    private readonly opts: PartDecryptOptions = {},
  ) {
    this.check = opts.expected?.check;
    this.hashCiphertext = !this.check;
    this.mdc = opts.expected ? undefined : createHash('sha1');
    if (typeof out === 'string') {
      this.outPath = out;
      this.fd = openPlainFile(out);
    } else {
      if (this.check?.stepSha256 === undefined) throw new Error('a plaintext sink needs the format v3 step digests');
      this.sink = out;
      this.steps = Buffer.from(this.check.stepSha256, 'hex');
    }
    this.outer = new PacketParser({
      start: (tag) => this.outerStart(tag),
      body: (b) => this.outerBody(b),
      end: () => this.outerEnd(),
    });
    this.innerParser = new PacketParser({
      start: (tag) => this.innerStart(tag),
      body: (b) => this.innerBody(b),
      end: () => this.innerEnd(),
    });
  }

  /**
   * Ciphertext size and SHA-256 of everything pushed (also after a failure: `push` keeps hashing).
   * Call it after the last `push`.
   */
  digest(): ReadDigest {
    this.ctDigest ??= this.hashCiphertext ? { size: this.size, sha256: this.ctHash.digest('hex') } : { size: this.size };
    return this.ctDigest;
  }

  /**
   * Feeds ciphertext; async only while the session key is being opened. After a failure it only
   * hashes. With a sink, the decryptor writes the data over the chunks it was given and hands them
   * to the sink: give it chunks nobody else uses.
   */
  async push(chunk: Uint8Array): Promise<void> {
    this.size += chunk.length;
    if (this.sink && chunk.length && !this.literalDone) this.spaces.push({ buf: chunk, fill: 0 });
    let o = 0;
    try {
      while (this.failed === undefined && o < chunk.length) {
        const s = chunk.subarray(o, o + SLICE);
        o += s.length;
        if (this.hashCiphertext) this.ctHash.update(s);
        this.outer.push(s);
      }
      if (this.failed === undefined && this.seipdStarted && !this.decipher) await this.openSessionKey();
      if (this.decipher && this.pendingCt.length) {
        const pending = this.pendingCt;
        this.pendingCt = [];
        for (const p of pending) this.decrypt(p);
      }
    } catch (e) {
      this.failed = e;
    }
    if (o < chunk.length && this.hashCiphertext) this.ctHash.update(chunk.subarray(o)); // after a failure: hash only
  }

  /** Finishes; throws PartError (or an openpgp.js error) when anything did not check out. */
  async end(): Promise<{ plainSize: number }> {
    if (this.failed === undefined) {
      try {
        if (this.seipdStarted && !this.decipher) await this.openSessionKey();
        for (const p of this.pendingCt) this.decrypt(p);
        this.pendingCt = [];
        this.finish();
        const exp = this.opts.expected;
        if (exp) {
          const got = this.digest();
          if (got.size !== exp.size || (!this.check && got.sha256 !== exp.sha256))
            throw damaged('the part does not match the signed manifest (size or SHA-256)');
        }
        if (this.fd !== undefined) ftruncateSync(this.fd, this.plainSize); // a reused file may hold a longer, earlier part
      } catch (e) {
        this.failed = e;
      }
    }
    this.close();
    if (this.failed !== undefined) throw this.failed;
    return { plainSize: this.plainSize };
  }

  /** Closes and removes the output file (on every failure path). */
  discard(): void {
    this.close();
    if (this.outPath !== undefined) rmSync(this.outPath, { force: true });
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  // --- outer packets: PKESK* SEIPDv1

  private outerStart(tag: number): void {
    if (this.seipdStarted) throw damaged('data after the encrypted packet');
    this.outerTag = tag;
    if (tag === 1) this.small = new SmallPacket();
    else if (tag === 18) {
      if (this.pkesks.length === 0) throw damaged('no session key packet');
      if (this.check && createHash('sha256').update(Buffer.concat(this.pkesks)).digest('hex') !== this.check.headSha256)
        throw damaged('the session key packets do not match the signed manifest');
      this.seipdStarted = true;
    } else throw damaged(`unexpected packet ${tag}`);
  }

  private outerBody(b: Uint8Array): void {
    if (this.outerTag === 1) return this.small.body(b);
    if (b.length === 0) return;
    if (!this.seipdVersionSeen) {
      if (b[0] !== 1) throw damaged('not a SEIPD v1 packet');
      this.seipdVersionSeen = true;
      b = b.subarray(1);
      if (b.length === 0) return;
    }
    if (this.decipher) this.decrypt(b);
    else this.pendingCt.push(Buffer.from(b)); // until the session key is open (first chunk only)
  }

  private outerEnd(): void {
    if (this.outerTag === 1) this.pkesks.push(writePacket(1, this.small.bytes()));
    else this.seipdEnded = true;
  }

  private async openSessionKey(): Promise<void> {
    const ids = this.pkesks.map(pkeskKeyId);
    if (!ids.some((id) => id === '0000000000000000' || this.setup.ownKeyIds.includes(id ?? '')))
      throw new PartError('KEY_NOT_RECIPIENT', 'No session key packet for this key');
    let k: SessionKey;
    try {
      k = await this.setup.openSessionKey(this.pkesks);
    } catch (e) {
      throw damaged(`session key: ${(e as Error).message}`); // addressed to us, yet unreadable
    }
    const cipher = { aes128: 'aes-128-ecb', aes192: 'aes-192-ecb', aes256: 'aes-256-ecb' }[k.algorithm as string];
    if (!cipher || k.data.length !== Number(cipher.slice(4, 7)) / 8) throw damaged('unsupported session key');
    this.decipher = new CfbDecipher(cipher, k.data);
  }

  // --- SEIPD plaintext: prefix, inner packets, MDC (the last 22 bytes, held back)

  private decrypt(ct: Uint8Array): void {
    this.decipher!.update(ct, this.releaseFn);
  }

  private readonly releaseFn = (p: Uint8Array) => this.release(p);

  private release(p: Uint8Array): void {
    if (p.length === 0) return;
    let release: Uint8Array;
    if (p.length >= MDC_LEN) {
      if (this.tail.length) this.plain(this.tail);
      release = p.subarray(0, p.length - MDC_LEN);
      this.tail = Buffer.from(p.subarray(p.length - MDC_LEN));
    } else {
      const all = Buffer.concat([this.tail, p]);
      release = all.subarray(0, Math.max(0, all.length - MDC_LEN));
      this.tail = all.subarray(all.length - Math.min(MDC_LEN, all.length));
    }
    this.plain(release);
  }

  private plain(b: Uint8Array): void {
    if (b.length === 0) return;
    this.mdc?.update(b);
    if (this.prefix.length < PREFIX) {
      const n = Math.min(PREFIX - this.prefix.length, b.length);
      for (let i = 0; i < n; i++) this.prefix.push(b[i]!);
      b = b.subarray(n);
      if (this.prefix.length === PREFIX && (this.prefix[14] !== this.prefix[16] || this.prefix[15] !== this.prefix[17]))
        throw damaged('wrong session key or damaged data (quick check)');
    }
    if (b.length) this.innerParser.push(b);
  }

  private innerStart(tag: number): void {
    this.innerTag = tag;
    if (tag === 4) {
      if (this.ops || this.literalHeader) throw damaged('unexpected one-pass signature');
      this.innerSmall = new SmallPacket();
    } else if (tag === 11) {
      if (!this.ops) throw new PartError('BACKUP_UNSIGNED', 'Message is not signed');
      if (this.literalHeader) throw damaged('second literal packet');
      this.literalHeader = [];
    } else if (tag === 2) {
      if (!this.literalDone) throw damaged('signature before the data');
      if (this.verified) throw damaged('second signature');
      this.innerSmall = new SmallPacket();
    } else throw damaged(`unexpected packet ${tag} in the encrypted data`);
  }

  private innerBody(b: Uint8Array): void {
    if (this.innerTag !== 11) return this.innerSmall.body(b);
    const h = this.literalHeader!;
    // literal header: format, name length, name, 4-byte date
    while (b.length && (h.length < 2 || h.length < 2 + h[1]! + 4)) {
      h.push(b[0]!);
      b = b.subarray(1);
    }
    if (!b.length) return;
    if (this.sink) return this.toSink(b);
    this.sigHash!.update(b);
    this.plainSize += b.length;
    let o = 0;
    while (o < b.length) o += writeSync(this.fd!, b, o, b.length - o);
  }

  /**
   * Sink mode: hashes the data, writes it over the ciphertext chunks already read (see writeOver),
   * and at each step boundary with more data after it compares the prefix digest; chunks whose data
   * all matched go to the sink.
   */
  private toSink(b: Uint8Array): void {
    while (b.length) {
      // a full step is checked when more data follows (at the very end it is the whole data's)
      if (this.plainSize > this.stepIndex * CHECK_STEP && this.plainSize % CHECK_STEP === 0) this.checkStep();
      const n = Math.min(b.length, CHECK_STEP - (this.plainSize % CHECK_STEP));
      const s = b.subarray(0, n);
      this.sigHash!.update(s);
      this.writeOver(s);
      this.plainSize += n;
      b = b.subarray(n);
    }
  }

  /**
   * Writes data over the pushed ciphertext chunks, in order, from the first one. Why: a fresh
   * buffer per step cost a page fault per 4 KiB here (memory the host took back), and the chunks
   * are free once read. Safe: the data's byte k comes from a ciphertext byte at k or later (packet
   * headers come first), which has been read (copied into the decipher or a packet buffer) by then.
   */
  private writeOver(b: Uint8Array): void {
    while (b.length) {
      const space = this.spaces[this.writeAt];
      if (!space) throw damaged('more data than ciphertext'); // cannot happen: see above
      const n = Math.min(b.length, space.buf.length - space.fill);
      space.buf.set(b.subarray(0, n), space.fill);
      space.fill += n;
      b = b.subarray(n);
      if (space.fill === space.buf.length) this.writeAt++;
    }
  }

  /** The data so far is a whole number of steps: compares the prefix digest, then releases what it covers. */
  private checkStep(): void {
    const at = this.stepIndex * 32;
    if (at + 32 > this.steps!.length) throw damaged('the data is longer than the signed manifest says');
    if (!sameBytes(this.sigHash!.copy().digest(), this.steps!.subarray(at, at + 32)))
      throw damaged(`the data does not match the signed manifest (SHA-256 of the first ${this.stepIndex + 1} MiB)`);
    this.stepIndex++;
    this.releaseSpaces();
  }

  /**
   * Hands the sink, in order, the chunks filled so far. Called only when all the data written so far
   * matched (a step's digest, or the whole data's), so every filled chunk holds verified data only.
   * Once the data ended, the chunk it ended in counts as filled, and the chunks after it (the
   * signature and the MDC) are dropped.
   */
  private releaseSpaces(): void {
    const done = this.spaces.splice(0, this.literalDone ? this.writeAt + 1 : this.writeAt);
    this.writeAt -= done.length;
    if (this.literalDone) this.spaces.length = this.writeAt = 0;
    for (const sp of done) if (sp.fill > 0) this.sink!(sp.fill === sp.buf.length ? sp.buf : sp.buf.subarray(0, sp.fill));
  }

  private innerEnd(): void {
    if (this.innerTag === 4) {
      const ops = this.innerSmall.bytes();
      if (ops.length !== 13 || ops[0] !== 3) throw damaged('bad one-pass signature packet');
      if (ops[12] !== 1) throw damaged('nested one-pass signatures');
      if (ops[1] !== SIG_BINARY) throw new PartError('BACKUP_SIGNATURE_INVALID', 'Not a binary document signature');
      const hash = NODE_HASH[ops[2]!];
      if (!hash) throw new PartError('BACKUP_SIGNATURE_INVALID', 'Unsupported signature hash');
      this.ops = ops;
      this.sigHash = createHash(hash);
    } else if (this.innerTag === 11) {
      const h = this.literalHeader!;
      if (h.length < 2 || h.length !== 2 + h[1]! + 4) throw damaged('truncated literal packet');
      if (this.check && this.sigHash!.copy().digest('hex') !== this.check.plainSha256)
        throw damaged('the data does not match the signed manifest (SHA-256)');
      this.literalDone = true;
      if (this.sink) {
        // the whole data matched: every step digest must have been used, the rest is released
        if (this.stepIndex * 32 !== this.steps!.length) throw damaged('the data is shorter than the signed manifest says');
        this.releaseSpaces();
      }
    } else if (this.innerTag === 2) {
      this.verifySignature(this.innerSmall.bytes());
      this.verified = true;
    }
  }

  private verifySignature(sig: Buffer): void {
    const invalid = (why: string) => new PartError('BACKUP_SIGNATURE_INVALID', `Signature: ${why}`);
    const ops = this.ops!;
    if (sig.length < 10 || sig[0] !== 4) throw invalid('not a v4 signature');
    if (sig[1] !== ops[1] || sig[3] !== ops[2] || sig[2] !== ops[3]) throw invalid('does not match its one-pass packet');
    if (sig[2] !== PK_EDDSA_LEGACY) throw invalid('not an EdDSA signature');
    const v = this.setup.verifiers.find((k) => sameBytes(ops.subarray(4, 12), k.keyId));
    if (!v) throw invalid('not made by the pinned signing key');
    const hashedLen = (sig[4]! << 8) + sig[5]!;
    const u = 6 + hashedLen;
    if (u + 2 > sig.length) throw damaged('truncated signature');
    const unhashedLen = (sig[u]! << 8) + sig[u + 1]!;
    const m = u + 2 + unhashedLen;
    if (m + 2 > sig.length) throw damaged('truncated signature');
    const info = readSubpackets(sig.subarray(6, u), true);
    const unhashed = readSubpackets(sig.subarray(u + 2, m), false);
    if (info.created === undefined) throw invalid('no creation time');
    const issuer = info.issuerFpr ?? unhashed.issuerFpr;
    if (issuer && !sameBytes(issuer, v.fingerprint)) throw invalid('not made by the pinned signing key');
    const issuerId = info.issuerId ?? unhashed.issuerId;
    if (issuerId && !sameBytes(issuerId, v.keyId)) throw invalid('not made by the pinned signing key');
    if (info.created < v.created) throw invalid('older than the signing key');
    if (info.expires && info.created + info.expires <= Math.floor(Date.now() / 1000)) throw invalid('expired');
    const hashed = sig.subarray(0, u);
    const h = this.sigHash!;
    h.update(hashed);
    h.update(Buffer.concat([Uint8Array.of(4, 0xff), u32(hashed.length)]));
    const digest = h.digest();
    if (sig[m] !== digest[0] || sig[m + 1] !== digest[1]) throw invalid('signed digest did not match');
    const mpis = sig.subarray(m + 2);
    const r = readMpi(mpis, 0);
    const s = r && readMpi(mpis, r.next);
    if (!r || !s || s.next !== mpis.length || r.value.length > 32 || s.value.length > 32) throw damaged('bad signature values');
    const rs = Buffer.concat([leftPad(r.value, 32), leftPad(s.value, 32)]);
    if (!nodeVerify(null, digest, v.publicKey, rs)) throw invalid('signed digest did not match');
  }

  private finish(): void {
    if (!this.seipdEnded || !this.outer.idle || !this.decipher) throw damaged('truncated message');
    this.release(this.decipher.final());
    if (this.tail.length !== MDC_LEN || this.tail[0] !== 0xd3 || this.tail[1] !== 0x14)
      throw damaged('modification detection code missing');
    if (!this.innerParser.idle) throw damaged('truncated encrypted data');
    if (this.mdc) {
      this.mdc.update(this.tail.subarray(0, 2));
      if (!sameBytes(this.mdc.digest(), this.tail.subarray(2))) throw damaged('modification detected (MDC)');
    } else if (this.check && Buffer.from(this.tail.subarray(2)).toString('hex') !== this.check.mdc)
      throw damaged('modification detected (MDC differs from the signed manifest)');
    if (!this.ops) throw new PartError('BACKUP_UNSIGNED', 'Message is not signed');
    if (!this.literalDone) throw damaged('no data');
    if (!this.verified) throw new PartError('BACKUP_UNSIGNED', 'Message is not signed');
  }
}

/**
 * Opens a part's plaintext file for writing from its start, 0600, never through a symlink. It may
 * exist: the parts reader reuses a few files in its private 0700 folder (`slots` in
 * `parts-reader.ts`), and the decryptor cuts the file to the plaintext's length when the part
 * checks out (on failure it removes it). Why not a new file per part: overwriting pages already in
 * the page cache is cheaper than allocating new ones for every part and freeing them (crypto bench,
 * 1 GiB decrypt: 2.34 → 2.06 s).
 */
function openPlainFile(path: string): number {
  return openSync(path, fsFlags.O_WRONLY | fsFlags.O_CREAT | fsFlags.O_NOFOLLOW, 0o600);
}

function pkeskKeyId(packet: Uint8Array): string | undefined {
  // new-format header written by writePacket, then version 3 and the 8-byte key ID
  const hl = packet[1]! < 192 ? 2 : packet[1]! < 224 ? 3 : 6;
  if (packet[hl] !== 3 || packet.length < hl + 9) return undefined;
  return Buffer.from(packet.subarray(hl + 1, hl + 9)).toString('hex');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function leftPad(b: Uint8Array, n: number): Buffer {
  const out = Buffer.alloc(n);
  out.set(b, n - b.length);
  return out;
}

function readMpi(b: Uint8Array, at: number): { value: Uint8Array; next: number } | undefined {
  if (at + 2 > b.length) return undefined;
  const bits = (b[at]! << 8) + b[at + 1]!;
  const len = (bits + 7) >> 3;
  if (at + 2 + len > b.length) return undefined;
  return { value: b.subarray(at + 2, at + 2 + len), next: at + 2 + len };
}

interface SubpacketInfo {
  created?: number;
  expires?: number;
  issuerId?: Uint8Array;
  issuerFpr?: Uint8Array;
}

/** Reads signature subpackets; an unknown critical one makes the signature invalid (RFC 4880 §5.2.3.1). */
function readSubpackets(b: Uint8Array, hashed: boolean): SubpacketInfo {
  const info: SubpacketInfo = {};
  let i = 0;
  while (i < b.length) {
    const o = b[i]!;
    let len: number;
    if (o < 192) {
      len = o;
      i += 1;
    } else if (o < 255) {
      if (i + 2 > b.length) throw damaged('truncated subpacket');
      len = ((o - 192) << 8) + b[i + 1]! + 192;
      i += 2;
    } else {
      if (i + 5 > b.length) throw damaged('truncated subpacket');
      len = b[i + 1]! * 2 ** 24 + (b[i + 2]! << 16) + (b[i + 3]! << 8) + b[i + 4]!;
      i += 5;
    }
    if (len < 1 || i + len > b.length) throw damaged('truncated subpacket');
    const type = b[i]! & 0x7f;
    const critical = (b[i]! & 0x80) !== 0;
    const body = b.subarray(i + 1, i + len);
    i += len;
    const num = () => (body.length === 4 ? ((body[0]! << 24) >>> 0) + (body[1]! << 16) + (body[2]! << 8) + body[3]! : -1);
    if (type === 2 && hashed) info.created = num();
    else if (type === 3 && hashed) info.expires = num();
    else if (type === 16) info.issuerId = body.length === 8 ? body : new Uint8Array(0);
    else if (type === 33) info.issuerFpr = body[0] === 4 ? body.subarray(1) : new Uint8Array(0);
    else if (critical && hashed) throw new PartError('BACKUP_SIGNATURE_INVALID', `Signature: unknown critical subpacket ${type}`);
    if ((type === 2 || type === 3) && hashed && num() < 0) throw damaged('bad subpacket');
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Attaches the ciphertext digest of a failed part (see decryptPart). */
export function withCiphertext(e: AppError, digest: ReadDigest): AppError {
  return new AppError(e.code, e.message, { ...(e.details ?? {}), ciphertext: digest }, { cause: e });
}

/** Maps part errors (ours and openpgp.js's) to the closed error codes. */
export function classifyPartError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  let code: ErrorCode = 'BACKUP_DAMAGED';
  if (e instanceof PartError) code = e.code;
  // no room for the decrypted file: the desktop's disk, not the backup, is the problem
  else if (isDiskFullError(e)) code = 'DISK_FULL';
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
    case 'DISK_FULL':
      return 'The disk is full';
    default:
      return 'A backup part is damaged';
  }
}
