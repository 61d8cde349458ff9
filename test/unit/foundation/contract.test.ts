import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNELS } from '../../../src-main/shared/channels';
import { schemas } from '../../../src-main/shared/contract';
import { createServices, type Services } from '../../../src-main/services/app-services';
import { createDispatch, type Dispatch } from '../../../src-main/ipc/router';
import { makeTempDir } from '../../support/temp-dir';

/** Shapes no channel accepts: every argument is one object, never these. */
const NOT_OBJECTS: unknown[] = [undefined, null, 0, 1, -1, NaN, '', 'x', true, false, [], [{}], () => 1];

/** Malformed arguments per channel, beyond the generic ones. */
const MALFORMED: Partial<Record<(typeof CHANNELS)[number], unknown[]>> = {
  'settings:set': [{}, { language: 'fr' }, { language: 1 }, { language: 'ja', extra: 1 }, { language: ['ja'] }],
  'vault:set-passphrase': [{}, { passphrase: 'short' }, { passphrase: 12345678 }, { passphrase: 'x'.repeat(2000) }],
  'vault:unlock': [{}, { passphrase: '' }, { passphrase: null }],
  'profiles:save': [
    {},
    { name: 'a' },
    validProfile({ host: 'bad host; rm -rf /' }),
    validProfile({ host: '$(reboot)' }),
    validProfile({ host: '' }),
    validProfile({ port: 0 }),
    validProfile({ port: 70000 }),
    validProfile({ port: 22.5 }),
    validProfile({ port: '22' }),
    validProfile({ user: 'Root' }),
    validProfile({ user: 'a b' }),
    validProfile({ user: "a'b" }),
    validProfile({ auth: 'telnet' }),
    validProfile({ auth: 'key', keyPath: undefined }),
    validProfile({ domain: 'localhost' }),
    validProfile({ domain: 'Misskey.Example.com' }),
    validProfile({ domain: 'exa mple.com' }),
    validProfile({ domain: 'example.com/path' }),
    validProfile({ stackDir: 'relative/path' }),
    validProfile({ stackDir: '/var/../etc' }),
    validProfile({ stackDir: '/var/servers\nrm' }),
    validProfile({ name: '' }),
    validProfile({ name: 'x'.repeat(81) }),
    validProfile({ id: '../etc/passwd' }),
    validProfile({ unknown: true }),
    validProfile({ secret: '' }),
  ],
  'profiles:delete': [{}, { id: '' }, { id: 'a/b' }, { id: 5 }],
  'jobs:cancel': [{}, { id: '' }, { id: 'x y' }],
  'jobs:answer': [
    {},
    { id: 'a', promptId: 'b' },
    { id: 'a', promptId: 'b', accepted: 'yes' },
    { id: 'a', promptId: 'b', accepted: true, value: 1 },
  ],
  'jobs:dismiss': [{}, { id: null }],
  'diagnostics:self-check': [{}, { askFirst: 'no' }],
  'shell:open-external': [{}, { url: 'not a url' }, { url: 42 }],
  'keys:strength': [{}, { passphrase: 5 }],
  'keys:generate': [
    {},
    { name: 'a' },
    { name: '', passphrase: 'x' },
    { name: 'a', passphrase: '' },
    { name: 'a', passphrase: 'x', email: 'not-mail' },
  ],
  'keys:import-private': [{}, { armored: 'short', passphrase: 'x' }, { armored: 'x'.repeat(200), passphrase: 'x' }],
  'keys:add-recipient': [
    {},
    { armored: '-----BEGIN PGP'.padEnd(200, 'x'), label: 'a', role: 'desktop' },
    { armored: '-----BEGIN PGP'.padEnd(200, 'x'), label: '', role: 'other' },
  ],
  'keys:remove': [{}, { fingerprint: 'zz', force: false }, { fingerprint: 'A'.repeat(40) }, { fingerprint: 'A'.repeat(40), force: 'yes' }],
  'keys:export-public': [{}, { fingerprint: '../../etc' }],
  'keys:export-recovery': [
    {},
    { passphrase: 'x', path: 'relative.asc' },
    { passphrase: 'x', path: '/tmp/a\nb' },
    { passphrase: '', path: '/tmp/a.asc' },
  ],
  'keys:unlock': [{}, { passphrase: '' }],
};

function validProfile(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Home',
    host: 'misskey.example.com',
    port: 22,
    user: 'admin',
    auth: 'agent',
    domain: 'misskey.example.com',
    stackDir: '/var/servers/docker/misskey',
    ...patch,
  };
}

describe('contract validation through the dispatcher', () => {
  let services: Services;
  let dispatch: Dispatch;
  let cleanup: () => Promise<void>;
  const logged: string[] = [];

  beforeEach(async () => {
    const t = await makeTempDir();
    cleanup = t.cleanup;
    services = await createServices({ dataDir: t.dir, mode: 'browser', version: 'test', broadcast: () => {} });
    dispatch = createDispatch(services, (c) => logged.push(c));
  });
  afterEach(async () => cleanup());

  it('declares a schema for every channel and nothing else', () => {
    expect(Object.keys(schemas).sort()).toEqual([...CHANNELS].sort());
  });

  it.each(CHANNELS)('%s refuses arguments that are not one object', async (channel) => {
    for (const arg of NOT_OBJECTS) {
      const r = await dispatch(channel, arg);
      expect(r.ok, `${channel} accepted ${String(arg)}`).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('INVALID_ARGUMENT');
    }
  });

  it.each(Object.entries(MALFORMED))('%s refuses malformed shapes', async (channel, cases) => {
    for (const arg of cases) {
      const r = await dispatch(channel, arg);
      expect(r.ok, `${channel} accepted ${JSON.stringify(arg)}`).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('refuses unknown channels without calling anything', async () => {
    for (const name of ['', 'app', 'app:nope', 'profiles:list ', '__proto__', 'constructor', 'toString']) {
      const r = await dispatch(name, {});
      expect(r).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    }
  });

  it('accepts valid arguments and keeps serving after bad ones', async () => {
    await dispatch('profiles:save', { nope: 1 });
    const saved = await dispatch('profiles:save', validProfile());
    expect(saved.ok).toBe(true);
    const list = await dispatch('profiles:list', {});
    expect(list).toMatchObject({ ok: true, value: [{ name: 'Home', host: 'misskey.example.com' }] });
    expect(logged).toEqual([]);
  });

  it('turns a thrown AppError into data and an unexpected error into INTERNAL without the message', async () => {
    const r = await dispatch('jobs:cancel', { id: 'missing' });
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const broken = createDispatch(services, (c) => logged.push(c), {
      ...(await import('../../../src-main/ipc/handlers')).handlers,
      'app:info': async () => {
        throw new Error('secret detail /home/user/.ssh/id_ed25519');
      },
    });
    const r2 = await broken('app:info', {});
    expect(r2).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(r2)).not.toContain('secret detail');
    expect(logged).toEqual(['app:info']);
  });

  it('refuses to open links outside the allowlist', async () => {
    for (const url of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'http://misskey-hub.net/',
      'https://evil.example/',
      'smb://host/share',
    ]) {
      const r = await dispatch('shell:open-external', { url });
      expect(r.ok, url).toBe(false);
    }
  });
});
