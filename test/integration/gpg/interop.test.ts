import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decrypt, readKey, readMessage, type PublicKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { restoreToDirectory } from '../../../src-main/services/backup-format/backup-reader';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { decryptPart } from '../../../src-main/services/backup-format/part-crypto';
import { InlinePartRunner } from '../../../src-main/services/backup-format/part-runner';
import { generateDesktopKey, generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';
import { importPrivateKey, importSigningPublicKey } from '../../../src-main/services/pgp/key-import';
import { unlockPrivateKey } from '../../../src-main/services/pgp/key-protect';
import { fileSink, fileSource, tempDir, testData } from '../../unit/backup-format/fixtures';
import { makeGpgHome, type GpgHome } from './gpg-home';

const PASS = 'gpg made this key 2026';
let gpg: GpgHome;
let work: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  gpg = await makeGpgHome(PASS);
  work = await tempDir();
});
afterAll(async () => {
  await gpg.close();
  await work.remove();
});

async function gpgFingerprint(uid: string): Promise<string> {
  const { stdout } = await gpg.gpg(['--with-colons', '--list-keys', uid]);
  const fpr = String(stdout)
    .split('\n')
    .find((l) => l.startsWith('fpr:'));
  return fpr!.split(':')[9]!;
}

describe('GnuPG 2.2 interop', () => {
  it('a key from `gpg --quick-gen-key … future-default default never` imports and works as the desktop key', async () => {
    await gpg.gpg(['--quick-gen-key', 'Gpg User <gpg@example.org>', 'future-default', 'default', 'never']);
    const fp = await gpgFingerprint('gpg@example.org');
    const armored = String((await gpg.gpg(['--armor', '--export-secret-keys', fp])).stdout);
    const imported = await importPrivateKey({ armored, passphrase: PASS });
    expect(imported.info.fingerprint).toBe(fp);
    await expect(importPrivateKey({ armored, passphrase: 'not the passphrase 1' })).rejects.toMatchObject({ code: 'KEY_WRONG_PASSPHRASE' });

    // back up to it with our code, restore with our code, and gpg decrypts the same parts
    const server = await generateServerSigningKey({ serverId: 'srv1' });
    const dir = join(work.path, 'to-gpg-key');
    const out = join(work.path, 'to-gpg-key-restored');
    await mkdir(dir);
    await mkdir(out);
    const data = testData(1_500_000, 31);
    const runner = new InlinePartRunner();
    const { manifest } = await writeBackup({
      serverId: 'srv1',
      sequence: 1,
      versions: {},
      entries: [bufferEntry('db/dump', data)],
      recipients: [(await readKey({ armoredKey: imported.armoredPublic })) as PublicKey],
      signingKey: server.privateKey,
      sink: fileSink(dir),
      runner,
      partSize: 512 * 1024,
    });
    const unlocked = await unlockPrivateKey(imported.armoredPrivate, PASS);
    await restoreToDirectory(manifest, fileSource(dir), out, { decryptionKey: unlocked, verificationKey: server.publicKey, runner });
    expect((await readFile(join(out, 'db/dump'))).equals(data)).toBe(true);
    await gpg.gpg(['--import'], { input: server.armoredPublic });
    const first = await gpg.gpg(['--decrypt', join(dir, 'part-00000.pgp')]);
    expect(first.stderr).toContain('Good signature');
    expect(first.stdout.length).toBe(manifest.parts[0]!.plainSize);
  });

  it('our code decrypts (and verifies) a message gpg encrypted and signed to our key', async () => {
    const ours = await generateDesktopKey({ name: 'Ohitori desktop', email: 'ohitori@example.org', passphrase: 'desktop passphrase 55' });
    await gpg.gpg(['--import'], { input: ours.armoredPublic });
    // a gpg-made sign-only key stands in for a server that signs with gpg
    await gpg.gpg(['--quick-gen-key', 'Gpg Signer <signer@example.org>', 'future-default', 'sign', 'never']);
    const signerFp = await gpgFingerprint('signer@example.org');
    const signerPub = await importSigningPublicKey(String((await gpg.gpg(['--armor', '--export', signerFp])).stdout));

    const plain = testData(2_000_000, 41);
    const input = join(work.path, 'plain.bin');
    await writeFile(input, plain);
    const enc = await gpg.gpg([
      '--compress-algo',
      'none',
      '--recipient',
      ours.info.fingerprint,
      '--local-user',
      signerFp,
      '--sign',
      '--encrypt',
      '--output',
      '-',
      input,
    ]);
    const dec = await gpg.gpg(['--encrypt', '--compress-algo', 'none', '--recipient', ours.info.fingerprint, '--output', '-', input]);

    const key = await unlockPrivateKey(ours.armoredPrivate, 'desktop passphrase 55');
    // plain openpgp.js streaming decrypt of the gpg message (SEIPDv1)
    const message = await readMessage({ binaryMessage: Readable.toWeb(Readable.from([dec.stdout])) as ReadableStream<Uint8Array> });
    const r = await decrypt({ message, decryptionKeys: key, format: 'binary', config: { allowUnauthenticatedStream: true } });
    const chunks: Buffer[] = [];
    for await (const c of Readable.fromWeb(r.data as ReadableStream<Uint8Array>)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(plain)).toBe(true);

    // and the part reader accepts a gpg-signed+encrypted message as a part
    const outPath = join(work.path, 'gpg-part.plain');
    const res = await decryptPart(
      Readable.toWeb(Readable.from([enc.stdout])) as ReadableStream<Uint8Array>,
      { decryptionKey: key.write(), verificationKey: signerPub.key.write() },
      outPath,
    );
    expect(res.plainSize).toBe(plain.length);
    expect((await readFile(outPath)).equals(plain)).toBe(true);
    // ...but not when the pinned key is another one
    const other = await generateServerSigningKey({ serverId: 'x' });
    await expect(
      decryptPart(
        Readable.toWeb(Readable.from([enc.stdout])) as ReadableStream<Uint8Array>,
        { decryptionKey: key.write(), verificationKey: other.publicKey.write() },
        outPath + '2',
      ),
    ).rejects.toMatchObject({ code: 'BACKUP_SIGNATURE_INVALID' });
  });
});
