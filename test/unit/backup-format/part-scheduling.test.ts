import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { restoreToDirectory } from '../../../src-main/services/backup-format/backup-reader';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import {
  decryptKeys,
  encryptKeys,
  newPartSession,
  openSessionKey,
  primeSessionKey,
  type DecryptKeyBytes,
  type EncryptKeyBytes,
} from '../../../src-main/services/backup-format/part-crypto';
import { CompositePartRunner, InlinePartRunner, type PartRunner } from '../../../src-main/services/backup-format/part-runner';
import { PartEncryptor } from '../../../src-main/services/backup-format/native-part';
import { WorkerPartRunner } from '../../../src-main/services/backup-format/worker-pool';
import { fileSink, fileSource, makeKeys, tempDir, testData, type TestKeys } from './fixtures';

let keys: TestKeys;
let work: { path: string; remove: () => Promise<void> };
let encBytes: EncryptKeyBytes;
let decBytes: DecryptKeyBytes;

beforeAll(async () => {
  keys = await makeKeys();
  work = await tempDir();
  encBytes = { recipients: [keys.desktopPublic.write()], signingKey: keys.signing.write() };
  decBytes = { decryptionKey: keys.desktop.write(), verificationKey: keys.signingPublic.write() };
});
afterAll(() => work.remove());

/** A real inline runner that also counts the jobs it was given. */
class CountingInlineRunner extends InlinePartRunner {
  jobs = 0;
  override encrypt(...args: Parameters<InlinePartRunner['encrypt']>): ReturnType<InlinePartRunner['encrypt']> {
    this.jobs++;
    return super.encrypt(...args);
  }
}

const oneChunk = (n: number, seed: number) => Readable.from([testData(n, seed)]);
const drain = async () => undefined;

describe('CompositePartRunner: which runner takes a part', () => {
  it('gives the first part to the calling thread while the worker boots, later parts to the worker', async () => {
    const inline = new CountingInlineRunner();
    const workers = new WorkerPartRunner(1);
    const runner = new CompositePartRunner([inline, workers]);
    try {
      // just constructed: its thread is still starting
      expect(workers.readyNow()).toBe(false);
      await runner.encrypt(encBytes, oneChunk(4096, 1), drain);
      expect(inline.jobs).toBe(1);
      const deadline = Date.now() + 20_000;
      while (!workers.readyNow() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(workers.readyNow()).toBe(true);
      // an online, idle worker is preferred: the calling thread stays free
      await runner.encrypt(encBytes, oneChunk(4096, 2), drain);
      await runner.encrypt(encBytes, oneChunk(4096, 3), drain);
      expect(inline.jobs).toBe(1);
    } finally {
      await runner.close();
    }
  }, 30_000);
});

describe('session keys opened ahead (primeSessionKey)', () => {
  /** One encrypted part's bytes and the session key inside it. */
  async function part(recipients: Uint8Array[]): Promise<{ bytes: Buffer; sessionKey: Uint8Array }> {
    const session = await newPartSession(await encryptKeys({ ...encBytes, recipients }));
    const enc = new PartEncryptor(session);
    const bytes = Buffer.concat([enc.update(testData(200_000, 5)) ?? new Uint8Array(), enc.final() ?? new Uint8Array()]);
    return { bytes, sessionKey: session.sessionKey };
  }

  it("opens the key from a part's first bytes, and the part's decryption gets that key", async () => {
    const { bytes, sessionKey } = await part([keys.desktopPublic.write(), keys.otherPublic.write()]);
    expect(await primeSessionKey(decBytes, bytes.subarray(0, 64 * 1024))).toBe(true);
    // the PKESK packets as the decryptor hands them over (new-format tag 1, one-byte lengths here)
    const pkesks = [];
    for (let i = 0; bytes[i] === 0xc1; i += 2 + bytes[i + 1]!) pkesks.push(bytes.subarray(i, i + 2 + bytes[i + 1]!));
    expect(pkesks).toHaveLength(2);
    const opened = await openSessionKey(await decryptKeys(decBytes), pkesks);
    expect(Buffer.from(opened.data).equals(Buffer.from(sessionKey))).toBe(true);
  });

  it('keeps nothing for bytes that do not start with whole PKESK packets or for a part not addressed to us', async () => {
    const { bytes } = await part([keys.desktopPublic.write()]);
    expect(await primeSessionKey(decBytes, bytes.subarray(0, 40))).toBe(false); // cut inside the PKESK
    expect(await primeSessionKey(decBytes, testData(4096, 6))).toBe(false); // not OpenPGP
    expect(await primeSessionKey(decBytes, new Uint8Array())).toBe(false);
    const other = await part([keys.otherPublic.write()]);
    expect(await primeSessionKey(decBytes, other.bytes.subarray(0, 4096))).toBe(false);
  });
});

describe('the unlocked key after a restore', () => {
  it('is no longer held by the part crypto once the restore is over', async () => {
    const out = join(work.path, 'release-out');
    const restored = join(work.path, 'release-restored');
    await mkdir(out);
    await mkdir(restored);
    const runner: PartRunner = new InlinePartRunner();
    const { manifest } = await writeBackup({
      serverId: 'srv1',
      sequence: 1,
      versions: {},
      entries: [bufferEntry('blob', testData(300_000, 4))],
      recipients: [keys.desktopPublic],
      signingKey: keys.signing,
      sink: fileSink(out),
      runner,
      partSize: 64 * 1024,
    });
    // parsed once and cached: equal bytes (like the restore's own copy) get the same parsed keys
    const before = decryptKeys(decBytes);
    const copy = { decryptionKey: Uint8Array.from(decBytes.decryptionKey), verificationKey: Uint8Array.from(decBytes.verificationKey) };
    expect(decryptKeys(copy)).toBe(before);
    await before;
    await restoreToDirectory(manifest, fileSource(out), restored, {
      decryptionKey: keys.desktop,
      verificationKey: keys.signingPublic,
      runner,
    });
    // the restore released them: asking again parses the key afresh
    expect(decryptKeys(decBytes)).not.toBe(before);
  });
});
