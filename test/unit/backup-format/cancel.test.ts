import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { MANIFEST_NAME } from '../../../src-main/services/backup-format/format';
import { openVerifiedPayload } from '../../../src-main/services/backup-format/parts-reader';
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

describe('reading a backup whose parts stall', () => {
  it('cancelled while every part source hangs mid-object: CANCELLED promptly, temp files removed', async () => {
    const dir = join(work.path, 'stall');
    await mkdir(dir);
    const runner = createPartRunner({ workers: 1 });
    try {
      const { manifest } = await writeBackup({
        serverId: 'srv1',
        sequence: 3,
        versions: {},
        entries: [{ name: 'db/dump', size: 4_000_000, open: () => Readable.from([testData(4_000_000, 7)]) }],
        recipients: [keys.desktopPublic],
        signingKey: keys.signing,
        sink: fileSink(dir),
        runner,
        partSize: 1024 * 1024,
      });
      // each part: its first 1000 bytes, then nothing more and no end (a connection that went quiet)
      const opened: Readable[] = [];
      const source = {
        openPart: async (name: string) => {
          const head = (await readFile(join(dir, name))).subarray(0, 1000);
          const r = new Readable({ read() {} });
          r.push(head);
          opened.push(r);
          return r;
        },
      };
      const tempBase = join(work.path, 'stall-tmp');
      await mkdir(tempBase);
      const ac = new AbortController();
      const payload = openVerifiedPayload(manifest, source, {
        decryptionKey: keys.desktop,
        verificationKey: keys.signingPublic,
        runner,
        tempBase,
        signal: ac.signal,
      });
      setTimeout(() => ac.abort(), 300);
      await expect(
        (async () => {
          for await (const _ of payload) void _;
        })(),
      ).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(opened.length).toBeGreaterThan(0);
      expect(opened.every((r) => r.destroyed)).toBe(true);
      expect(await readdir(tempBase)).toEqual([]);
    } finally {
      await runner.close();
    }
  }, 30_000);
});
