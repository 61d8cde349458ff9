import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/shared/errors';
import type { SafeStorageLike } from '../../../src-main/services/vault/keychain-store';
import { Vault } from '../../../src-main/services/vault/vault';
import { ProfileStore } from '../../../src-main/services/profiles/profile-store';
import { makeTempDir } from '../../support/temp-dir';

/**
 * Test double of Electron's safeStorage, which cannot exist outside Electron. It follows the
 * real contract: encryptString → opaque bytes, decryptString reverses it, and on Linux
 * `getSelectedStorageBackend` says which backend (basic_text = no real keyring).
 */
class FakeSafeStorageForTests implements SafeStorageLike {
  constructor(private readonly backend: string) {}
  isEncryptionAvailable(): boolean {
    return true;
  }
  encryptString(s: string): Buffer {
    return Buffer.from(Buffer.from(s, 'utf8').map((b) => b ^ 0x5a));
  }
  decryptString(b: Buffer): string {
    return Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8');
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

const SECRET = 'hunter2-correct-horse-battery-staple';

async function grepDir(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await readdir(dir)) {
    const text = await readFile(join(dir, f)).catch(() => Buffer.alloc(0));
    if (text.includes(needle) || text.includes(Buffer.from(needle).toString('base64'))) hits.push(f);
  }
  return hits;
}

describe('secret store modes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
  afterEach(async () => cleanup());

  it('uses the OS keychain when a real keyring backend exists, and persists across restarts', async () => {
    const v = await Vault.open({ dataDir: dir, safeStorage: new FakeSafeStorageForTests('gnome_libsecret'), platform: 'linux' });
    expect(await v.status()).toEqual({ mode: 'os-keychain', unlocked: true, passphraseSet: false });
    await v.set('s', Buffer.from(SECRET));
    expect(await grepDir(dir, SECRET)).toEqual([]);
    const again = await Vault.open({ dataDir: dir, safeStorage: new FakeSafeStorageForTests('gnome_libsecret'), platform: 'linux' });
    expect((await again.get('s'))?.toString()).toBe(SECRET);
    expect((await again.unwrap(await again.wrap(Buffer.from('blob')))).toString()).toBe('blob');
  });

  it('with only basic_text, persists nothing until a passphrase is set, and says why', async () => {
    const v = await Vault.open({ dataDir: dir, safeStorage: new FakeSafeStorageForTests('basic_text'), platform: 'linux' });
    expect(await v.status()).toEqual({ mode: 'session-only', unlocked: true, passphraseSet: false, reason: 'no-keyring' });
    await v.set('s', Buffer.from(SECRET));
    expect((await v.get('s'))?.toString()).toBe(SECRET);
    expect(await readdir(dir)).toEqual([]);
    await expect(v.wrap(Buffer.from('x'))).rejects.toMatchObject({ code: 'VAULT_UNAVAILABLE' });
    const restarted = await Vault.open({ dataDir: dir, safeStorage: new FakeSafeStorageForTests('basic_text'), platform: 'linux' });
    expect(await restarted.get('s')).toBeUndefined();
  });

  it('passphrase mode: moves session secrets in, encrypts at rest, locks, refuses a wrong passphrase', async () => {
    const v = await Vault.open({ dataDir: dir });
    expect((await v.status()).reason).toBe('browser-mode');
    await v.set('early', Buffer.from(SECRET));
    expect(await v.setPassphrase('a good long passphrase')).toMatchObject({ mode: 'passphrase', unlocked: true, passphraseSet: true });
    expect((await v.get('early'))?.toString()).toBe(SECRET);
    expect(await grepDir(dir, SECRET)).toEqual([]);
    await v.lock();
    await expect(v.get('early')).rejects.toMatchObject({ code: 'VAULT_LOCKED' });

    const restarted = await Vault.open({ dataDir: dir });
    expect(await restarted.status()).toMatchObject({ mode: 'passphrase', unlocked: false });
    await expect(restarted.unlock('wrong passphrase!')).rejects.toMatchObject({ code: 'VAULT_WRONG_PASSPHRASE' });
    await restarted.unlock('a good long passphrase');
    expect((await restarted.get('early'))?.toString()).toBe(SECRET);
    const wrapped = await restarted.wrap(Buffer.from(SECRET));
    expect(wrapped.includes(Buffer.from(SECRET))).toBe(false);
    expect((await restarted.unwrap(wrapped)).toString()).toBe(SECRET);
    wrapped[wrapped.length - 1]! ^= 1;
    await expect(restarted.unwrap(wrapped)).rejects.toBeInstanceOf(AppError);
    await expect(restarted.setPassphrase('another passphrase')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('profiles keep their secret in the store, never in profiles.json', async () => {
    const v = await Vault.open({ dataDir: dir });
    await v.setPassphrase('a good long passphrase');
    const store = new ProfileStore(dir, v);
    const p = await store.save({
      name: 'Home',
      host: '10.0.0.5',
      port: 22,
      user: 'admin',
      auth: 'password',
      domain: 'misskey.example.com',
      stackDir: '/var/servers/docker/misskey',
      secret: SECRET,
    });
    expect(p.hasSecret).toBe(true);
    expect(await readFile(join(dir, 'profiles.json'), 'utf8')).not.toContain(SECRET);
    expect(await grepDir(dir, SECRET)).toEqual([]);
    await v.lock();
    await expect(store.save({ ...p, secret: 'new' })).rejects.toMatchObject({ code: 'VAULT_LOCKED' });
    expect((await store.list())[0]).toMatchObject({ name: 'Home', hasSecret: false });
  });
});
