import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry, entriesFromDirectory } from '../../../src-main/services/backup-format/archive';
import { readBackupManifest, restoreToDirectory, verifyBackup } from '../../../src-main/services/backup-format/backup-reader';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { MANIFEST_NAME } from '../../../src-main/services/backup-format/format';
import { asFormat2, fileSink, fileSource, makeKeys, readBytes, tempDir, testData, type TestKeys, RUNNERS } from './fixtures';

let keys: TestKeys;
let work: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  keys = await makeKeys();
  work = await tempDir();
  const src = join(work.path, 'src');
  await mkdir(join(src, 'db'), { recursive: true });
  await mkdir(join(src, 'files', 'empty-dir'), { recursive: true });
  await writeFile(join(src, 'db', 'misskey.dump'), testData(5 * 1024 * 1024 + 123, 7));
  await writeFile(join(src, 'files', 'a.webp'), testData(300_000, 8));
  await writeFile(join(src, 'files', 'empty'), '');
  await writeFile(join(src, 'config.yml'), 'url: https://example.org\n');
});
afterAll(() => work.remove());

describe.each(RUNNERS)('backup round trip (%s runner)', (label, makeRunner) => {
  it('restores every file byte for byte, manifest written last', async () => {
    const runner = makeRunner();
    const out = join(work.path, `out-${label}`);
    const restored = join(work.path, `restored-${label}`);
    await mkdir(out);
    await mkdir(restored);
    const log: string[] = [];
    try {
      const { manifest } = await writeBackup({
        serverId: 'srv1',
        sequence: 3,
        versions: { misskey: '2025.4.0', postgres: '15.8', redis: '7.2' },
        entries: entriesFromDirectory(join(work.path, 'src'), 'stack'),
        recipients: [keys.desktopPublic, keys.otherPublic],
        signingKey: keys.signing,
        sink: fileSink(out, log),
        runner,
        partSize: 1.5 * 1024 * 1024, // a whole 1 MiB step and a half one per part (format 3)
      });
      expect(log.at(-1)).toBe(MANIFEST_NAME);
      expect(manifest.parts.length).toBeGreaterThan(2);
      expect(manifest.recipients).toEqual([
        keys.desktopPublic.getFingerprint().toUpperCase(),
        keys.otherPublic.getFingerprint().toUpperCase(),
      ]);
      const m = await readBackupManifest(await readBytes(join(out, MANIFEST_NAME)), keys.signingPublic, {
        serverId: 'srv1',
        backupId: manifest.backupId,
      });
      expect(m).toEqual(manifest);
      // Both recipients can restore.
      for (const key of [keys.desktop, keys.other]) {
        const dir = join(restored, key.getFingerprint());
        await mkdir(dir);
        await restoreToDirectory(m, fileSource(out), dir, { decryptionKey: key, verificationKey: keys.signingPublic, runner });
        for (const f of ['db/misskey.dump', 'files/a.webp', 'files/empty', 'config.yml']) {
          // Buffer.equals: vitest's deep equality walks buffers byte by byte (seconds per MiB).
          expect((await readFile(join(dir, 'stack', f))).equals(await readFile(join(work.path, 'src', f)))).toBe(true);
        }
        expect((await stat(join(dir, 'stack', 'files', 'empty-dir'))).isDirectory()).toBe(true);
      }
      const v = await verifyBackup(m, fileSource(out), { decryptionKey: keys.desktop, verificationKey: keys.signingPublic, runner });
      expect(v.entries).toBeGreaterThanOrEqual(6);
      expect((await readdir(out)).sort()).toEqual([...m.parts.map((p) => p.name), MANIFEST_NAME].sort());
    } finally {
      await runner.close();
    }
  }, 60_000);

  it('format 3 restores many parts, a short last part included, through no temp file; format 2 reuses its few temp files and leaves none', async () => {
    // 64 KiB parts: about 20 of them, more than a format 2 reader's slots (concurrency + 4 + 1), so
    // every slot file is written over; the last part is shorter than the one it replaces.
    const runner = makeRunner();
    const out = join(work.path, `many-${label}`);
    const tempBase = join(work.path, `many-tmp-${label}`);
    await mkdir(out);
    try {
      const data = testData(1280 * 1024 + 4321, 9);
      const { manifest } = await writeBackup({
        serverId: 'srv1',
        sequence: 4,
        versions: {},
        entries: [bufferEntry('blob', data)],
        recipients: [keys.desktopPublic],
        signingKey: keys.signing,
        sink: fileSink(out),
        runner,
        partSize: 64 * 1024,
      });
      expect(manifest.formatVersion).toBe(3);
      expect(manifest.parts.length).toBeGreaterThan(runner.concurrency + 5 + 2);
      expect(manifest.parts.at(-1)!.plainSize).toBeLessThan(manifest.parts[0]!.plainSize);
      for (const m of [manifest, asFormat2(manifest)]) {
        const restored = join(work.path, `many-restored-${label}-v${m.formatVersion}`);
        await mkdir(restored);
        await restoreToDirectory(m, fileSource(out), restored, {
          decryptionKey: keys.desktop,
          verificationKey: keys.signingPublic,
          runner,
          tempBase,
        });
        expect((await readFile(join(restored, 'blob'))).equals(data)).toBe(true);
        // format 3 never made the temp folder; format 2 made it and removed its files
        expect(await readdir(tempBase).catch((e: NodeJS.ErrnoException) => e.code)).toEqual(m.formatVersion === 3 ? 'ENOENT' : []);
      }
    } finally {
      await runner.close();
    }
  }, 60_000);
});
