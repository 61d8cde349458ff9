import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { generateKey, type PrivateKey, type PublicKey } from 'openpgp';
import type { BackupSink } from '../../../src-main/services/backup-format/backup-writer';
import type { BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { InlinePartRunner, type PartRunner } from '../../../src-main/services/backup-format/part-runner';
import type { PartSource } from '../../../src-main/services/backup-format/parts-reader';
import { WorkerPartRunner, createPartRunner } from '../../../src-main/services/backup-format/worker-pool';
import { generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';

/** Keys for format tests: a desktop key pair (unlocked), a second recipient, and the server signing key. */
export interface TestKeys {
  desktop: PrivateKey;
  desktopPublic: PublicKey;
  other: PrivateKey;
  otherPublic: PublicKey;
  signing: PrivateKey;
  signingPublic: PublicKey;
}

export async function makeKeys(): Promise<TestKeys> {
  // Unprotected here: key protection has its own tests; this keeps format tests fast.
  const d = await generateKey({ userIDs: [{ name: 'Desktop', email: 'd@example.org' }], format: 'object' });
  const o = await generateKey({ userIDs: [{ name: 'Other', email: 'o@example.org' }], format: 'object' });
  const s = await generateServerSigningKey({ serverId: 'srv1' });
  return {
    desktop: d.privateKey,
    desktopPublic: d.publicKey,
    other: o.privateKey,
    otherPublic: o.publicKey,
    signing: s.privateKey,
    signingPublic: s.publicKey,
  };
}

export async function tempDir(prefix = 'ohitori-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A sink writing parts and the manifest as files in `dir` (what the S3 sink does with objects). */
export function fileSink(dir: string, log: string[] = []): BackupSink {
  return {
    async writePart(name, body) {
      await pipeline(body, createWriteStream(join(dir, name)));
      log.push(name);
    },
    async writeManifest(name, bytes) {
      await writeFile(join(dir, name), bytes);
      log.push(name);
    },
  };
}

export function fileSource(dir: string): PartSource {
  return { openPart: (name) => createReadStream(join(dir, name), { highWaterMark: 1 << 20 }) };
}

export const readBytes = async (path: string) => new Uint8Array(await readFile(path));

/** Seeded PRNG (mulberry32) so randomised cases are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic half-compressible data (text-like and random blocks), like the perf doc's generator. */
export function testData(size: number, seed = 1): Buffer {
  const rnd = prng(seed);
  const out = Buffer.alloc(size);
  const words = ['note', 'misskey', 'user', 'drive', 'file', 'reaction', 'renote', 'emoji', 'timeline', 'cat'];
  for (let off = 0; off < size; off += 4096) {
    const end = Math.min(size, off + 4096);
    if (rnd() < 0.5) for (let i = off; i < end; i++) out[i] = Math.floor(rnd() * 256);
    else {
      let s = '';
      while (s.length < end - off) s += `${Math.floor(rnd() * 1e9).toString(36)}\t${words[Math.floor(rnd() * words.length)]}\n`;
      out.write(s.slice(0, end - off), off, 'latin1');
    }
  }
  return out;
}

/**
 * A format 3 manifest as format 2 would list the same parts (the step digests left out): what a
 * backup made before format 3 looks like, read through private temp files.
 */
export function asFormat2(m: BackupManifest): BackupManifest {
  return { ...m, formatVersion: 2, parts: m.parts.map(({ stepSha256: _s, ...p }) => p) };
}

/** The three ways parts run: all on the calling thread, all on workers, and the product's mix. */
export const RUNNERS: [string, () => PartRunner][] = [
  ['inline', () => new InlinePartRunner()],
  ['workers', () => new WorkerPartRunner(2)],
  ['default (inline + worker)', () => createPartRunner({ workers: 1 })],
];
