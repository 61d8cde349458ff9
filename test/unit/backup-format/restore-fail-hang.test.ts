/**
 * A restore of a backup whose last part is damaged must fail, never hang. Found by the restore
 * fault tests (one run in three hung): when the payload failed while the archive's extractor had
 * already parsed the next member's header, that member was still handed out and its body never
 * ended, so writing it waited forever. The parts arrive with small delays and in varying order
 * (as from S3), which is what exposes the race: before the fix, 2–3 of 16 rounds hung here.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { restoreToDirectory } from '../../../src-main/services/backup-format/backup-reader';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import type { BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { InlinePartRunner } from '../../../src-main/services/backup-format/part-runner';
import { createPartRunner } from '../../../src-main/services/backup-format/worker-pool';
import { fileSink, makeKeys, tempDir, type TestKeys } from './fixtures';

let keys: TestKeys;
let work: { path: string; remove: () => Promise<void> };
let dir: string;
let manifest: BackupManifest;

beforeAll(async () => {
  keys = await makeKeys();
  work = await tempDir();
  dir = join(work.path, 'backup');
  await mkdir(dir);
  // Several large members and two parts (16 MiB default): the failure lands while members are being written.
  const entries = [bufferEntry('db/misskey.dump', randomBytes(300_000))];
  for (let i = 1; i <= 5; i++) entries.push(bufferEntry(`files/2026/p${i}.webp`, randomBytes(4_000_000)));
  ({ manifest } = await writeBackup({
    serverId: 'srv1',
    sequence: 1,
    versions: {},
    entries,
    recipients: [keys.desktopPublic],
    signingKey: keys.signing,
    sink: fileSink(dir),
    runner: new InlinePartRunner(),
  }));
  expect(manifest.parts.length).toBe(2);
  const last = join(dir, manifest.parts.at(-1)!.name);
  const bytes = await readFile(last);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  await writeFile(last, bytes);
}, 120_000);
afterAll(async () => {
  await work?.remove();
});

it('a damaged last part fails the restore with BACKUP_DAMAGED every time, and never hangs', async () => {
  const outcomes: string[] = [];
  for (let round = 0; round < 16; round++) {
    const out = join(work.path, `out${round}`);
    await mkdir(out);
    const runner = createPartRunner();
    const delay = (round % 4) * 40;
    const outcome = await Promise.race([
      restoreToDirectory(
        manifest,
        {
          openPart: async (name, index) => {
            if (index === 0) await new Promise((r) => setTimeout(r, delay));
            return createReadStream(join(dir, name), { highWaterMark: 64 * 1024 }).pipe(
              new Transform({
                transform(c: Buffer, _e, cb) {
                  setTimeout(() => cb(null, c), 0);
                },
              }),
            );
          },
        },
        out,
        { decryptionKey: keys.desktop, verificationKey: keys.signingPublic, runner, tempBase: work.path },
      ).then(
        () => 'restored',
        (e: Error & { code?: string }) => e.code ?? e.message,
      ),
      new Promise<string>((r) => setTimeout(() => r('HUNG'), 20_000)),
    ]);
    outcomes.push(outcome);
    if (outcome !== 'HUNG') await runner.close();
    await rm(out, { recursive: true, force: true });
  }
  expect(outcomes).toEqual(Array(16).fill('BACKUP_DAMAGED'));
}, 600_000);
