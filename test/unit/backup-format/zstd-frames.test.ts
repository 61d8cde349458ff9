import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { unpackArchive } from '../../../src-main/services/backup-format/archive';
import { decompressFrames, ZstdFrameScanner } from '../../../src-main/services/backup-format/zstd-frames';

const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** A tar archive of one file, as bytes. */
async function tarOf(name: string, data: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, size: data.length }, data);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Yields the chunks with a pause after each, as parts verified one after another arrive. */
function slowly(chunks: readonly Buffer[]): Readable {
  return Readable.from(
    (async function* () {
      for (const c of chunks) {
        yield c;
        await new Promise((r) => setTimeout(r, 20));
      }
    })(),
    { objectMode: false },
  );
}

/**
 * Node 22's zstd writer ends some streams with a second, empty frame (13 bytes). Node's streaming
 * decompressor then failed with "Unknown frame descriptor" when that frame's header was split
 * across two writes and the stream was ended by a separate, empty end() — which is what
 * `pipeline` does. A genuine backup was reported damaged whenever a part or 1 MiB chunk boundary
 * fell inside those 13 bytes.
 */
describe('decompressFrames with lent input', () => {
  it('has taken in each chunk before it asks for the next (which the lender then reuses)', async () => {
    const body = randomBytes(300_000).toString('base64'); // compressible, so one input chunk makes much output
    const stream = zstdCompressSync(Buffer.from(body), { params: { [constants.ZSTD_c_checksumFlag]: 1 } });
    // small chunks (each one write well under the stream's high-water mark), each overwritten with
    // garbage as soon as the next one is asked for: what lendChunks' freeing does to the memory
    const lent = (async function* () {
      for (let o = 0; o < stream.length; o += 1000) {
        const c = Buffer.from(stream.subarray(o, o + 1000));
        yield c;
        c.fill(0xa5);
      }
    })();
    const out: Buffer[] = [];
    for await (const c of decompressFrames(lent)) out.push(c as Buffer);
    expect(Buffer.concat(out).toString()).toBe(body);
  });
});

describe('unpackArchive and multi-frame zstd streams', () => {
  it('reads a stream whose second frame header is split across chunk boundaries', async () => {
    const body = Buffer.from('ノート '.repeat(3000));
    const archive = await tarOf('db/x.dump', body);
    const params = { params: { [constants.ZSTD_c_checksumFlag]: 1 } };
    const stream = Buffer.concat([zstdCompressSync(archive, params), zstdCompressSync(Buffer.alloc(0), params)]);
    const second = stream.indexOf(MAGIC, 4);
    expect(second).toBeGreaterThan(0);
    for (const split of [second - 1, second, second + 1, second + 2, second + 5]) {
      let got = 0;
      const r = await unpackArchive(slowly([stream.subarray(0, split), stream.subarray(split)]), async (_e, b) => {
        for await (const c of b) got += (c as Buffer).length;
      });
      expect(r.entries, `split at ${split - second} from the second frame`).toBe(1);
      expect(got).toBe(body.length);
    }
  });
});

describe('zstd frame scanner', () => {
  const params = (checksum: number, level = 3) => ({
    params: { [constants.ZSTD_c_checksumFlag]: checksum, [constants.ZSTD_c_compressionLevel]: level },
  });
  const skippable = (n: number) =>
    Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from(Uint32Array.of(n).buffer), randomBytes(n)]);
  const frames = [
    zstdCompressSync(randomBytes(70_000), params(1)), // raw blocks
    zstdCompressSync(Buffer.alloc(300_000, 7), params(0)), // RLE / several blocks, no checksum
    skippable(9),
    zstdCompressSync(Buffer.from('ノート '.repeat(20_000)), params(1, 19)),
    zstdCompressSync(Buffer.alloc(0), params(1)),
  ];
  const stream = Buffer.concat(frames);
  const plain = Buffer.concat(frames.filter((_, i) => i !== 2).map((f) => zstdDecompressSync(f)));

  it('finds every frame end, however the stream is cut into chunks', () => {
    const ends = frames.reduce<number[]>((acc, f) => [...acc, (acc.at(-1) ?? 0) + f.length], []);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 30 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const scanner = new ZstdFrameScanner();
        let pos = 0;
        const found: number[] = [];
        for (let k = 1; k < at.length; k++)
          for (const p of scanner.push(stream.subarray(at[k - 1], at[k]))) {
            pos += p.data.length;
            if (p.end) found.push(pos);
          }
        expect(found).toEqual(ends);
        expect(scanner.inFrame).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('decompresses all frames in order; a truncated or foreign stream is BACKUP_DAMAGED', async () => {
    const read = async (b: Buffer) => {
      const out: Buffer[] = [];
      for await (const c of decompressFrames(slowly([b.subarray(0, 1000), b.subarray(1000)]))) out.push(c as Buffer);
      return Buffer.concat(out);
    };
    expect((await read(stream)).equals(plain)).toBe(true);
    await expect(read(stream.subarray(0, stream.length - 3))).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
    await expect(read(Buffer.concat([stream, Buffer.from('garbage!')]))).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
  });
});
