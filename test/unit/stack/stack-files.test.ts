import { describe, expect, it } from 'vitest';
import { MASK, maskSecrets, maskText, renderStackFiles, stackDirectories } from '../../../src-main/services/stack/stack-files';
import { testModel } from './model-fixture';

const V2 = { kind: 'v2', path: '/usr/bin/docker' } as const;

describe('renderStackFiles', () => {
  it('lists every file with its path, mode, owner and secrecy', () => {
    const files = renderStackFiles(testModel(), V2);
    expect(files.map((f) => [f.path, f.mode, f.owner, f.secret])).toEqual([
      ['/var/servers/docker/misskey/compose.yml', '644', undefined, false],
      ['/var/servers/docker/misskey/.config/default.yml', '600', '991:991', true],
      ['/var/servers/docker/misskey/.config/docker.env', '600', undefined, true],
      ['/etc/caddy/Caddyfile', '644', undefined, false],
      ['/etc/systemd/system/misskey-stack.service', '644', undefined, false],
    ]);
  });

  it('leaves the unit out without systemd, and follows the stack dir', () => {
    const files = renderStackFiles(testModel({ systemd: false, stackDir: '/srv/mk' }), V2);
    expect(files.map((f) => f.path)).toEqual([
      '/srv/mk/compose.yml',
      '/srv/mk/.config/default.yml',
      '/srv/mk/.config/docker.env',
      '/etc/caddy/Caddyfile',
    ]);
  });

  it('secrets live only in the 600 files', () => {
    const m = testModel();
    for (const f of renderStackFiles(m, V2)) {
      const holds = f.content.includes(m.db.password) || f.content.includes(m.setupPassword);
      expect([f.path, holds]).toEqual([f.path, f.secret]);
      if (f.secret) expect(f.mode).toBe('600');
    }
  });

  it('directories: files/ belongs to the Misskey UID', () => {
    expect(stackDirectories(testModel())).toEqual([
      { path: '/var/servers/docker/misskey', mode: '755' },
      { path: '/var/servers/docker/misskey/.config', mode: '755' },
      { path: '/var/servers/docker/misskey/files', mode: '755', owner: '991:991' },
    ]);
  });
});

describe('maskSecrets (review step)', () => {
  it('shows the same text with every secret value replaced', () => {
    const m = testModel();
    for (const f of renderStackFiles(m, V2)) {
      const shown = maskSecrets(f);
      expect(shown.content).not.toContain(m.db.password);
      expect(shown.content).not.toContain(m.setupPassword);
      expect(shown.secretValues).toEqual([]);
      expect(shown.content.replaceAll(MASK, '')).toBe(f.content.replaceAll(m.db.password, '').replaceAll(m.setupPassword, ''));
      if (!f.secret) expect(shown.content).toBe(f.content);
    }
    const env = maskSecrets(renderStackFiles(m, V2)[2]!);
    expect(env.content).toContain(`POSTGRES_PASSWORD=${MASK}\n`);
    const yml = maskSecrets(renderStackFiles(m, V2)[1]!);
    expect(yml.content).toContain(`  pass: ${MASK}\n`);
    expect(yml.content).toContain(`setupPassword: ${MASK}\n`);
  });

  it('masks the longer secret first, so none is left half-visible', () => {
    expect(maskText('a=abcdefXYZ b=abcdef', ['abcdef', 'abcdefXYZ'])).toBe(`a=${MASK} b=${MASK}`);
    expect(maskText('nothing', [''])).toBe('nothing');
  });
});
