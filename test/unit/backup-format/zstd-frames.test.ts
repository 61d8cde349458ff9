import { Readable } from 'node:stream';
import { constants, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { unpackArchive } from '../../../src-main/services/backup-format/archive';

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
