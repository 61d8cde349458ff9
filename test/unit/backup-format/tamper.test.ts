import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMessage, encrypt, sign } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { readBackupManifest } from '../../../src-main/services/backup-format/backup-reader';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { MANIFEST_NAME } from '../../../src-main/services/backup-format/format';
import { canonicalJson, type BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { signManifest, verifyManifest } from '../../../src-main/services/backup-format/manifest-signing';
import { InlinePartRunner, type PartRunner } from '../../../src-main/services/backup-format/part-runner';
import { openVerifiedPayload } from '../../../src-main/services/backup-format/parts-reader';
import { WorkerPartRunner, createPartRunner } from '../../../src-main/services/backup-format/worker-pool';
import { AppError } from '../../../src-main/shared/errors';
import { asFormat2, fileSink, fileSource, makeKeys, prng, readBytes, tempDir, testData, type TestKeys } from './fixtures';

const PART = 64 * 1024;
const REJECT_CODES = ['BACKUP_DAMAGED', 'BACKUP_SIGNATURE_INVALID', 'BACKUP_UNSIGNED', 'BACKUP_INCOMPLETE'];
let keys: TestKeys;
let work: { path: string; remove: () => Promise<void> };
let genuine: string; // folder of the genuine backup
let manifest: BackupManifest;
let payload: Buffer; // the verified compressed archive, for "released bytes are a prefix" checks
const inline = new InlinePartRunner();
let workers: PartRunner;
let composite: PartRunner;

beforeAll(async () => {
  keys = await makeKeys();
  work = await tempDir();
  workers = new WorkerPartRunner(2);
  composite = createPartRunner({ workers: 1 });
  genuine = join(work.path, 'genuine');
  await mkdir(genuine);
  ({ manifest } = await writeBackup({
    serverId: 'srv1',
    sequence: 5,
    versions: { misskey: '2025.4.0' },
    entries: [bufferEntry('db/dump', testData(400 * 1024, 11)), bufferEntry('files/x', testData(100 * 1024, 12))],
    recipients: [keys.desktopPublic],
    signingKey: keys.signing,
    sink: fileSink(genuine),
    runner: inline,
    partSize: PART,
  }));
  expect(manifest.parts.length).toBeGreaterThanOrEqual(4);
  payload = (await consume(genuine, manifest, inline)).released;
}, 60_000);
afterAll(async () => {
  await workers.close();
  await composite.close();
  await work.remove();
});

/** Reads the verified payload; returns what was released and the error, and checks temp files are gone. */
async function consume(
  dir: string,
  m: BackupManifest,
  runner: PartRunner,
  signal?: AbortSignal,
): Promise<{ released: Buffer; error?: unknown }> {
  const tempBase = join(work.path, 'tmp');
  await mkdir(tempBase, { recursive: true });
  const chunks: Buffer[] = [];
  let error: unknown;
  try {
    for await (const c of openVerifiedPayload(m, fileSource(dir), {
      decryptionKey: keys.desktop,
      verificationKey: keys.signingPublic,
      runner,
      tempBase,
      ...(signal ? { signal } : {}),
    })) {
      chunks.push(c as Buffer);
    }
  } catch (e) {
    error = e;
  }
  expect(await readdir(tempBase)).toEqual([]); // private temp files removed on every path
  return { released: Buffer.concat(chunks), ...(error !== undefined ? { error } : {}) };
}

async function copyBackup(name: string): Promise<string> {
  const dir = join(work.path, name);
  await mkdir(dir);
  for (const f of await readdir(genuine)) await copyFile(join(genuine, f), join(dir, f));
  return dir;
}

function expectRejected(e: unknown, codes = REJECT_CODES): AppError {
  expect(e).toBeInstanceOf(AppError);
  expect(codes).toContain((e as AppError).code);
  return e as AppError;
}

/** The genuine backup's manifest in format v1: each part listed by its ciphertext's SHA-256, no check. */
async function asV1(m: BackupManifest): Promise<BackupManifest> {
  const { createHash } = await import('node:crypto');
  const parts = await Promise.all(
    m.parts.map(async ({ plainSha256: _a, headSha256: _b, mdc: _c, stepSha256: _d, ...p }) => ({
      ...p,
      sha256: createHash('sha256')
        .update(await readFile(join(genuine, p.name)))
        .digest('hex'),
    })),
  );
  return { ...m, formatVersion: 1, parts };
}

/** Bytes of verified plaintext before part `k` (all that may be released when part k is bad). */
const before = (k: number) => manifest.parts.slice(0, k).reduce((n, p) => n + p.plainSize, 0);

describe('tampering (seeded random cases)', () => {
  const rnd = prng(20261126);
  const cases = Array.from({ length: 48 }, (_, i) => ({
    i,
    kind: i % 4 === 3 ? ('truncate' as const) : ('flip' as const),
    target: Math.floor(rnd() * 1e9),
    pos: rnd(),
    xor: 1 + Math.floor(rnd() * 255),
  }));

  it.each(cases)('case $i: $kind', async ({ i, kind, target, pos, xor }) => {
    const files = [...manifest.parts.map((p) => p.name), MANIFEST_NAME];
    const fileIndex = target % files.length;
    const file = files[fileIndex]!;
    const dir = await copyBackup(`case-${i}`);
    const bytes = await readFile(join(dir, file));
    const at = Math.floor(pos * bytes.length);
    const mutated = kind === 'flip' ? Buffer.from(bytes) : bytes.subarray(0, at);
    if (kind === 'flip') mutated[at]! ^= xor;
    await writeFile(join(dir, file), mutated);

    if (file === MANIFEST_NAME) {
      const e = await verifyManifest(new Uint8Array(mutated), keys.signingPublic).then(
        () => undefined,
        (x: unknown) => x,
      );
      expectRejected(e);
      return;
    }
    const runner = i % 8 === 0 ? workers : i % 8 === 4 ? composite : inline;
    // format 3 (its parts are smaller than one step: released part by part) and, read through temp files, format 2
    const { released, error } = await consume(dir, i % 2 ? asFormat2(manifest) : manifest, runner);
    expectRejected(error);
    // Nothing from the tampered part or later was released, and what was released is genuine.
    expect(released.length).toBeLessThanOrEqual(before(fileIndex));
    expect(released.equals(payload.subarray(0, released.length))).toBe(true);
  });

  it('every single-byte flip of the manifest object is rejected', async () => {
    const bytes = await readBytes(join(genuine, MANIFEST_NAME));
    for (let at = 0; at < bytes.length; at++) {
      const m = Uint8Array.from(bytes);
      m[at]! ^= 1 + (at % 255);
      expectRejected(
        await verifyManifest(m, keys.signingPublic).then(
          () => undefined,
          (x: unknown) => x,
        ),
      );
    }
    for (let n = 0; n < bytes.length; n++)
      expectRejected(
        await verifyManifest(bytes.subarray(0, n), keys.signingPublic).then(
          () => undefined,
          (x: unknown) => x,
        ),
      );
  }, 60_000);
});

describe('forgeries', () => {
  it('a manifest signed by another key is refused', async () => {
    const m2 = await signManifest({ ...manifest, signingKey: keys.other.getFingerprint().toUpperCase() }, keys.other);
    expectRejected(
      await verifyManifest(m2, keys.signingPublic).then(
        () => undefined,
        (x: unknown) => x,
      ),
      ['BACKUP_SIGNATURE_INVALID'],
    );
  });

  it('an unsigned manifest is refused as unsigned', async () => {
    const message = await createMessage({
      binary: new TextEncoder().encode(canonicalJson(manifest)),
      filename: 'manifest.json',
      format: 'binary',
      date: new Date(0),
    });
    const bare = message.write() as Uint8Array;
    expectRejected(
      await verifyManifest(bare, keys.signingPublic).then(
        () => undefined,
        (x: unknown) => x,
      ),
      ['BACKUP_UNSIGNED'],
    );
  });

  it('a manifest signed as cleartext/detached by the right key but not in our form is refused', async () => {
    const message = await createMessage({
      binary: new TextEncoder().encode(canonicalJson(manifest)),
      filename: 'other.json',
      format: 'binary',
    });
    const signed = (await sign({ message, signingKeys: keys.signing, format: 'binary' })) as Uint8Array;
    expectRejected(
      await verifyManifest(signed, keys.signingPublic).then(
        () => undefined,
        (x: unknown) => x,
      ),
      ['BACKUP_DAMAGED'],
    );
  });

  /**
   * Parts made by a bucket writer holding only the public key, listed (format v1: size and SHA-256
   * of the ciphertext) in a manifest the server signed.
   */
  async function forgedPart(
    mode: 'other-signer' | 'unsigned' | 'not-recipient',
  ): Promise<{ dir: string; m: BackupManifest; v2: BackupManifest; v3: BackupManifest }> {
    const dir = await copyBackup(`forged-${mode}`);
    const plain = payload.subarray(0, manifest.parts[0]!.plainSize);
    const message = await createMessage({ binary: plain, format: 'binary' });
    const ct = (await encrypt({
      message,
      encryptionKeys: mode === 'not-recipient' ? keys.otherPublic : keys.desktopPublic,
      ...(mode === 'other-signer' ? { signingKeys: keys.other } : mode === 'not-recipient' ? { signingKeys: keys.signing } : {}),
      format: 'binary',
    })) as Uint8Array;
    await writeFile(join(dir, 'part-00000.pgp'), ct);
    const { createHash } = await import('node:crypto');
    const v1 = await asV1(manifest);
    const parts = v1.parts.map((p, i) => (i === 0 ? { ...p, size: ct.length, sha256: createHash('sha256').update(ct).digest('hex') } : p));
    // the same forgery against the genuine v3 manifest and its v2 form (their parts' checks are the server's own)
    const v3 = { ...manifest, parts: manifest.parts.map((p, i) => (i === 0 ? { ...p, size: ct.length } : p)) };
    return { dir, m: { ...manifest, formatVersion: 1, parts }, v2: asFormat2(v3), v3 };
  }

  it.each([
    ['other-signer', 'BACKUP_SIGNATURE_INVALID'],
    ['unsigned', 'BACKUP_UNSIGNED'],
    ['not-recipient', 'KEY_NOT_RECIPIENT'],
  ] as const)('a part %s is refused with %s (v1 manifest), as damaged (v2, v3), nothing released', async (mode, code) => {
    const { dir, m, v2, v3 } = await forgedPart(mode);
    for (const runner of [inline, workers, composite]) {
      const { released, error } = await consume(dir, m, runner);
      expectRejected(error, [code]);
      expect(released.length).toBe(0);
      for (const checked of [v2, v3]) {
        const r = await consume(dir, checked, runner);
        expectRejected(r.error, ['BACKUP_DAMAGED']);
        expect(r.released.length).toBe(0);
      }
    }
  });

  it('a format v1 manifest of the same parts (ciphertext SHA-256, no check) still reads, and still refuses a flipped byte', async () => {
    expect(manifest.formatVersion).toBe(3);
    const v1 = await asV1(manifest);
    for (const runner of [inline, workers]) {
      const { released, error } = await consume(genuine, v1, runner);
      expect(error).toBeUndefined();
      expect(released.equals(payload)).toBe(true);
    }
    const dir = await copyBackup('v1-flip');
    const last = manifest.parts.at(-1)!.name;
    const bytes = await readFile(join(dir, last));
    bytes[bytes.length - 3]! ^= 0x20; // inside the MDC, which v1 reading does not recompute
    await writeFile(join(dir, last), bytes);
    const { error } = await consume(dir, v1, workers);
    expectRejected(error, ['BACKUP_DAMAGED']);
    // a damaged key packet: the worker asks this thread for the session key, which cannot be opened
    const dir2 = await copyBackup('v1-pkesk');
    const first = await readFile(join(dir2, manifest.parts[0]!.name));
    first[40]! ^= 1; // inside the PKESK's ephemeral key
    await writeFile(join(dir2, manifest.parts[0]!.name), first);
    for (const runner of [inline, workers]) expectRejected((await consume(dir2, v1, runner)).error, ['BACKUP_DAMAGED']);
  });

  it('a key that is not a recipient is refused before any download', async () => {
    const m = { ...manifest, recipients: [keys.otherPublic.getFingerprint().toUpperCase()] };
    expectRejected((await consume(genuine, m, inline)).error, ['KEY_NOT_RECIPIENT']);
  });

  it('a missing part makes the backup incomplete', async () => {
    const dir = await copyBackup('missing');
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, manifest.parts.at(-1)!.name));
    const { released, error } = await consume(dir, manifest, inline);
    expectRejected(error, ['BACKUP_INCOMPLETE']);
    expect(released.length).toBeLessThanOrEqual(before(manifest.parts.length - 1));
  });

  it('a manifest copied under another backup id is flagged as replayed', async () => {
    const bytes = await readBytes(join(genuine, MANIFEST_NAME));
    await expect(
      readBackupManifest(bytes, keys.signingPublic, { serverId: 'srv1', backupId: '20300101T000000Z-00000099' }),
    ).rejects.toMatchObject({ code: 'BACKUP_REPLAYED' });
    await expect(readBackupManifest(bytes, keys.signingPublic, { serverId: 'srv1', backupId: manifest.backupId })).resolves.toEqual(
      manifest,
    );
  });

  it('abort mid-way cancels, releases nothing more and removes temp files', async () => {
    const ac = new AbortController();
    const tempBase = join(work.path, 'tmp');
    let n = 0;
    const err = await (async () => {
      for await (const c of openVerifiedPayload(manifest, fileSource(genuine), {
        decryptionKey: keys.desktop,
        verificationKey: keys.signingPublic,
        runner: workers,
        tempBase,
        signal: ac.signal,
      })) {
        n += (c as Buffer).length;
        ac.abort();
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expectRejected(err, ['CANCELLED']);
    expect(n).toBeLessThanOrEqual(before(1));
    expect(await readdir(tempBase)).toEqual([]);
  });
});

describe('format 3: parts of several steps', () => {
  const MiB = 1024 * 1024;
  let dir: string;
  let m: BackupManifest;
  let genuinePayload: Buffer;
  const upTo = (k: number) => m.parts.slice(0, k).reduce((n, p) => n + p.plainSize, 0);

  beforeAll(async () => {
    dir = join(work.path, 'steps');
    await mkdir(dir);
    ({ manifest: m } = await writeBackup({
      serverId: 'srv1',
      sequence: 6,
      versions: {},
      entries: [bufferEntry('db/dump', testData(12 * MiB, 41))], // ~7 MiB compressed
      recipients: [keys.desktopPublic],
      signingKey: keys.signing,
      sink: fileSink(dir),
      runner: inline,
      partSize: 2.5 * MiB, // two whole steps and a half one
    }));
    expect(m.parts.length).toBeGreaterThanOrEqual(3);
    expect(m.parts[0]!.stepSha256).toHaveLength(2 * 64);
    genuinePayload = (await consume(dir, m, inline)).released;
  }, 60_000);

  const rnd = prng(20261127);
  const cases = Array.from({ length: 16 }, (_, i) => ({
    i,
    kind: i % 4 === 3 ? ('truncate' as const) : ('flip' as const),
    target: rnd(),
    pos: rnd(),
  }));

  it.each(cases)('case $i: a $kind inside a part releases only the genuine steps before it', async ({ i, kind, target, pos }) => {
    const k = Math.floor(target * m.parts.length);
    const name = m.parts[k]!.name;
    const copy = join(work.path, `steps-${i}`);
    await mkdir(copy);
    for (const f of await readdir(dir)) await copyFile(join(dir, f), join(copy, f));
    const bytes = await readFile(join(copy, name));
    const at = Math.floor(pos * bytes.length);
    const mutated = kind === 'flip' ? Buffer.from(bytes) : bytes.subarray(0, at);
    if (kind === 'flip') mutated[at]! ^= 0x41;
    await writeFile(join(copy, name), mutated);
    const { released, error } = await consume(copy, m, [inline, workers, composite][i % 3]!);
    expectRejected(error);
    expect(released.equals(genuinePayload.subarray(0, released.length))).toBe(true);
    // a byte at ciphertext offset `at` is at most at plaintext offset `at` (headers come first), so
    // no step holding it or after it was released; all of the part only when it was after the data
    const limit = at > bytes.length - 200 ? upTo(k + 1) : upTo(k) + Math.floor(at / MiB) * MiB;
    expect(released.length).toBeLessThanOrEqual(limit);
  });
});
