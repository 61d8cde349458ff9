import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Path of the env file written by test/lab/up.sh. */
/** OHITORI_LAB_ENV: where a bundled caller (a benchmark) finds it, since import.meta moves with the bundle. */
export const LAB_ENV_PATH = process.env.OHITORI_LAB_ENV ?? resolve(import.meta.dirname, 'state/lab.env');

/** Server names of the lab: a = "the home server", b = "the fresh server" for disaster recovery. */
export type LabServerName = 'a' | 'b';
export const LAB_SERVER_NAMES: readonly LabServerName[] = ['a', 'b'];

/** One lab server: a network namespace + private mount namespace with its own sshd, dockerd, caddy. */
export interface LabServer {
  name: LabServerName;
  /** Address on the lab bridge (reachable from the host and the other server). */
  ip: string;
  sshPort: number;
  /** `SHA256:…` as `ssh-keygen -lf` prints it (ed25519 host key). */
  hostKeyFingerprint: string;
  hostKeyPubPath: string;
  /** Network namespace name (`ip netns`), e.g. ohlab-a. */
  netns: string;
  /** Persistent mount namespace file (for `nsenter --mount=`). */
  mountNs: string;
  /** DOCKER_HOST for this server's dockerd, usable from the host. */
  dockerHost: string;
  /** Host path under which the server's private view of /var/servers, /etc/caddy, /tmp, … lives. */
  root: string;
  /** HTTPS name Caddy serves for this server (tls internal, CA in LabEnv.caddyCaPath). */
  domain: string;
  /** sshd log (LogLevel VERBOSE): lets tests check what sshd saw. */
  sshdLog: string;
}

/** Typed view of test/lab/state/lab.env. */
export interface LabEnv {
  stateDir: string;
  runDir: string;
  logDir: string;
  bridge: string;
  hostIp: string;
  /** Key-only user in group docker with passwordless sudo. */
  admin: { user: string; keyPath: string; pubKeyPath: string };
  /** Password-auth user whose sudo requires the password; docker only through sudo. */
  pass: { user: string; password: string };
  servers: Record<LabServerName, LabServer>;
  /** Shared domain for restore tests (map it to a or b with resolver rules / --resolve). */
  restoreDomain: string;
  /** Root CA shared by both servers' Caddy (`tls internal`). */
  caddyCaPath: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  /** Registry mirror both dockerds pull through (`host:port`). */
  registry: string;
  images: string[];
  /** Which image stands behind misskey/misskey: the API double, or the /healthz placeholder. */
  webImageKind: 'double' | 'placeholder';
  chromiumPath: string;
  /** Every key as written, for anything not modelled above. */
  raw: Readonly<Record<string, string>>;
}

/** Parse shell-style KEY=value lines (optionally double-quoted values); comments and blanks ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** Build the typed view from raw keys; throws naming the first missing key. */
export function labEnvFromRecord(raw: Record<string, string>): LabEnv {
  const get = (k: string): string => {
    const v = raw[k];
    if (v === undefined || v === '') throw new Error(`lab.env has no ${k}: re-run npm run lab:up`);
    return v;
  };
  const server = (name: LabServerName): LabServer => {
    const p = `OHLAB_${name.toUpperCase()}_`;
    return {
      name,
      ip: get(`${p}IP`),
      sshPort: Number(get(`${p}SSH_PORT`)),
      hostKeyFingerprint: get(`${p}HOST_KEY_FP`),
      hostKeyPubPath: get(`${p}HOST_KEY_PUB`),
      netns: get(`${p}NETNS`),
      mountNs: get(`${p}MOUNTNS`),
      dockerHost: get(`${p}DOCKER_HOST`),
      root: get(`${p}ROOT`),
      domain: get(`${p}DOMAIN`),
      sshdLog: get(`${p}SSHD_LOG`),
    };
  };
  const kind = get('OHLAB_WEB_IMAGE_KIND');
  if (kind !== 'double' && kind !== 'placeholder') throw new Error(`lab.env: unknown OHLAB_WEB_IMAGE_KIND ${kind}`);
  return {
    stateDir: get('OHLAB_STATE_DIR'),
    runDir: get('OHLAB_RUN_DIR'),
    logDir: get('OHLAB_LOG_DIR'),
    bridge: get('OHLAB_BRIDGE'),
    hostIp: get('OHLAB_HOST_IP'),
    admin: { user: get('OHLAB_ADMIN_USER'), keyPath: get('OHLAB_ADMIN_KEY'), pubKeyPath: get('OHLAB_ADMIN_KEY_PUB') },
    pass: { user: get('OHLAB_PASS_USER'), password: get('OHLAB_PASS_PASSWORD') },
    servers: { a: server('a'), b: server('b') },
    restoreDomain: get('OHLAB_RESTORE_DOMAIN'),
    caddyCaPath: get('OHLAB_CADDY_CA'),
    s3: {
      endpoint: get('OHLAB_S3_ENDPOINT'),
      region: get('OHLAB_S3_REGION'),
      accessKeyId: get('OHLAB_S3_ACCESS_KEY'),
      secretAccessKey: get('OHLAB_S3_SECRET_KEY'),
      forcePathStyle: get('OHLAB_S3_FORCE_PATH_STYLE') === 'true',
    },
    registry: get('OHLAB_REGISTRY'),
    images: get('OHLAB_IMAGES').split(/\s+/).filter(Boolean),
    webImageKind: kind,
    chromiumPath: get('OHLAB_CHROMIUM'),
    raw,
  };
}

/**
 * Load the running lab's settings. Integration tests call this first, so a lab that is down fails
 * loudly ("lab is not up: run npm run lab:up") instead of tests skipping silently.
 */
export function loadLabEnv(path: string = LAB_ENV_PATH): LabEnv {
  if (!existsSync(path)) throw new Error(`lab is not up: run npm run lab:up (${path} is missing)`);
  const env = labEnvFromRecord(parseEnvFile(readFileSync(path, 'utf8')));
  // lab.env survives a reboot or a half-finished down; the namespaces do not.
  for (const s of LAB_SERVER_NAMES) {
    if (!existsSync(env.servers[s].mountNs) || !existsSync(join('/run/netns', env.servers[s].netns))) {
      throw new Error(`lab is not up: run npm run lab:up (server ${s}'s namespaces are gone; lab.env is stale)`);
    }
  }
  return env;
}
