import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { WorkerPartRunner } from '../../../src-main/services/backup-format/worker-pool';
import { exportRecoveryKey } from '../../../src-main/services/pgp/key-export';
import { generateDesktopKey, generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';
import { fileSink, tempDir, testData } from '../../unit/backup-format/fixtures';
import { makeGpgHome, type GpgHome } from './gpg-home';

const PASS = 'recovery sheet passphrase 7';
const docBlock = async () => {
  const doc = await readFile(new URL('../../../docs/backup-format.md', import.meta.url), 'utf8');
  const m = /<!-- recovery-commands:start -->\s*```sh\n([\s\S]*?)```\s*<!-- recovery-commands:end -->/.exec(doc);
  if (!m?.[1]) throw new Error('recovery commands block not found in docs/backup-format.md');
  return m[1];
};

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

describe('stock gpg 2.2 + zstd + tar restore a backup made by our code', () => {
  it('runs the documented commands and gets every file back byte for byte', async () => {
    const desktop = await generateDesktopKey({ name: 'Ohitori desktop', email: 'me@example.org', passphrase: PASS });
    const second = await generateDesktopKey({ name: 'Second laptop', passphrase: 'another good passphrase 9' });
    const server = await generateServerSigningKey({ serverId: 'srv1' });
    const files: Record<string, Buffer> = {
      'db/misskey.dump': testData(3 * 1024 * 1024 + 77, 21),
      'files/2026/cat.webp': testData(700_000, 22),
      'config/default.yml': Buffer.from('url: https://example.org/\nid: aidx\n'),
      'files/empty': Buffer.alloc(0),
    };
    const dir = join(work.path, 'backup');
    await mkdir(dir);
    const runner = new WorkerPartRunner(2);
    const { readKey } = await import('openpgp');
    const { manifest } = await writeBackup({
      serverId: 'srv1',
      sequence: 1,
      versions: { misskey: '2025.4.0', postgres: '15.8', redis: '7.2.5' },
      entries: Object.entries(files).map(([n, b]) => bufferEntry(n, b)),
      recipients: [await readKey({ armoredKey: desktop.armoredPublic }), await readKey({ armoredKey: second.armoredPublic })],
      signingKey: server.privateKey,
      sink: fileSink(dir),
      runner,
      partSize: 1024 * 1024,
    }).finally(() => runner.close());
    expect(manifest.parts.length).toBeGreaterThanOrEqual(3);

    await writeFile(
      join(dir, 'ohitori-recovery-key.asc'),
      await exportRecoveryKey({ armoredAppKey: desktop.armoredPrivate, passphrase: PASS }),
    );
    await writeFile(join(dir, 'signing-key.asc'), server.armoredPublic);

    const { stderr } = await gpg.sh(await docBlock(), dir);
    // gpg saw the server's signature on the manifest and on every part
    expect(stderr.match(/Good signature from "Ohitori backup signing key \(srv1\)"/g)?.length).toBe(manifest.parts.length + 1);
    expect(stderr).not.toMatch(/WARNING: message was not integrity protected/);
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
    // what the doc says to compare: the decrypted parts' SHA-256 are the manifest's plainSha256
    const { createHash } = await import('node:crypto');
    for (const p of manifest.parts)
      expect(
        createHash('sha256')
          .update(await readFile(join(dir, p.name.replace(/\.pgp$/, '.zst'))))
          .digest('hex'),
      ).toBe(p.plainSha256);
    expect(manifest.formatVersion).toBe(3);
    for (const [name, data] of Object.entries(files)) expect((await readFile(join(dir, 'restore', name))).equals(data)).toBe(true);
    expect((await readdir(join(dir, 'restore'))).sort()).toEqual(['config', 'db', 'files', 'ohitori-backup.json']);
  });

  it('the recovery copy imports as a protected secret key (gpg --list-packets shows protection)', async () => {
    const desktop = await generateDesktopKey({ name: 'Packets', passphrase: PASS });
    const rec = await exportRecoveryKey({ armoredAppKey: desktop.armoredPrivate, passphrase: PASS });
    const { stdout } = await gpg.gpg(['--list-packets'], { input: rec });
    const text = String(stdout);
    // both secret packets: iterated+salted S2K with AES-256 (algo 9), material protected
    expect(text.match(/iter\+salt S2K, algo: 9/g)).toHaveLength(2);
    expect(text.match(/skey\[\d\]: \[v4 protected\]/g)).toHaveLength(2);
    // the app copy (Argon2+AEAD, which gpg 2.2 cannot import) carries no plain secret either
    const app = await gpg.gpg(['--list-packets'], { input: desktop.armoredPrivate }).then(
      (r) => String(r.stdout),
      (e: Error) => e.message,
    );
    expect(app).not.toMatch(/skey\[\d\]: \[\d+ bits\]/);
  });
});
