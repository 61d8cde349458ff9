import { describe, expect, it } from 'vitest';
import { diagnoseLogs } from '../../../src-main/services/setup/diagnose';
import { en } from '../../../src-renderer/i18n/en';
import { ja } from '../../../src-renderer/i18n/ja';

/** Log lines as Misskey, Docker and PostgreSQL print them in these failures. */
const CASES: ReadonlyArray<readonly [string, string]> = [
  ['web_1  | ERR *  [core boot]     Error: getaddrinfo ENOTFOUND db', 'dbUnreachable'],
  ['web-1  | Error: connect ECONNREFUSED 172.20.0.3:5432', 'dbUnreachable'],
  ["web_1  | Error: EACCES: permission denied, open '/misskey/files/abc'", 'filesOwnership'],
  ['Error starting userland proxy: listen tcp4 127.0.0.1:3000: bind: address already in use', 'portInUse'],
  ['Bind for 127.0.0.1:3000 failed: port is already allocated', 'portInUse'],
  ['Error response from daemon: pull access denied for misskey/misskey, repository does not exist', 'imagePull'],
  ['Error response from daemon: manifest for misskey/misskey:9999.1.1 not found: manifest unknown', 'imagePull'],
  ['db_1 | could not write to file "pg_wal/xlogtemp.29": No space left on device', 'diskFull'],
  ['db_1 | FATAL:  database files are incompatible with server', 'postgresMajor'],
];

describe('diagnosing a failed first start', () => {
  it.each(CASES)('%s → %s', (line, key) => {
    expect(diagnoseLogs(`some noise\n${line}\nmore noise`)).toContain(key);
  });

  it('says nothing about healthy logs', () => {
    expect(diagnoseLogs('web_1 | Now listening on port 3000 on http://[::]:3000\ndb_1 | database system is ready')).toEqual([]);
  });

  it('has words for every diagnosis in both languages', () => {
    for (const [, key] of CASES) {
      expect(en.setup.diagnosis).toHaveProperty(key);
      expect(ja.setup.diagnosis).toHaveProperty(key);
    }
  });
});

describe('preflight fixes', () => {
  it('installs Caddy with the server’s own package manager, non-interactively', async () => {
    const { fixCommand } = await import('../../../src-main/services/setup/preflight-fixes');
    expect(fixCommand('install-caddy', { packageManager: 'apt' }, '/s')).toEqual([
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      'install',
      '-y',
      '--no-install-recommends',
      'caddy',
    ]);
    expect(fixCommand('install-caddy', { packageManager: 'dnf' }, '/s')).toEqual(['dnf', 'install', '-y', 'caddy']);
    expect(fixCommand('install-caddy', { packageManager: 'zypper' }, '/s')).toEqual(['zypper', '--non-interactive', 'install', 'caddy']);
    expect(() => fixCommand('install-caddy', {}, '/s')).toThrow(/package manager/);
    expect(fixCommand('create-subvolume', {}, '/var/servers/docker/misskey')).toEqual([
      'btrfs',
      'subvolume',
      'create',
      '/var/servers/docker/misskey',
    ]);
  });
});
