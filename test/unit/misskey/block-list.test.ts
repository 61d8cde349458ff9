import { describe, expect, it } from 'vitest';
import {
  mergeBlockedHosts,
  normalizeHost,
  previewBlockImport,
  readBlockListEntries,
  sameHostList,
} from '../../../src-main/services/misskey/block-list';
import { InstanceService } from '../../../src-main/services/misskey/instance-service';
import { SessionStore } from '../../../src-main/services/vault/session-store';
import type { ServerProfile } from '../../../src-main/shared/domain';
import { fakeFetch } from './fake-misskey';

describe('block list parsing', () => {
  it('normalises hosts the way Misskey compares them', () => {
    expect(normalizeHost('  Spam.Example.  ')).toBe('spam.example');
    expect(normalizeHost('https://Bad.Example:8443/about')).toBe('bad.example');
    expect(normalizeHost('*.wild.example')).toBe('wild.example');
    expect(normalizeHost('日本語.example')).toBe('xn--wgv71a119e.example');
    for (const bad of ['', 'localhost', 'not a host', 'foo_bar.example', '-x.example', 'a..b', '10.0.0.1', 'ex*mple.com'])
      expect(normalizeHost(bad), bad).toBeNull();
  });

  it('1,000 lines with duplicates, invalid lines and hosts already blocked → exact counts', () => {
    const current = Array.from({ length: 50 }, (_, i) => `blocked${i}.example`);
    const lines: string[] = ['# exported block list', ''];
    for (let i = 0; i < 600; i++) lines.push(`host${i}.example`);
    for (let i = 0; i < 200; i++) lines.push(i % 2 ? `HOST${i}.Example.` : `  host${i}.example  `);
    for (let i = 0; i < 150; i++) lines.push(i % 3 === 0 ? `not a host ${i}` : i % 3 === 1 ? `under_score${i}.example` : `${i}`);
    for (let i = 0; i < 50; i++) lines.push(`Blocked${i}.example`);
    lines.push('', '# end');
    const p = previewBlockImport(lines.join('\r\n'), current);
    expect(p.total).toBe(1000);
    expect(p.added).toHaveLength(600);
    expect(p.duplicates).toBe(200);
    expect(p.invalid).toBe(150);
    expect(p.alreadyBlocked).toBe(50);
    expect(p.added[0]).toBe('host0.example');
    expect(p.samples).toHaveLength(50);
    expect(p.samples[0]).toMatchObject({ line: 603, reason: 'duplicate-in-file' });
    expect(p.base).toEqual(current);
  });

  it('reads Mastodon’s CSV export by its #domain column, quoted commas included', () => {
    const csv = [
      '#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate',
      'bad.example,suspend,false,false,"spam, lots of it",false',
      '"quoted.example",silence,true,false,,false',
      'ex*mple.com,suspend,false,false,,true',
    ].join('\n');
    expect(readBlockListEntries(csv).map((e) => e.text)).toEqual(['bad.example', 'quoted.example', 'ex*mple.com']);
    const p = previewBlockImport(csv, []);
    expect(p).toMatchObject({ added: ['bad.example', 'quoted.example'], invalid: 1, total: 3 });
    expect(previewBlockImport('domain,severity\nplain.example,suspend\n', []).added).toEqual(['plain.example']);
  });
});

describe('merge and conflict detection', () => {
  it('merges without touching existing entries and removes case-insensitively', () => {
    expect(mergeBlockedHosts([' upper.example ', 'a.example'], ['b.example', 'A.EXAMPLE'], ['UPPER.example'])).toEqual([
      'a.example',
      'b.example',
    ]);
    expect(mergeBlockedHosts(['a.example'], [], [])).toEqual(['a.example']);
  });

  it('compares lists as sets of exact entries', () => {
    expect(sameHostList(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(sameHostList(['a'], ['a', 'b'])).toBe(false);
    expect(sameHostList(['a', 'c'], ['a', 'b'])).toBe(false);
  });

  const profile: ServerProfile = {
    id: 'p1',
    name: 'home',
    host: '127.0.0.1',
    port: 22,
    user: 'me',
    auth: 'agent',
    domain: 'misskey.test',
    stackDir: '/var/servers/docker/misskey',
    hasSecret: false,
    createdAt: '',
    updatedAt: '',
  };

  /** A fake instance; `afterWrite` lets another admin write right after our update-meta. */
  async function setup(list: string[], afterWrite?: (l: string[]) => string[]) {
    const { fetch, calls } = fakeFetch((ep, body) => {
      if (ep === 'admin/meta') return { status: 200, body: { blockedHosts: list, version: '2026.5.4' } };
      if (ep === 'admin/update-meta') {
        list = (body.blockedHosts as string[]).filter((h) => h !== '').map((h) => h.toLowerCase());
        if (afterWrite) list = afterWrite(list);
        return { status: 204 };
      }
      return { status: 404, body: { message: `Route POST:/api/${ep} not found`, error: 'Not Found', statusCode: 404 } };
    });
    const secrets = new SessionStore();
    await secrets.set(
      'profile:p1:misskey-token',
      Buffer.from(JSON.stringify({ token: 't', kind: 'native', permissions: [], native: true })),
    );
    const svc = new InstanceService({ profiles: { get: async () => profile }, secrets, fetch });
    return { svc, calls, get: () => list, set: (l: string[]) => (list = l) };
  }

  it('writes the merged list when nothing changed elsewhere', async () => {
    const f = await setup(['a.example']);
    expect(await f.svc.updateBlockedHosts('p1', { expected: ['a.example'], add: ['B.example'] })).toEqual(['a.example', 'b.example']);
  });

  it('refuses, writes nothing and returns the new list when it changed since the user loaded it', async () => {
    const f = await setup(['a.example']);
    f.set(['a.example', 'other-admin.example']);
    const e = await f.svc.updateBlockedHosts('p1', { expected: ['a.example'], add: ['b.example'] }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'MISSKEY_CHANGED_ELSEWHERE', details: { current: ['a.example', 'other-admin.example'] } });
    expect(f.calls.some((c) => c.endpoint === 'admin/update-meta')).toBe(false);
    expect(f.get()).toEqual(['a.example', 'other-admin.example']);
  });

  it('notices, when reading back, a write that landed right after its own', async () => {
    const f = await setup(['a.example'], (l) => [...l, 'racer.example']);
    const e = await f.svc.updateBlockedHosts('p1', { expected: ['a.example'], add: ['c.example'] }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'MISSKEY_CHANGED_ELSEWHERE', details: { current: ['a.example', 'c.example', 'racer.example'] } });
  });

  it('rejects a host that is not a host before calling Misskey', async () => {
    const f = await setup([]);
    await expect(f.svc.updateBlockedHosts('p1', { expected: [], add: ['not a host'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(f.calls).toHaveLength(0);
  });
});
