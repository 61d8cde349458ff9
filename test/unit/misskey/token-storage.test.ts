import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InstanceService, misskeyTokenName } from '../../../src-main/services/misskey/instance-service';
import { ProfileStore } from '../../../src-main/services/profiles/profile-store';
import { SessionStore } from '../../../src-main/services/vault/session-store';
import { fakeFetch } from './fake-misskey';

describe('the Misskey token', () => {
  it('is kept in the secret store under profile:<id>:misskey-token, never in profiles.json, and goes with the profile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ohitori-token-'));
    try {
      const secrets = new SessionStore();
      const profiles = new ProfileStore(dir, secrets);
      const p = await profiles.save({
        name: 'home',
        host: '192.0.2.1',
        port: 22,
        user: 'me',
        auth: 'agent',
        domain: 'misskey.test',
        stackDir: '/var/servers/docker/misskey',
      });
      const { fetch } = fakeFetch((ep) => {
        if (ep === 'meta') return { status: 200, body: { version: '2026.5.4', requireSetup: false } };
        if (ep === 'i') return { status: 200, body: { username: 'admin' } };
        if (ep === 'admin/emoji/import-zip')
          return {
            status: 400,
            body: {
              error: { code: 'INVALID_PARAM', id: '3d81ceae-475f-4600-b2a8-2bc116157532', kind: 'client', message: 'Invalid param.' },
            },
          };
        return { status: 200, body: [] };
      });
      const svc = new InstanceService({ profiles, secrets, fetch });
      const st = await svc.connectToken(p.id, 'TOKEN-abcdefgh');
      expect(st).toMatchObject({ connected: true, tokenKind: 'native', username: 'admin' });
      expect(JSON.stringify(st)).not.toContain('TOKEN-abcdefgh');
      expect(JSON.parse((await secrets.get(misskeyTokenName(p.id)))!.toString()).token).toBe('TOKEN-abcdefgh');
      expect(await readFile(join(dir, 'profiles.json'), 'utf8')).not.toContain('TOKEN-abcdefgh');
      await profiles.delete(p.id);
      expect(await secrets.get(misskeyTokenName(p.id))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('MiAuth URLs carry the name and every permission the features need', async () => {
    const svc = new InstanceService({
      profiles: { get: async () => ({ domain: 'misskey.test' }) as never },
      secrets: new SessionStore(),
    });
    const { url, session } = await svc.miauthStart('p');
    const u = new URL(url);
    expect(`${u.origin}${u.pathname}`).toBe(`https://misskey.test/miauth/${session}`);
    expect(u.searchParams.get('permission')!.split(',')).toEqual(
      expect.arrayContaining(['write:admin:meta', 'write:admin:suspend-user', 'write:drive']),
    );
    await expect(svc.miauthCheck('other-profile', session)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
