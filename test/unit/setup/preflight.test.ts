import { describe, expect, it } from 'vitest';
import type { ServerFacts } from '../../../src-main/shared/setup';
import { isPrivateAddress, narrowestCidr } from '../../../src-main/services/setup/addresses';
import { preflightReport } from '../../../src-main/services/setup/preflight-rules';
import { factsFrom, parseFacts, parseListen } from '../../../src-main/services/setup/server-facts';
import { en } from '../../../src-renderer/i18n/en';
import { ja } from '../../../src-renderer/i18n/ja';

const GOOD: ServerFacts = {
  osId: 'ubuntu',
  osVersion: '24.04',
  osName: 'Ubuntu 24.04 LTS',
  arch: 'x86_64',
  memMb: 4096,
  swapMb: 2048,
  diskFreeMb: 50_000,
  fsType: 'ext2/ext3',
  user: 'admin',
  dockerVersion: '27.3.1',
  dockerAccess: 'direct',
  compose: { kind: 'v2', version: '2.29.7' },
  caddyVersion: 'v2.8.4',
  caddyRunning: true,
  systemd: true,
  firewalld: false,
  packageManager: 'apt',
  listening: [
    { address: '0.0.0.0', port: 22, program: 'sshd' },
    { address: '*', port: 80, program: 'caddy' },
    { address: '*', port: 443, program: 'caddy' },
  ],
  addresses: ['127.0.0.1', '203.0.113.7'],
  serverResolves: ['203.0.113.7'],
  existingStack: false,
};

const byId = (r: ReturnType<typeof preflightReport>) => Object.fromEntries(r.checks.map((c) => [c.id, c]));

function lookup(tree: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((t, k) => (t as Record<string, unknown> | undefined)?.[k], tree);
}

describe('preflight rules', () => {
  it('passes a well-prepared server', () => {
    const r = preflightReport(GOOD, 'misskey.example.com', ['203.0.113.7']);
    expect(r.blocking).toBe(false);
    expect(r.checks.filter((c) => c.status !== 'pass' && c.id !== 'btrfs')).toEqual([]);
    expect(r.proposedAllowedPrivateNetworks).toEqual([]);
  });

  it('blocks on what setup cannot work around, and offers the fixes it can apply', () => {
    const r = preflightReport(
      {
        ...GOOD,
        dockerVersion: undefined,
        dockerAccess: 'none',
        compose: undefined,
        caddyVersion: undefined,
        caddyRunning: false,
        diskFreeMb: 1000,
        memMb: 512,
        swapMb: 0,
      },
      'misskey.example.com',
      [],
    );
    const c = byId(r);
    expect(r.blocking).toBe(true);
    expect(c.docker!.status).toBe('fail');
    expect(c.compose!.status).toBe('fail');
    expect(c.dockerAccess!.status).toBe('fail');
    expect(c.caddy).toMatchObject({ status: 'fail', fix: 'install-caddy' });
    expect(c.disk!.status).toBe('fail');
    expect(c.memory!.status).toBe('fail');
    expect(c.dns!.status).toBe('warn');
  });

  it('names the program holding 80/443, but accepts Caddy and our own stack on 3000', () => {
    const nginx = preflightReport(
      {
        ...GOOD,
        listening: [
          { address: '0.0.0.0', port: 80, program: 'nginx' },
          { address: '127.0.0.1', port: 3000, program: 'node' },
        ],
      },
      'm.example.com',
      [],
    );
    expect(byId(nginx).ports).toMatchObject({ status: 'fail', values: { programs: 'nginx:80' } });
    expect(byId(nginx).port3000).toMatchObject({ status: 'fail', values: { program: 'node' } });
    const rerun = preflightReport(
      { ...GOOD, existingStack: true, listening: [...GOOD.listening, { address: '127.0.0.1', port: 3000, program: 'docker-proxy' }] },
      'm.example.com',
      [],
    );
    expect(byId(rerun).port3000!.status).toBe('pass');
  });

  it('switches to the firewalld variant and Btrfs subvolume with a warning, not a failure', () => {
    const r = preflightReport({ ...GOOD, firewalld: true, fsType: 'btrfs' }, 'm.example.com', []);
    expect(byId(r).firewalld!.status).toBe('warn');
    expect(byId(r).btrfs).toMatchObject({ status: 'pass', fix: 'create-subvolume' });
    expect(r.blocking).toBe(false);
  });

  it('recognises the home network cases and proposes only the narrowest allowedPrivateNetworks', () => {
    const natted = preflightReport({ ...GOOD, addresses: ['192.168.1.20'], serverResolves: ['198.51.100.9'] }, 'm.example.com', [
      '198.51.100.9',
    ]);
    expect(byId(natted).dnsNat!.status).toBe('warn');
    expect(natted.proposedAllowedPrivateNetworks).toEqual([]);
    const splitHorizon = preflightReport({ ...GOOD, addresses: ['192.168.1.20'], serverResolves: ['192.168.1.20'] }, 'm.example.com', [
      '192.168.1.20',
    ]);
    expect(byId(splitHorizon).dns!.status).toBe('pass');
    expect(byId(splitHorizon).homeNetwork).toMatchObject({ status: 'warn', values: { cidrs: '192.168.1.20/32' } });
    expect(splitHorizon.proposedAllowedPrivateNetworks).toEqual(['192.168.1.20/32']);
    const lanFromDesktop = preflightReport({ ...GOOD, addresses: ['192.168.1.20'] }, 'm.example.com', ['192.168.1.1']);
    expect(byId(lanFromDesktop).dnsLan!.status).toBe('warn');
  });

  it('has words in both languages for every message it can produce', () => {
    const variants: ServerFacts[] = [
      GOOD,
      {
        ...GOOD,
        osId: 'arch',
        arch: 'riscv64',
        memMb: 1500,
        swapMb: 0,
        diskFreeMb: 5000,
        dockerAccess: 'sudo',
        caddyRunning: false,
        firewalld: true,
        fsType: 'btrfs',
        systemd: false,
        listening: [],
      },
      {
        ...GOOD,
        osVersion: '20.04',
        memMb: 100,
        diskFreeMb: 10,
        dockerVersion: undefined,
        dockerAccess: 'none',
        compose: undefined,
        caddyVersion: undefined,
      },
      {
        ...GOOD,
        listening: [
          { address: '0.0.0.0', port: 443, program: 'apache2' },
          { address: '127.0.0.1', port: 3000, program: 'x' },
        ],
        serverResolves: ['10.0.0.5'],
      },
    ];
    const dns = [[], ['203.0.113.7'], ['198.51.100.1'], ['192.168.0.1']];
    for (const f of variants)
      for (const d of dns)
        for (const c of preflightReport(f, 'm.example.com', d).checks) {
          for (const tree of [en, ja]) {
            const text = lookup(tree, c.messageKey);
            expect(typeof text, c.messageKey).toBe('string');
            for (const m of String(text).matchAll(/{{(\w+)}}/g)) expect(c.values, `${c.messageKey} needs ${m[1]}`).toHaveProperty(m[1]!);
          }
        }
  });
});

