import type { PreflightCheck, PreflightReport, ServerFacts } from '../../shared/setup';
import { isPrivateAddress, narrowestCidr } from './addresses';

const SUPPORTED: Readonly<Record<string, number>> = { ubuntu: 22.04, debian: 12, fedora: 38 };

function check(
  id: string,
  status: PreflightCheck['status'],
  values: Record<string, string> = {},
  fix?: PreflightCheck['fix'],
): PreflightCheck {
  return { id, status, messageKey: `preflight.${id}.${status}`, values, ...(fix ? { fix } : {}) };
}

function osCheck(f: ServerFacts): PreflightCheck {
  const min = SUPPORTED[f.osId];
  const values = { os: f.osName };
  if (f.osId.startsWith('opensuse')) return check('os', 'pass', values);
  if (min === undefined) return check('os', 'warn', values);
  return check('os', Number(f.osVersion) >= min ? 'pass' : 'warn', values);
}

function memoryCheck(f: ServerFacts): PreflightCheck {
  const values = { mem: String(f.memMb), swap: String(f.swapMb) };
  if (f.memMb + f.swapMb < 1024) return check('memory', 'fail', values);
  return check('memory', f.memMb < 2048 && f.swapMb < 1024 ? 'warn' : 'pass', values);
}

function portChecks(f: ServerFacts): PreflightCheck[] {
  const owner = (port: number, local?: boolean) =>
    f.listening.find((l) => l.port === port && (!local || ['127.0.0.1', '0.0.0.0', '::', '*'].includes(l.address)));
  const web = [80, 443].map((p) => owner(p)).filter((l) => l !== undefined);
  const foreign = web.filter((l) => l.program && l.program !== 'caddy');
  const out: PreflightCheck[] = [];
  if (f.listening.length === 0) out.push(check('ports', 'warn'));
  else if (foreign.length > 0)
    out.push(check('ports', 'fail', { programs: [...new Set(foreign.map((l) => `${l.program}:${l.port}`))].join(', ') }));
  else out.push(check('ports', 'pass'));
  const p3000 = owner(3000, true);
  // Our own stack's docker-proxy holds 3000 on a re-run; anything else is in the way.
  if (p3000 && !(f.existingStack && p3000.program === 'docker-proxy'))
    out.push(check('port3000', 'fail', { program: p3000.program ?? '?' }));
  else out.push(check('port3000', 'pass'));
  return out;
}

function dnsChecks(f: ServerFacts, domain: string, desktop: readonly string[]): { checks: PreflightCheck[]; allowed: string[] } {
  const checks: PreflightCheck[] = [];
  const publicDesktop = desktop.filter((a) => !isPrivateAddress(a));
  if (desktop.length === 0) checks.push(check('dns', 'warn', { domain }));
  else if (desktop.some((a) => f.addresses.includes(a))) checks.push(check('dns', 'pass', { domain, addresses: desktop.join(', ') }));
  else if (publicDesktop.length > 0) checks.push(check('dnsNat', 'warn', { domain, addresses: publicDesktop.join(', ') }));
  else checks.push(check('dnsLan', 'warn', { domain, addresses: desktop.join(', ') }));
  const lanSelf = f.serverResolves.filter(isPrivateAddress).filter((a) => !a.startsWith('127.') && a !== '::1');
  const allowed = lanSelf.map(narrowestCidr);
  if (lanSelf.length > 0) checks.push(check('homeNetwork', 'warn', { domain, addresses: lanSelf.join(', '), cidrs: allowed.join(', ') }));
  return { checks, allowed };
}

/** Turns the server's facts and the desktop's DNS answer into pass/warn/fail checks with reasons and fixes. */
export function preflightReport(facts: ServerFacts, domain: string, desktopResolves: readonly string[]): PreflightReport {
  const f = facts;
  const dns = dnsChecks(f, domain, desktopResolves);
  const checks: PreflightCheck[] = [
    osCheck(f),
    check('arch', ['x86_64', 'aarch64', 'arm64'].includes(f.arch) ? 'pass' : 'warn', { arch: f.arch }),
    memoryCheck(f),
    check('disk', f.diskFreeMb < 2048 ? 'fail' : f.diskFreeMb < 10240 ? 'warn' : 'pass', { free: String(Math.floor(f.diskFreeMb / 1024)) }),
    f.dockerVersion ? check('docker', 'pass', { version: f.dockerVersion }) : check('docker', 'fail'),
    f.compose
      ? check('compose', 'pass', { kind: f.compose.kind === 'v2' ? 'docker compose' : 'docker-compose', version: f.compose.version })
      : check('compose', 'fail'),
    check('dockerAccess', f.dockerAccess === 'direct' ? 'pass' : f.dockerAccess === 'sudo' ? 'warn' : 'fail', { user: f.user }),
    !f.caddyVersion
      ? check('caddy', 'fail', {}, f.packageManager ? 'install-caddy' : undefined)
      : check('caddy', f.caddyRunning ? 'pass' : 'warn', { version: f.caddyVersion }),
    check('firewalld', f.firewalld ? 'warn' : 'pass'),
    check('btrfs', f.fsType === 'btrfs' ? 'pass' : 'warn', { fs: f.fsType }, f.fsType === 'btrfs' ? 'create-subvolume' : undefined),
    ...portChecks(f),
    ...dns.checks,
    check('systemd', f.systemd ? 'pass' : 'warn'),
  ];
  return {
    facts,
    desktopResolves,
    checks,
    blocking: checks.some((c) => c.status === 'fail'),
    proposedAllowedPrivateNetworks: dns.allowed,
  };
}
