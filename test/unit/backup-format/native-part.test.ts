import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMessage, decrypt, encrypt, enums, generateKey, readMessage } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CfbDecipher, PartDecryptor, PartEncryptor, type PartDecryptOptions } from '../../../src-main/services/backup-format/native-part';
import {
  classifyPartError,
  decryptSetup,
  newPartSession,
  prepareDecryptKeys,
  prepareEncryptKeys,
  type PreparedDecryptKeys,
  type PreparedEncryptKeys,
} from '../../../src-main/services/backup-format/part-crypto';
import { makeKeys, prng, tempDir, testData, type TestKeys } from './fixtures';

/**
 * The native part codec (native-part.ts) against openpgp.js in both directions, its CFB
 * decryption against Node's, and its strictness. GnuPG reads it too: test/integration/gpg.
 */
let keys: TestKeys;
let enc: PreparedEncryptKeys;
let dec: PreparedDecryptKeys;
let work: { path: string; remove: () => Promise<void> };
let n = 0;

beforeAll(async () => {
  keys = await makeKeys();
  work = await tempDir();
  enc = await prepareEncryptKeys({ recipients: [keys.desktopPublic.write()], signingKey: keys.signing.write() });
  dec = await prepareDecryptKeys({ decryptionKey: keys.desktop.write(), verificationKey: keys.signingPublic.write() });
});
afterAll(() => work.remove());

async function encryptNative(plain: Uint8Array, chunk = 1 << 20): Promise<Buffer> {
  const e = new PartEncryptor(await newPartSession(enc));
  const out: Uint8Array[] = [];
  for (let o = 0; o < plain.length; o += chunk) {
    const c = e.update(plain.subarray(o, o + chunk));
    if (c) out.push(c);
  }
  const f = e.final();
  if (f) out.push(f);
  const bytes = Buffer.concat(out);
  expect(e.digest().size).toBe(bytes.length);
  return bytes;
}

async function decryptNative(ct: Uint8Array, chunk = 77_777, k = dec, opts: PartDecryptOptions = {}): Promise<Buffer> {
  const path = join(work.path, `p${n++}`);
  const d = new PartDecryptor(decryptSetup(k), path, opts);
  try {
    for (let o = 0; o < ct.length; o += chunk) await d.push(ct.subarray(o, o + chunk));
    await d.end();
  } catch (e) {
    d.discard();
    throw classifyPartError(e);
  }
  return readFile(path);
}

