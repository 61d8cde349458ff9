import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lendChunks } from '../../../src-main/services/backup-format/chunk-queue';
import { FORMAT_VERSION } from '../../../src-main/services/backup-format/format';
import type { BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { lendVerifiedPayload } from '../../../src-main/services/backup-format/parts-reader';
import { encryptToParts } from '../../../src-main/services/backup-format/parts-writer';
import { createPartRunner } from '../../../src-main/services/backup-format/worker-pool';
import { asFormat2, fileSink, fileSource, makeKeys, tempDir, testData, type TestKeys, RUNNERS } from './fixtures';

/**
 * Lent chunks (chunk-queue.ts lendChunks, parts-reader.ts lendVerifiedPayload): the restore's
 * decompressor gets each verified chunk only until it asks for the next, and its memory is then
 * freed at once (ArrayBuffer.prototype.transfer, Node 22: a freed buffer has byteLength 0).
 */
const freed = (b: ArrayBufferLike) => b.byteLength === 0;

describe('lendChunks', () => {
  it('frees a buffer once the consumer asked past its last chunk, and the last one at the end', async () => {
    expect(typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer).toBe('function'); // Node 22, as shipped
    const a = Buffer.allocUnsafeSlow(1024).fill(1);
    const b = Buffer.allocUnsafeSlow(1024).fill(2);
    const chunks = [a.subarray(0, 512), a.subarray(512), b.subarray(0, 100)];
    const it = lendChunks(Readable.from(chunks, { objectMode: true }))[Symbol.asyncIterator]();
    expect((await it.next()).value).toHaveLength(512);
    const second = (await it.next()).value as Uint8Array;
    // the same buffer: the first chunk is still whole, and so is the one in hand
    expect(chunks[0]).toHaveLength(512);
    expect(second[511]).toBe(1);
    const third = (await it.next()).value as Uint8Array;
    expect(freed(a.buffer)).toBe(true); // the consumer asked past a's last chunk
    expect(chunks[1]).toHaveLength(0);
    expect(third[99]).toBe(2);
    expect(freed(b.buffer)).toBe(false); // still lent
    expect((await it.next()).done).toBe(true);
    expect(freed(b.buffer)).toBe(true);
  });

  it('frees the chunk in hand when the consumer stops early, and leaves memory it cannot detach alone', async () => {
    const a = Buffer.allocUnsafeSlow(64);
    for await (const _ of lendChunks(Readable.from([a], { objectMode: true }))) break;
    expect(freed(a.buffer)).toBe(true);
    // (the Node typings declare no WebAssembly values)
    const { WebAssembly: Wasm } = globalThis as unknown as {
      WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
    };
    const wasm = new Wasm.Memory({ initial: 1 });
    const views = [new Uint8Array(wasm.buffer, 0, 10), new Uint8Array(8)];
    let n = 0;
    for await (const c of lendChunks(Readable.from(views, { objectMode: true }))) n += c.length;
    expect(n).toBe(18);
    expect(wasm.buffer.byteLength).toBe(65536);
  });
});

let keys: TestKeys;
let work: { path: string; remove: () => Promise<void> };
let parts: string;
let manifest: BackupManifest;
const data = testData(5 * 1024 * 1024 + 777, 21);

beforeAll(async () => {
  keys = await makeKeys();
  work = await tempDir();
  parts = join(work.path, 'parts');
  await mkdir(parts);
  const runner = createPartRunner({ workers: 1 });
  try {
    const list = await encryptToParts(Readable.from([data]), {
      recipients: [keys.desktopPublic],
      signingKey: keys.signing,
      sink: fileSink(parts),
      runner,
      partSize: 1536 * 1024 + 5, // parts of two steps and a bit: step and part ends fall inside chunks
    });
    manifest = { formatVersion: FORMAT_VERSION, recipients: [keys.desktop.getFingerprint().toUpperCase()], parts: list } as BackupManifest;
  } finally {
    await runner.close();
  }
}, 60_000);
afterAll(() => work.remove());

describe.each(RUNNERS)('lendVerifiedPayload (%s runner)', (_label, makeRunner) => {
  it('each chunk stays as released while the consumer holds it, and is freed once it asked for the next', async () => {
    const runner = makeRunner();
    try {
      for (const m of [manifest, asFormat2(manifest)]) {
        const held: Uint8Array[] = [];
        const copies: Buffer[] = [];
        for await (const c of lendVerifiedPayload(m, fileSource(parts), {
          decryptionKey: keys.desktop,
          verificationKey: keys.signingPublic,
          runner,
          tempBase: work.path,
        })) {
          const copy = Buffer.from(c);
          // the decryptor goes on meanwhile (the next steps, the next part): nothing may change
          // or free the chunk in hand
          await new Promise((r) => setTimeout(r, 3));
          expect(Buffer.from(c).equals(copy)).toBe(true);
          copies.push(copy);
          held.push(c);
        }
        expect(Buffer.concat(copies).equals(data), `format ${m.formatVersion}`).toBe(true);
        // every chunk's memory was given back as soon as its consumer was done
        expect(held.filter((c) => !freed(c.buffer))).toEqual([]);
        expect(held.length).toBeGreaterThan(5);
      }
    } finally {
      await runner.close();
    }
  }, 60_000);
});

describe('lendVerifiedPayload with a damaged part', () => {
  it('fails with BACKUP_DAMAGED and lends only a genuine prefix that stops before the damaged step', async () => {
    const bad = join(work.path, 'bad');
    await mkdir(bad);
    for (const p of manifest.parts) await copyFile(join(parts, p.name), join(bad, p.name));
    const victim = manifest.parts[2]!;
    const bytes = await readFile(join(bad, victim.name));
    bytes[bytes.length - 200 - 1024 * 1024]! ^= 0x40; // in the part's first MiB of data
    await writeFile(join(bad, victim.name), bytes);
    const runner = createPartRunner({ workers: 1 });
    const got: Buffer[] = [];
    let error: unknown;
    try {
      for await (const c of lendVerifiedPayload(manifest, fileSource(bad), {
        decryptionKey: keys.desktop,
        verificationKey: keys.signingPublic,
        runner,
      }))
        got.push(Buffer.from(c));
    } catch (e) {
      error = e;
    } finally {
      await runner.close();
    }
    expect(error).toMatchObject({ code: 'BACKUP_DAMAGED' });
    const released = Buffer.concat(got);
    const partStart = manifest.parts.slice(0, 2).reduce((n, p) => n + p.plainSize, 0);
    expect(released.length).toBeGreaterThanOrEqual(partStart); // the genuine parts before it
    expect(released.length).toBeLessThan(partStart + 1024 * 1024); // not the changed step
    expect(released.equals(data.subarray(0, released.length))).toBe(true);
  }, 60_000);
});
