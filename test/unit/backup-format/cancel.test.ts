import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { MANIFEST_NAME } from '../../../src-main/services/backup-format/format';
import { createPartRunner } from '../../../src-main/services/backup-format/worker-pool';
import { fileSink, makeKeys, tempDir, testData, type TestKeys } from './fixtures';

let keys: TestKeys;
let work: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  keys = await makeKeys();
  work = await tempDir();
});
afterAll(() => work.remove());

describe('writing a backup that does not finish', () => {
  it('cancelled mid-way: CANCELLED, and no manifest is written (so it is not a backup)', async () => {
    const runner = createPartRunner({ workers: 1 });
    const ac = new AbortController();
    const data = testData(6 * 1024 * 1024, 5);
    try {
      const p = writeBackup({
        serverId: 'srv1',
        sequence: 1,
        versions: {},
        entries: [{ name: 'db/dump', size: data.length, open: () => Readable.from([data]) }],
        recipients: [keys.desktopPublic],
        signingKey: keys.signing,
        sink: fileSink(work.path),
        runner,
        partSize: 1024 * 1024,
        signal: ac.signal,
        onProgress: (pr) => {
          if (pr.step === 'steps.encrypt' && (pr.bytesDone ?? 0) >= 2 * 1024 * 1024) ac.abort();
        },
      });
      await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(await readdir(work.path)).not.toContain(MANIFEST_NAME);
    } finally {
      await runner.close();
    }
  });

  it('a failing sink fails the backup and no manifest is written', async () => {
    const runner = createPartRunner({ workers: 1 });
    const dir = join(work.path, 'failing');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    const sink = fileSink(dir);
    let n = 0;
    try {
      await expect(
        writeBackup({
          serverId: 'srv1',
          sequence: 2,
          versions: {},
          entries: [{ name: 'db/dump', size: 3_000_000, open: () => Readable.from([testData(3_000_000, 6)]) }],
          recipients: [keys.desktopPublic],
          signingKey: keys.signing,
          sink: {
            writePart: async (name, body, i) => {
              if (n++ === 1) {
                body.resume();
                throw new Error('S3 said no');
              }
              await sink.writePart(name, body, i);
            },
            writeManifest: sink.writeManifest,
          },
          runner,
          partSize: 1024 * 1024,
        }),
      ).rejects.toThrow(/S3 said no/);
      expect(await readdir(dir)).not.toContain(MANIFEST_NAME);
    } finally {
      await runner.close();
    }
  });
});
