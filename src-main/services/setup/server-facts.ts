import type { ServerFacts } from '../../shared/setup';
import { script } from '../ssh/shell-quote';
import type { SshSession } from '../ssh/ssh-session';

/**
 * One round trip that reports what setup needs to know, as `key=value` lines. Values arrive as
 * `$1` (stack dir) and `$2` (domain); nothing is pasted into the script. Every probe tolerates a
 * missing tool: a bare server must still produce a report that says what is missing.
 */
const FACTS_SCRIPT = script(
  ...[
    'stack=$1; domain=$2',
    'if [ -r /etc/os-release ]; then . /etc/os-release; fi',
    'echo "os_id=${ID:-unknown}"; echo "os_version=${VERSION_ID:-}"; echo "os_name=${PRETTY_NAME:-unknown}"',
    'echo "arch=$(uname -m)"',
    `awk '/^MemTotal:/{print "mem_kb="$2} /^SwapTotal:/{print "swap_kb="$2}' /proc/meminfo 2>/dev/null`,
    'd=$stack; while [ ! -e "$d" ]; do d=$(dirname -- "$d"); done',
    `df -Pk -- "$d" 2>/dev/null | awk 'NR==2{print "disk_free_kb="$4}'`,
    'echo "fs_type=$(stat -f -c %T -- "$d" 2>/dev/null)"',
    'echo "user=$(id -un)"',
    'if [ -e "$stack/.config/default.yml" ]; then echo existing_stack=1; fi',
    'if command -v docker >/dev/null 2>&1; then',
    `  v=$(docker version --format '{{.Server.Version}}' 2>/dev/null) && echo "docker_direct=$v"`,
    '  v=$(docker compose version --short 2>/dev/null) && echo "compose_v2=$v"',
    'fi',
    'if command -v docker-compose >/dev/null 2>&1; then v=$(docker-compose version --short 2>/dev/null) && echo "compose_v1=$v"; fi',
    'if command -v caddy >/dev/null 2>&1; then echo "caddy=$(caddy version 2>/dev/null | head -n1)"; fi',
    'if pgrep -x caddy >/dev/null 2>&1; then echo caddy_running=1; fi',
    'if [ -d /run/systemd/system ]; then echo systemd=1; fi',
    'if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state 2>/dev/null | grep -q running; then echo firewalld=1; fi',
    'for p in apt-get dnf zypper; do if command -v $p >/dev/null 2>&1; then echo "pkg=$p"; break; fi; done',
    `if command -v ip >/dev/null 2>&1; then ip -o addr show 2>/dev/null | awk '{split($4,a,"/"); print "addr="a[1]}'; fi`,
    `getent ahosts "$domain" 2>/dev/null | awk '{print "resolves="$1}' | sort -u`,
  ],
);

/** Run through sudo: which programs listen where (names need root), and docker via sudo. */
const ROOT_SCRIPT = script(
  ...[
    `ss -ltnpH 2>/dev/null | awk '{prog=""; if (match($0, /users:\\(\\("[^"]+"/)) prog=substr($0, RSTART+9, RLENGTH-10); print "listen="$4" "prog}'`,
    'if command -v docker >/dev/null 2>&1; then',
    `  v=$(docker version --format '{{.Server.Version}}' 2>/dev/null) && echo "docker_sudo=$v"`,
    'fi',
  ],
);

type Raw = Map<string, string[]>;

export function parseFacts(text: string): Raw {
  const out: Raw = new Map();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    out.set(k, [...(out.get(k) ?? []), line.slice(i + 1).trim()]);
  }
  return out;
}

const one = (r: Raw, k: string): string | undefined => r.get(k)?.[0];
const num = (r: Raw, k: string): number => Number(one(r, k) ?? 0) || 0;

/** `0.0.0.0:80`, `[::]:443`, `127.0.0.1:3000`, `*:80` → address and port. */
export function parseListen(v: string): { address: string; port: number; program?: string } | undefined {
  const [sock, program] = v.split(' ');
  const m = /^(.*):(\d+)$/.exec(sock ?? '');
  if (!m) return undefined;
  return { address: m[1]!.replace(/^\[|\]$/g, '').replace(/%.*$/, ''), port: Number(m[2]), ...(program ? { program } : {}) };
}

/** Builds the facts from the two reports (the root one may be absent when sudo is impossible). */
export function factsFrom(user: Raw, root: Raw | undefined): ServerFacts {
  const v2 = one(user, 'compose_v2');
  const v1 = one(user, 'compose_v1');
  const direct = one(user, 'docker_direct');
  const viaSudo = root ? one(root, 'docker_sudo') : undefined;
  const pkg = one(user, 'pkg');
  const listenSource = root?.get('listen') ?? [];
  return {
    osId: one(user, 'os_id') ?? 'unknown',
    osVersion: one(user, 'os_version') ?? '',
    osName: one(user, 'os_name') ?? 'unknown',
    arch: one(user, 'arch') ?? 'unknown',
    memMb: Math.round(num(user, 'mem_kb') / 1024),
    swapMb: Math.round(num(user, 'swap_kb') / 1024),
    diskFreeMb: Math.round(num(user, 'disk_free_kb') / 1024),
    fsType: one(user, 'fs_type') ?? 'unknown',
    user: one(user, 'user') ?? '',
    ...(direct || viaSudo ? { dockerVersion: (direct ?? viaSudo)! } : {}),
    dockerAccess: direct ? 'direct' : viaSudo ? 'sudo' : 'none',
    ...(v2 ? { compose: { kind: 'v2' as const, version: v2 } } : v1 ? { compose: { kind: 'v1' as const, version: v1 } } : {}),
    ...(one(user, 'caddy') ? { caddyVersion: one(user, 'caddy')! } : {}),
    caddyRunning: one(user, 'caddy_running') === '1',
    systemd: one(user, 'systemd') === '1',
    firewalld: one(user, 'firewalld') === '1',
    ...(pkg === 'apt-get' ? { packageManager: 'apt' as const } : pkg === 'dnf' || pkg === 'zypper' ? { packageManager: pkg } : {}),
    listening: listenSource.map(parseListen).filter((x): x is NonNullable<typeof x> => x !== undefined),
    addresses: user.get('addr') ?? [],
    serverResolves: user.get('resolves') ?? [],
    existingStack: one(user, 'existing_stack') === '1',
  };
}

/** Gathers the server's facts over SSH: one plain exec and one through sudo. */
export async function gatherServerFacts(session: SshSession, stackDir: string, domain: string, signal?: AbortSignal): Promise<ServerFacts> {
  const userRun = await session.exec(['sh', '-c', FACTS_SCRIPT, 'ohitori-facts', stackDir, domain], signal ? { signal } : {});
  let root: Raw | undefined;
  try {
    const r = await session.exec(['sh', '-c', ROOT_SCRIPT], { sudo: true, ...(signal ? { signal } : {}) });
    if (r.code === 0) root = parseFacts(r.stdout);
  } catch {
    root = undefined; // no sudo: the report says docker/ports could not be checked as root
  }
  return factsFrom(parseFacts(userRun.stdout), root);
}
