import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { constants, createZstdCompress } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry, extractToDirectory, packArchive, unpackArchive } from '../../../src-main/services/backup-format/archive';
import { tempDir } from './fixtures';

let work: { path: string; remove: () => Promise<void> };
beforeAll(async () => (work = await tempDir()));
afterAll(() => work.remove());

async function evilArchive(name: string): Promise<Readable> {
  const pack = tar.pack();
  pack.entry({ name, size: 3 }, 'abc');
  pack.finalize();
  return Readable.from(pack).pipe(createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 3 } }));
}

describe('archive', () => {
  it('round-trips entries through tar + zstd', async () => {
    const out: Record<string, string> = {};
    await unpackArchive(
      packArchive([bufferEntry('a/b.txt', 'hello'), { type: 'directory', name: 'd' }, bufferEntry('c', '')]),
      async (e, body) => {
        let s = '';
        for await (const c of body) s += String(c);
        out[`${e.type}:${e.name}`] = s;
      },
    );
    expect(out).toEqual({ 'file:a/b.txt': 'hello', 'directory:d': '', 'file:c': '' });
  });

  it.each(['../escape', '/abs', 'a/../../b'])('refuses a member named %s on extract', async (name) => {
    const dir = join(work.path, 'x' + Math.random().toString(36).slice(2));
    await mkdir(dir);
    await expect(extractToDirectory(await evilArchive(name), dir)).rejects.toMatchObject({ code: 'BACKUP_DAMAGED' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses to pack unsafe names', async () => {
    const s = packArchive([bufferEntry('../x', 'a')]);
    await expect(
      (async () => {
        for await (const _ of s) void _;
      })(),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
