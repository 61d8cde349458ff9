import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKey, readPrivateKey } from 'openpgp';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDesktopKey, generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';
import { exportRecoveryKey } from '../../../src-main/services/pgp/key-export';
import { importPrivateKey, importPublicKey } from '../../../src-main/services/pgp/key-import';
import { formatFingerprint } from '../../../src-main/services/pgp/key-info';
import { unlockPrivateKey } from '../../../src-main/services/pgp/key-protect';
import { countBackupsOrphanedBy, countBackupsUsingKey } from '../../../src-main/services/pgp/key-usage';
import { Keyring } from '../../../src-main/services/pgp/keyring';
import { recoveryPageHtml, recoveryPageText } from '../../../src-main/services/pgp/recovery-page';
import type { SecretStore } from '../../../src-main/services/vault/secret-store';

const PASS = 'correct horse battery staple 42';
let gen: Awaited<ReturnType<typeof generateDesktopKey>>;
beforeAll(async () => {
  gen = await generateDesktopKey({ name: 'Ohitori test', email: 'me@example.org', passphrase: PASS });
}, 30_000);

/** The S2K of every secret key packet in an armored key (openpgp.js internals, read-only). */
async function s2kTypes(armored: string): Promise<string[]> {
  const k = await readPrivateKey({ armoredKey: armored });
  return [k.keyPacket, ...k.subkeys.map((s) => s.keyPacket)].map((p) => String((p as unknown as { s2k?: { type?: string } }).s2k?.type));
}

