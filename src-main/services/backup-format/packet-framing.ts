/**
 * A minimal OpenPGP packet splitter (RFC 4880 §4.2, new-format headers with definite lengths only).
 * Used to hold the signed manifest to ONE exact byte form: openpgp.js verifies the signature over
 * the literal data but ignores fields the signature does not cover (the one-pass-signature packet,
 * the literal packet's name and date, the unhashed subpackets). Rebuilding those from the signature
 * and comparing makes every flipped byte of the manifest object an error.
 */
export interface RawPacket {
  readonly tag: number;
  readonly body: Uint8Array;
}

/** Splits bytes into packets; throws on old-format or partial-length headers and on truncation. */
export function splitPackets(bytes: Uint8Array): RawPacket[] {
  const out: RawPacket[] = [];
  for (let i = 0; i < bytes.length;) {
    const p = readPacket(bytes, i);
    if (typeof p === 'string') throw new Error(p);
    out.push(p);
    i = p.next;
  }
  return out;
}

/**
 * The packet whose header starts at `at` (new format, definite length) and where the next one
 * starts; or why there is none: not a new-format header, a partial body length, or cut off by the
 * end of `bytes` ("truncated …").
 */
export function readPacket(bytes: Uint8Array, at: number): (RawPacket & { readonly next: number }) | string {
  let i = at;
  const h = bytes[i++];
  if (h === undefined) return 'truncated header';
  if ((h & 0xc0) !== 0xc0) return 'not a new-format packet header';
  const first = bytes[i++];
  if (first === undefined) return 'truncated header';
  let len: number;
  if (first < 192) len = first;
  else if (first < 224) {
    const second = bytes[i++];
    if (second === undefined) return 'truncated header';
    len = ((first - 192) << 8) + second + 192;
  } else if (first === 255) {
    if (i + 4 > bytes.length) return 'truncated header';
    len = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    i += 4;
  } else return 'partial body lengths are not allowed here';
  if (i + len > bytes.length) return 'truncated packet';
  return { tag: h & 0x3f, body: bytes.subarray(i, i + len), next: i + len };
}

/** Writes one packet with the shortest new-format length header (what openpgp.js emits). */
export function writePacket(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  let header: number[];
  if (n < 192) header = [0xc0 | tag, n];
  else if (n < 8384) header = [0xc0 | tag, ((n - 192) >> 8) + 192, (n - 192) & 0xff];
  else header = [0xc0 | tag, 255, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(header.length + n);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** Fields of a v4 signature packet body needed to rebuild its one-pass-signature packet. */
export interface V4SignatureFields {
  readonly signatureType: number;
  readonly publicKeyAlgorithm: number;
  readonly hashAlgorithm: number;
  readonly unhashed: Uint8Array;
  /** The algorithm-specific MPIs after the 2-byte hash prefix. */
  readonly mpis: Uint8Array;
}

/** Reads the fixed fields of a v4 signature packet body (RFC 4880 §5.2.3). */
export function readV4Signature(body: Uint8Array): V4SignatureFields {
  if (body[0] !== 4 || body.length < 10) throw new Error('not a v4 signature');
  const hashedLen = (body[4]! << 8) + body[5]!;
  const u = 6 + hashedLen;
  if (u + 2 > body.length) throw new Error('truncated signature');
  const unhashedLen = (body[u]! << 8) + body[u + 1]!;
  if (u + 2 + unhashedLen + 2 > body.length) throw new Error('truncated signature');
  return {
    signatureType: body[1]!,
    publicKeyAlgorithm: body[2]!,
    hashAlgorithm: body[3]!,
    unhashed: body.subarray(u + 2, u + 2 + unhashedLen),
    mpis: body.subarray(u + 2 + unhashedLen + 2),
  };
}

/**
 * True when `bytes` is a sequence of MPIs each with its exact bit count (RFC 4880 §3.2). Readers
 * only use the count to find the byte length, so a loose count would be an unauthenticated field.
 */
export function mpisAreCanonical(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length) {
    if (i + 2 > bytes.length) return false;
    const bits = (bytes[i]! << 8) + bytes[i + 1]!;
    const len = (bits + 7) >> 3;
    if (len === 0 || i + 2 + len > bytes.length) return false;
    const top = bytes[i + 2]!;
    if (bits !== (len - 1) * 8 + (32 - Math.clz32(top))) return false;
    i += 2 + len;
  }
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