describe('server facts parsing', () => {
  it('reads the probe output, including sockets in every notation', () => {
    const user = parseFacts(
      [
        'os_id=debian',
        'os_version=12',
        'os_name=Debian GNU/Linux 12 (bookworm)',
        'arch=x86_64',
        'mem_kb=4000000',
        'swap_kb=0',
        'disk_free_kb=20971520',
        'fs_type=btrfs',
        'user=me',
        'compose_v1=1.29.2',
        'pkg=apt-get',
        'addr=127.0.0.1',
        'addr=10.0.0.2',
        'resolves=10.0.0.2',
        'junk line',
      ].join('\n'),
    );
    const root = parseFacts(
      ['listen=0.0.0.0:22 sshd', 'listen=[::]:443 caddy', 'listen=127.0.0.1:3000 docker-proxy', 'docker_sudo=20.10.24'].join('\n'),
    );
    const f = factsFrom(user, root);
    expect(f).toMatchObject({
      osId: 'debian',
      memMb: 3906,
      diskFreeMb: 20480,
      fsType: 'btrfs',
      dockerAccess: 'sudo',
      dockerVersion: '20.10.24',
      compose: { kind: 'v1' },
      packageManager: 'apt',
    });
    expect(f.listening).toEqual([
      { address: '0.0.0.0', port: 22, program: 'sshd' },
      { address: '::', port: 443, program: 'caddy' },
      { address: '127.0.0.1', port: 3000, program: 'docker-proxy' },
    ]);
    expect(parseListen('*:80')).toEqual({ address: '*', port: 80 });
    expect(factsFrom(user, undefined).dockerAccess).toBe('none');
  });

  it('classifies addresses', () => {
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '127.0.0.1', '100.64.0.1', 'fd00::1', '::1', 'fe80::1'])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '172.32.0.1', '203.0.113.7', '2001:db8::1', 'not-an-ip']) expect(isPrivateAddress(a), a).toBe(false);
    expect(narrowestCidr('192.168.1.20')).toBe('192.168.1.20/32');
    expect(narrowestCidr('fd00::5')).toBe('fd00::5/128');
  });
});