describe('native part codec', () => {
  it.each([0, 1, 5000, (1 << 20) - 6, 1 << 20, 3 * (1 << 20) + 12_345])(
    '%i bytes: openpgp.js decrypts and verifies ours, and we read it back',
    async (size) => {
      const plain = testData(size, size + 1);
      const ct = await encryptNative(plain);
      const r = await decrypt({
        message: await readMessage({ binaryMessage: ct }),
        decryptionKeys: keys.desktop,
        verificationKeys: keys.signingPublic,
        expectSigned: true,
        format: 'binary',
      });
      expect(Buffer.from(r.data as Uint8Array).equals(plain)).toBe(true);
      expect((await decryptNative(ct)).equals(plain)).toBe(true);
      // the signature uses SHA-256 (allowed for EdDSA legacy; twice as fast as SHA-512 here)
      const sigs = r.signatures;
      expect((await sigs[0]!.signature).packets[0]!.hashAlgorithm).toBe(enums.hash.sha256);
    },
  );

  it('reads a part openpgp.js made (SHA-512 signature, its own framing)', async () => {
    const plain = testData(2_500_000, 3);
    const ct = (await encrypt({
      message: await createMessage({ binary: plain, format: 'binary' }),
      encryptionKeys: keys.desktopPublic,
      signingKeys: keys.signing,
      format: 'binary',
    })) as Uint8Array;
    expect((await decryptNative(ct, 4096)).equals(plain)).toBe(true);
  });

  it('refuses a part signed by another key, and an unsigned one', async () => {
    const plain = testData(10_000, 4);
    const other = (await encrypt({
      message: await createMessage({ binary: plain, format: 'binary' }),
      encryptionKeys: keys.desktopPublic,
      signingKeys: keys.other,
      format: 'binary',
    })) as Uint8Array;
    await expect(decryptNative(other)).rejects.toMatchObject({ code: 'BACKUP_SIGNATURE_INVALID' });
    const unsigned = (await encrypt({
      message: await createMessage({ binary: plain, format: 'binary' }),
      encryptionKeys: keys.desktopPublic,
      format: 'binary',
    })) as Uint8Array;
    await expect(decryptNative(unsigned)).rejects.toMatchObject({ code: 'BACKUP_UNSIGNED' });
  });

  it('verifies a signature by a signing subkey of the pinned key', async () => {
    const k = await generateKey({ userIDs: [{ name: 'Signer' }], curve: 'curve25519Legacy', subkeys: [{ sign: true }], format: 'object' });
    const plain = testData(5000, 10);
    const ct = (await encrypt({
      message: await createMessage({ binary: plain, format: 'binary' }),
      encryptionKeys: keys.desktopPublic,
      signingKeys: k.privateKey,
      format: 'binary',
    })) as Uint8Array;
    const pinned = await prepareDecryptKeys({ decryptionKey: keys.desktop.write(), verificationKey: k.publicKey.write() });
    expect(pinned.verifiers.length).toBe(2);
    expect((await decryptNative(ct, 1 << 20, pinned)).equals(plain)).toBe(true);
    await expect(decryptNative(ct)).rejects.toMatchObject({ code: 'BACKUP_SIGNATURE_INVALID' });
  });

  it('refuses a part for another recipient as KEY_NOT_RECIPIENT, a damaged session key as damaged', async () => {
    const ct = await encryptNative(testData(1000, 5));
    const mine = await prepareDecryptKeys({ decryptionKey: keys.other.write(), verificationKey: keys.signingPublic.write() });
    await expect(decryptNative(ct, 1 << 20, mine)).rejects.toMatchObject({ code: 'KEY_NOT_RECIPIENT' });
    const bad = Buffer.from(ct);
    bad[40]! ^= 1; // inside the PKESK's ephemeral key / wrapped key
    await expect(decryptNative(bad)).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
  });

  it('every flipped byte and every truncation of a small part is refused', async () => {
    const plain = testData(3000, 6);
    const ct = await encryptNative(plain);
    const rnd = prng(7);
    for (let at = 0; at < ct.length; at += 1 + Math.floor(rnd() * 7)) {
      const m = Buffer.from(ct);
      m[at]! ^= 1 + (at % 255);
      await expect(decryptNative(m), `flip at ${at}`).rejects.toBeTruthy();
    }
    for (let len = 0; len < ct.length; len += 1 + Math.floor(rnd() * 13))
      await expect(decryptNative(ct.subarray(0, len)), `truncated to ${len}`).rejects.toBeTruthy();
    await expect(decryptNative(Buffer.concat([ct, Buffer.of(0xc0 | 11, 0)]))).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
  });

  it("with the manifest's size and SHA-256: a genuine part passes, any other ciphertext is damaged", async () => {
    const plain = testData(3000, 16);
    const ct = await encryptNative(plain);
    const expected = { size: ct.length, sha256: createHash('sha256').update(ct).digest('hex') };
    expect((await decryptNative(ct, 1000, dec, { expected })).equals(plain)).toBe(true);
    // a valid, signed part that is not the one the manifest lists (another part of the same server)
    const other = await encryptNative(plain);
    await expect(decryptNative(other, 1000, dec, { expected })).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
    // the MDC is not computed then, so its bytes (the last ones) are covered by the SHA-256 alone
    const rnd = prng(17);
    for (let at = 0; at < ct.length; at += at > ct.length - 40 ? 1 : 1 + Math.floor(rnd() * 9)) {
      const m = Buffer.from(ct);
      m[at]! ^= 1 + (at % 255);
      await expect(decryptNative(m, 1000, dec, { expected }), `flip at ${at}`).rejects.toBeTruthy();
    }
    for (let len = 0; len < ct.length; len += 1 + Math.floor(rnd() * 13))
      await expect(decryptNative(ct.subarray(0, len), 1000, dec, { expected }), `truncated to ${len}`).rejects.toBeTruthy();
  });

  it('with the v2 check (no ciphertext hash, no MDC pass): genuine passes; every flipped byte and truncation is refused', async () => {
    const plain = testData(3000, 18);
    const e = new PartEncryptor(await newPartSession(enc));
    const ct = Buffer.concat([e.update(plain) ?? Buffer.alloc(0), e.final() ?? Buffer.alloc(0)]);
    const { size, check } = e.digest();
    expect(check.plainSha256).toBe(createHash('sha256').update(plain).digest('hex'));
    const expected = { size, check };
    expect((await decryptNative(ct, 1000, dec, { expected })).equals(plain)).toBe(true);
    // every byte, each flipped once: the PKESK, the framing, every encrypted byte, the MDC
    for (let at = 0; at < ct.length; at++) {
      const m = Buffer.from(ct);
      m[at]! ^= 1 + (at % 255);
      await expect(decryptNative(m, 1000, dec, { expected }), `flip at ${at}`).rejects.toBeTruthy();
    }
    for (let len = 0; len < ct.length; len += 1 + (len % 7))
      await expect(decryptNative(ct.subarray(0, len), 1000, dec, { expected }), `truncated to ${len}`).rejects.toBeTruthy();
    // another genuine part of the same data (other session key, prefix, MDC) is not the listed one
    const again = await encryptNative(plain);
    await expect(decryptNative(again, 1000, dec, { expected })).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
  });

  it('with the v2 check, the part must still be signed by the pinned key', async () => {
    const plain = testData(2000, 19);
    const otherSigner = await prepareEncryptKeys({ recipients: [keys.desktopPublic.write()], signingKey: keys.other.write() });
    const e = new PartEncryptor(await newPartSession(otherSigner));
    const ct = Buffer.concat([e.update(plain) ?? Buffer.alloc(0), e.final() ?? Buffer.alloc(0)]);
    const { size, check } = e.digest(); // a manifest listing exactly this part
    await expect(decryptNative(ct, 1000, dec, { expected: { size, check } })).rejects.toMatchObject({ code: 'BACKUP_SIGNATURE_INVALID' });
  });

  describe('reuseInput: the ciphertext written into plaintext buffers handed over', () => {
    const MiB = 1 << 20;
    /** The plaintext as the runners pass it: `buf`-byte buffers of their own, in `view`-byte pieces. */
    function pieces(plain: Uint8Array, buf: number, view: number): Uint8Array[] {
      const out: Uint8Array[] = [];
      for (let o = 0; o < plain.length; o += buf) {
        const b = Buffer.from(plain.subarray(o, o + buf)); // a copy: the encryptor may write over it
        for (let v = 0; v < b.length; v += view) out.push(b.subarray(v, v + view));
      }
      return out;
    }

    it.each([
      ['whole 1 MiB chunks (a worker)', MiB, MiB],
      ['128 KiB pieces of 1 MiB chunks (the calling thread)', MiB, 128 * 1024],
      ['odd sizes', 300_001, 77_777],
      // the literal packet's 6 header bytes + 1 MiB - 6: nothing is held back after the first piece,
      // while the rest of its buffer is still to come
      ['a piece ending where a partial packet does', 2 * MiB, MiB - 6],
    ])('%s: the same message, most of it in the handed-over memory, nothing changed once returned', async (_l, buf, view) => {
      const plain = testData(3 * MiB + 12_345, 31);
      const input = pieces(plain, buf, view);
      const inputBuffers = new Set(input.map((c) => c.buffer));
      const e = new PartEncryptor(await newPartSession(enc), { reuseInput: true });
      const out: Uint8Array[] = [];
      const copies: Buffer[] = [];
      const took = (o: Uint8Array | undefined) => {
        if (!o) return;
        out.push(o);
        copies.push(Buffer.from(o));
      };
      for (const c of input) took(e.update(c));
      took(e.final());
      // every chunk handed out stayed as it was while the encryptor went on
      expect(out.every((o, i) => Buffer.from(o).equals(copies[i]!))).toBe(true);
      const ct = Buffer.concat(copies);
      expect(e.digest().size).toBe(ct.length);
      expect((await decryptNative(ct)).equals(plain)).toBe(true);
      // all but the first MiB or so of ciphertext went into plaintext buffers already read
      const reused = out.filter((o) => inputBuffers.has(o.buffer)).reduce((n, o) => n + o.length, 0);
      expect(reused).toBeGreaterThan(ct.length - 2 * MiB - buf);
    });

    it('without it, the plaintext is left alone and the ciphertext is in new memory', async () => {
      const plain = testData(2 * MiB + 5, 32);
      const input = pieces(plain, MiB, MiB);
      const e = new PartEncryptor(await newPartSession(enc));
      const out = [...input.map((c) => e.update(c)), e.final()].filter((o): o is Uint8Array => o !== undefined);
      expect(Buffer.concat(input).equals(plain)).toBe(true);
      expect(out.some((o) => input.some((c) => c.buffer === o.buffer))).toBe(false);
    });
  });

  describe('format 3 steps: verified plaintext released step by step', () => {
    const MiB = 1 << 20;
    async function encryptWithCheck(plain: Uint8Array, chunk = 300_001) {
      const e = new PartEncryptor(await newPartSession(enc));
      const out: Uint8Array[] = [];
      for (let o = 0; o < plain.length; o += chunk) out.push(e.update(plain.subarray(o, o + chunk)) ?? new Uint8Array(0));
      out.push(e.final() ?? new Uint8Array(0));
      return { ct: Buffer.concat(out), expected: e.digest() };
    }
    /**
     * Decrypts a copy of `ct` to a sink (the decryptor writes the data over the chunks it is given);
     * returns every chunk the sink got (and the ciphertext bytes pushed when each came) and the error.
     */
    async function decryptToSink(ct: Uint8Array, expected: PartDecryptOptions['expected'], chunk = 256 * 1024) {
      const got: { bytes: Buffer; pushed: number; inPlace: boolean }[] = [];
      const work = Buffer.from(ct);
      let pushed = 0;
      let error: unknown;
      try {
        const d = new PartDecryptor(
          decryptSetup(dec),
          (v) => got.push({ bytes: Buffer.from(v), pushed, inPlace: v.buffer === work.buffer }),
          expected ? { expected } : {},
        );
        for (let o = 0; o < work.length; o += chunk) {
          await d.push(work.subarray(o, o + chunk));
          pushed = Math.min(work.length, o + chunk);
        }
        await d.end();
      } catch (e) {
        error = classifyPartError(e);
      }
      return { got, released: Buffer.concat(got.map((g) => g.bytes)), error };
    }

    it.each([0, 1, MiB, MiB + 1, 3 * MiB + 12_345])(
      '%i bytes: the step digests are the SHA-256 of every whole MiB before the end',
      async (size) => {
        const plain = testData(size, size + 3);
        const { ct, expected } = await encryptWithCheck(plain);
        const want = [];
        for (let k = 1; k * MiB < size; k++)
          want.push(
            createHash('sha256')
              .update(plain.subarray(0, k * MiB))
              .digest('hex'),
          );
        expect(expected.check.stepSha256).toBe(want.join(''));
        expect(expected.check.plainSha256).toBe(createHash('sha256').update(plain).digest('hex'));
        const { got, released, error } = await decryptToSink(ct, expected);
        expect(error).toBeUndefined();
        expect(released.equals(plain)).toBe(true);
        // the data comes back in the ciphertext chunks it was pushed in (no new buffers), the first
        // ones long before the part's end: each once the step holding its last byte matched
        expect(got.every((g) => g.inPlace)).toBe(true);
        if (size > 2 * MiB) expect(got[0]!.pushed).toBeLessThan(ct.length - MiB);
        let at = 0;
        for (const g of got) {
          at += g.bytes.length;
          // released when its last byte's step was checked: by then the data reached the next step
          if (at < size) expect(g.pushed).toBeGreaterThanOrEqual(Math.ceil(at / MiB) * MiB);
        }
      },
    );

    it('a flipped byte or a truncation anywhere: damaged, and only whole steps before it were released', async () => {
      const plain = testData(3 * MiB + 777, 31);
      const { ct, expected } = await encryptWithCheck(plain);
      const rnd = prng(32);
      const positions = [
        2.5 * MiB,
        ...Array.from({ length: 40 }, () => Math.floor(rnd() * ct.length)),
        ...[1, 5, 20, 40].map((d) => ct.length - d),
      ];
      for (const at of positions) {
        const m = Buffer.from(ct);
        m[at]! ^= 1 + (at % 255);
        const { released, error } = await decryptToSink(m, expected);
        expect(error, `flip at ${at}`).toMatchObject({ code: expect.stringMatching(/^BACKUP_/) });
        // a genuine prefix, all of it in steps that matched, none holding (or after) the changed
        // byte; all of the data only when the byte was after it (the signature, the MDC: ~130 bytes)
        expect(released.equals(plain.subarray(0, released.length))).toBe(true);
        if (released.length === plain.length) expect(at, 'flip after the data').toBeGreaterThan(ct.length - 200);
        else expect(released.length, `flip at ${at}`).toBeLessThanOrEqual(Math.floor(at / MiB) * MiB);
      }
      // the byte in the third MiB: only data of the first two steps came out, and most of it (the
      // chunks that held only verified data; the one across the boundary waits for the next step)
      const m = Buffer.from(ct);
      m[Math.floor(2.5 * MiB)]! ^= 1;
      const cut = (await decryptToSink(m, expected)).released.length;
      expect(cut).toBeLessThanOrEqual(2 * MiB);
      expect(cut).toBeGreaterThan(2 * MiB - 256 * 1024);
      for (const len of [0, 100, MiB + 5, 2 * MiB + 100, ct.length - 30, ct.length - 1]) {
        const { released, error } = await decryptToSink(ct.subarray(0, len), expected);
        expect(error, `truncated to ${len}`).toMatchObject({ code: 'BACKUP_DAMAGED' });
        expect(released.equals(plain.subarray(0, released.length))).toBe(true);
        if (released.length === plain.length) expect(len, 'cut after the data').toBeGreaterThan(ct.length - 200);
        else expect(released.length).toBeLessThanOrEqual(Math.floor(len / MiB) * MiB);
      }
    });

    it("another part's step digests (a manifest that does not list this part): damaged before anything is released", async () => {
      const plain = testData(2 * MiB + 9, 33);
      const { ct, expected } = await encryptWithCheck(plain);
      const other = await encryptWithCheck(testData(2 * MiB + 9, 34));
      const mixed = { size: expected.size, check: { ...expected.check, stepSha256: other.expected.check.stepSha256 } };
      const { released, error } = await decryptToSink(ct, mixed);
      expect(error).toMatchObject({ code: 'BACKUP_DAMAGED' });
      expect(released.length).toBe(0);
      // and a sink needs the step digests at all
      const { stepSha256: _s, ...noSteps } = expected.check;
      expect(() => new PartDecryptor(decryptSetup(dec), () => undefined, { expected: { size: expected.size, check: noSteps } })).toThrow(
        /step digests/,
      );
    });
  });

  it('writes one PKESK per recipient, then one SEIPD packet, nothing else', async () => {
    expect(outerTags(await encryptNative(testData(100, 8)))).toEqual([1, 18]);
    expect(outerTags(await encryptNative(testData(3 << 20, 8)))).toEqual([1, 18]);
  });
  it('a disk that fills up while the plaintext is written: DISK_FULL, not a damaged backup', async () => {
    // /dev/full answers every write with ENOSPC (a real kernel error). No discard(): it would
    // remove the device node; the decryptor itself only closes its file on failure.
    const d = new PartDecryptor(decryptSetup(dec), '/dev/full');
    const ct = await encryptNative(testData(300_000, 41));
    const err = await (async () => {
      for (let o = 0; o < ct.length; o += 65_536) await d.push(ct.subarray(o, o + 65_536));
      await d.end();
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyPartError(err)).toMatchObject({ code: 'DISK_FULL', message: 'The disk is full' });
  });
});

describe('CfbDecipher', () => {
  it('equals Node aes-256-cfb on random data and random splits (1 byte to several slices per call)', () => {
    const rnd = prng(9);
    for (let t = 0; t < 100; t++) {
      const key = randomBytes(32);
      const plain = randomBytes(Math.floor(rnd() * (t % 10 === 0 ? 700_000 : 200_000)));
      const ct = createCipheriv('aes-256-cfb', key, Buffer.alloc(16)).update(plain);
      const d = new CfbDecipher('aes-256-ecb', key);
      const out: Buffer[] = [];
      for (let o = 0; o < ct.length;) {
        const step = Math.floor(rnd() * (rnd() < 0.5 ? 40 : rnd() < 0.8 ? 90_000 : 300_000));
        // the pieces are views that the next slice overwrites: copied as they come
        d.update(ct.subarray(o, o + step), (p) => out.push(Buffer.from(p)));
        o += step;
      }
      out.push(d.final());
      expect(Buffer.concat(out).equals(plain)).toBe(true);
    }
  });
});

/** Outer packet tags (new-format headers, partial lengths followed). */
function outerTags(bytes: Uint8Array): number[] {
  const tags: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    const tag = bytes[i++]! & 0x3f;
    tags.push(tag);
    for (;;) {
      if (i >= bytes.length) throw new Error('truncated');
      const o = bytes[i++]!;
      if (o < 192) i += o;
      else if (o < 224) {
        const len = ((o - 192) << 8) + bytes[i]! + 192;
        i += 1 + len;
      } else if (o === 255) {
        i += 4 + ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!);
      } else {
        i += 1 << (o & 0x1f);
        continue;
      }
      break;
    }
  }
  return tags;
}
