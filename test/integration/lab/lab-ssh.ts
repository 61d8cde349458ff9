import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, type AnyAuthMethod, type SFTPWrapper } from 'ssh2';
import type { LabEnv, LabServerName } from '../../lab/env';

/** `SHA256:<base64 without padding>` of a raw host key, as `ssh-keygen -lf` prints it. */
export function sshFingerprint(rawKey: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '');
}

/** A connected ssh2 client plus what the smoke tests observe about the handshake. */
export interface LabSsh {
  client: Client;
  /** Local TCP port of the connection (to find it in the sshd log). */
  localPort: number;
  authCalls: number;
}

/** Who logs in: the key-only admin or the password user. */
export type LabUser = 'admin' | 'pass';

/**
 * Connect to a lab server with its host key pinned through `hostVerifier` (the key is checked
 * before any authentication). `fingerprint` overrides the expected one (to test refusal).
 */
export async function labSsh(
  env: LabEnv,
  server: LabServerName,
  opts: {
    user?: LabUser;
    fingerprint?: string;
    stats?: { authCalls: number; localPort: number };
    /** Connect here instead (e.g. a fault proxy in front of the server's sshd). */
    via?: { host: string; port: number };
    keepaliveInterval?: number;
  } = {},
): Promise<LabSsh> {
  const s = env.servers[server];
  const expected = opts.fingerprint ?? s.hostKeyFingerprint;
  const user = opts.user ?? 'admin';
  const stats = opts.stats ?? { authCalls: 0, localPort: 0 };
  const sock: Socket = netConnect(opts.via ?? { host: s.ip, port: s.sshPort });
  await new Promise<void>((res, rej) => {
    sock.once('connect', () => res());
    sock.once('error', rej);
  });
  stats.localPort = sock.localPort ?? 0;
  const method: AnyAuthMethod =
    user === 'admin'
      ? { type: 'publickey', username: env.admin.user, key: readFileSync(env.admin.keyPath) }
      : { type: 'password', username: env.pass.user, password: env.pass.password };
  let offered = false;
  const client = new Client();
  await new Promise<void>((res, rej) => {
    client.once('ready', () => res());
    client.once('error', rej);
    client.connect({
      sock,
      username: user === 'admin' ? env.admin.user : env.pass.user,
      readyTimeout: 20_000,
      keepaliveInterval: opts.keepaliveInterval ?? 0,
      keepaliveCountMax: 2,
      hostVerifier: (key: Buffer) => sshFingerprint(key) === expected,
      authHandler: (_left, _partial, next) => {
        stats.authCalls++;
        if (offered) return next(false as unknown as AnyAuthMethod); // ssh2: false = no more methods
        offered = true;
        next(method);
      },
    });
  });
  return { client, localPort: stats.localPort, authCalls: stats.authCalls };
}

/** Result of a remote command. */
export interface ExecResult {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Run a command over SSH (no PTY); `stdin` is written and then closed (empty stdin otherwise). */
export function sshExec(client: Client, command: string, stdin?: Buffer | string): Promise<ExecResult> {
  return new Promise((res, rej) => {
    client.exec(command, (err, ch) => {
      if (err) return rej(err);
      const out: Buffer[] = [];
      const errb: Buffer[] = [];
      let code: number | null = null;
      ch.on('data', (b: Buffer) => out.push(b));
      ch.stderr.on('data', (b: Buffer) => errb.push(b));
      ch.on('exit', (c: number | null) => (code = c));
      ch.on('close', () => res({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errb) }));
      ch.end(stdin);
    });
  });
}

/** sshExec that throws with the remote stderr unless the exit code is 0. */
export async function sshCheck(client: Client, command: string, stdin?: Buffer | string): Promise<string> {
  const r = await sshExec(client, command, stdin);
  if (r.code !== 0) throw new Error(`remote command failed (rc ${r.code}): ${command}\n${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

/** Open the SFTP subsystem. */
export function sftpOf(client: Client): Promise<SFTPWrapper> {
  return new Promise((res, rej) => client.sftp((err, sftp) => (err ? rej(err) : res(sftp))));
}

/** Unique, test-scoped name (stacks, buckets, files) so concurrent tests never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

const LAB_DIR = resolve(import.meta.dirname, '../../lab');

/** Switch which Compose spelling server `server` offers (test/lab/compose-variant.sh). */
export async function setComposeVariant(server: LabServerName, variant: 'both' | 'v1-only' | 'v2-only'): Promise<void> {
  await promisify(execFile)('bash', [resolve(LAB_DIR, 'compose-variant.sh'), server, variant]);
}

/** Poll `fn` until it returns true or `ms` pass; the last error/false becomes the failure message. */
export async function waitFor(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