describe('key generation', () => {
  it('makes a v4 curve25519Legacy key, Argon2+AEAD protected for the app', async () => {
    const k = await readPrivateKey({ armoredKey: gen.armoredPrivate });
    expect(k.keyPacket.version).toBe(4);
    expect(k.getAlgorithmInfo()).toMatchObject({ algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' });
    expect(k.subkeys[0]!.getAlgorithmInfo()).toMatchObject({ algorithm: 'ecdh', curve: 'curve25519Legacy' });
    expect(k.isDecrypted()).toBe(false);
    expect(await s2kTypes(gen.armoredPrivate)).toEqual(['argon2', 'argon2']);
    expect(gen.info.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    // the public key does not advertise SEIPDv2, so messages to it stay gpg-2.2 readable
    const pub = await readKey({ armoredKey: gen.armoredPublic });
    const sig = (await pub.getPrimaryUser()).selfCertification;
    expect((sig.features?.[0] ?? 0) & 0x08).toBe(0); // 0x08 = SEIPDv2 support (RFC 9580 §5.2.3.32)
    expect((sig.features?.[0] ?? 0) & 0x01).toBe(1); // SEIPDv1 (MDC)
  });

  it('refuses a weak passphrase', async () => {
    await expect(generateDesktopKey({ name: 'x', passphrase: 'password1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('unlocks with the right passphrase and rejects a wrong one', async () => {
    const u = await unlockPrivateKey(gen.armoredPrivate, PASS);
    expect(u.isDecrypted()).toBe(true);
    await expect(unlockPrivateKey(gen.armoredPrivate, PASS + '!')).rejects.toMatchObject({ code: 'KEY_WRONG_PASSPHRASE' });
  });

  it('exports a recovery copy with iterated S2K (what gpg 2.2 imports), still passphrase-protected', async () => {
    const rec = await exportRecoveryKey({ armoredAppKey: gen.armoredPrivate, passphrase: PASS });
    expect(await s2kTypes(rec)).toEqual(['iterated', 'iterated']);
    expect((await readPrivateKey({ armoredKey: rec })).isDecrypted()).toBe(false);
    await expect(unlockPrivateKey(rec, 'nope nope nope')).rejects.toMatchObject({ code: 'KEY_WRONG_PASSPHRASE' });
    await expect(exportRecoveryKey({ armoredAppKey: gen.armoredPrivate, passphrase: 'wrong passphrase 123' })).rejects.toMatchObject({
      code: 'KEY_WRONG_PASSPHRASE',
    });
  });

  it('makes an unprotected sign-only server key', async () => {
    const s = await generateServerSigningKey({ serverId: 'srv1' });
    expect(s.privateKey.isDecrypted()).toBe(true);
    expect(s.privateKey.subkeys).toHaveLength(0);
    expect(s.privateKey.keyPacket.version).toBe(4);
    await expect(s.publicKey.getEncryptionKey()).rejects.toThrow();
  });
});

describe('import', () => {
  it('imports a private key with its passphrase and re-protects it', async () => {
    const rec = await exportRecoveryKey({ armoredAppKey: gen.armoredPrivate, passphrase: PASS });
    const imp = await importPrivateKey({ armored: rec, passphrase: PASS });
    expect(imp.info.fingerprint).toBe(gen.info.fingerprint);
    expect(await s2kTypes(imp.armoredPrivate)).toEqual(['argon2', 'argon2']);
    await expect(importPrivateKey({ armored: rec, passphrase: 'wrong passphrase 123' })).rejects.toMatchObject({
      code: 'KEY_WRONG_PASSPHRASE',
    });
    await expect(importPrivateKey({ armored: 'garbage', passphrase: PASS })).rejects.toMatchObject({ code: 'KEY_INVALID' });
  });

  it('refuses keys gpg 2.2 cannot use (v6)', async () => {
    const { generateKey } = await import('openpgp');
    const v6 = await generateKey({ userIDs: [{ name: 'v6' }], config: { v6Keys: true }, format: 'armored' });
    await expect(importPublicKey(v6.publicKey)).rejects.toMatchObject({ code: 'KEY_INVALID' });
  });

  it('imports a public recipient and strips a pasted private key to its public part', async () => {
    const r = await importPublicKey(gen.armoredPrivate);
    expect(r.info.hasPrivate).toBe(false);
    expect(r.armoredPublic).not.toContain('PRIVATE');
  });
});

describe('usage counts and recovery page', () => {
  it('counts backups that depend on a key', () => {
    const fp = gen.info.fingerprint;
    const other = 'C'.repeat(40);
    const ms = [{ recipients: [fp] }, { recipients: [fp, other] }, { recipients: [other] }];
    expect(countBackupsUsingKey(ms, fp.toLowerCase())).toBe(2);
    expect(countBackupsOrphanedBy(ms, [fp])).toBe(1);
  });

  it('prints the fingerprint and the gpg/tar commands in ja and en', () => {
    const input = { fingerprint: gen.info.fingerprint, userIds: gen.info.userIds, createdAt: gen.info.createdAt };
    const t = recoveryPageText(input);
    expect(t).toContain(formatFingerprint(gen.info.fingerprint));
    expect(t).toContain('復旧');
    expect(t).toContain('Restore with GnuPG');
    expect(t).toContain('zstd -d | tar -x');
    expect(recoveryPageHtml({ ...input, userIds: ['<script>'] })).not.toContain('<script>');
  });
});

/** A SecretStore stand-in that really transforms the bytes (XOR), so the test sees wrapping happen. */
const xorStore: SecretStore = {
  mode: 'session-only',
  isUnlocked: () => true,
  get: async () => undefined,
  set: async () => undefined,
  delete: async () => undefined,
  wrap: async (b) => Buffer.concat([Buffer.from('W1'), Buffer.from(b.map((x) => x ^ 0x5a))]),
  unwrap: async (b) => Buffer.from(b.subarray(2).map((x) => x ^ 0x5a)),
};

describe('keyring', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'ohitori-keyring-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stores the desktop key wrapped (0600, no armor on disk), unlocks, adds recipients, warns on removal', async () => {
    const ring = new Keyring(dir, xorStore);
    const info = await ring.importPrivate({ armored: gen.armoredPrivate, passphrase: PASS });
    const onDisk = await readFile(join(dir, 'desktop-key.asc.wrapped'));
    expect(onDisk.toString('latin1')).not.toContain('PRIVATE KEY BLOCK');
    expect((await stat(join(dir, 'desktop-key.asc.wrapped'))).mode & 0o777).toBe(0o600);

    await expect(ring.withUnlockedKey(async () => 1)).rejects.toMatchObject({ code: 'KEY_WRONG_PASSPHRASE' });
    await expect(ring.unlock('wrong passphrase 123')).rejects.toMatchObject({ code: 'KEY_WRONG_PASSPHRASE' });
    await ring.unlock(PASS);
    expect(await ring.withUnlockedKey(async (k) => k.getFingerprint().toUpperCase())).toBe(info.fingerprint);

    const second = await generateDesktopKey({ name: 'Laptop', passphrase: PASS });
    await ring.addRecipient({ armored: second.armoredPublic, label: 'laptop' });
    expect((await ring.recipientKeys()).map((k) => k.getFingerprint().toUpperCase())).toEqual([info.fingerprint, second.info.fingerprint]);

    const manifests = [{ recipients: [info.fingerprint, second.info.fingerprint] }];
    await expect(ring.remove(second.info.fingerprint, { manifests })).rejects.toMatchObject({ code: 'KEY_IN_USE', details: { count: 1 } });
    await ring.remove(second.info.fingerprint, { manifests, force: true });
    expect(await ring.list()).toHaveLength(1);

    const { armoredKey, pageText } = await ring.exportRecovery({ passphrase: PASS });
    expect(armoredKey).toContain('PRIVATE KEY BLOCK');
    expect(pageText).toContain(formatFingerprint(info.fingerprint));
    await expect(ring.generate({ name: 'again', passphrase: PASS })).rejects.toMatchObject({ code: 'KEY_IN_USE' });
  }, 60_000);
});
