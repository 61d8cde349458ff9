import { Client, type ConnectConfig } from 'ssh2';
import { AppError } from '../../shared/errors';
import { algorithmOf, fingerprintOf, type HostKeyInfo, type HostKeyStore } from './host-key-store';
import { SshSession } from './ssh-session';

export type SshAuth =
  | { readonly kind: 'key'; readonly privateKey: Buffer | string; readonly passphrase?: string }
  | { readonly kind: 'agent'; readonly agentSocket: string }
  | { readonly kind: 'password'; readonly password: string };

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly auth: SshAuth;
  /** Used for `sudo -S` when the user is not root and sudo wants a password. */
  readonly sudoPassword?: string;
}

export interface ConnectOptions {
  readonly hostKeys: HostKeyStore;
  /** Asked on first contact; resolve true to trust and pin the key. */
  readonly confirmHostKey: (info: HostKeyInfo & { host: string; port: number }) => Promise<boolean>;
  readonly signal?: AbortSignal;
  /** Keepalive: a dead link is noticed after interval × (countMax + 1), 40 s by default. */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  readonly readyTimeoutMs?: number;
  /** Test hook: counts authentication attempts (a changed key must cause none). */
  readonly onAuthAttempt?: (method: string) => void;
  /** Connect through an existing stream (tests put a fault proxy here via host/port instead). */
  readonly sock?: ConnectConfig['sock'];
}

/** Maps ssh2/socket failures to the contract's codes, in words a user can act on. */
export function sshError(e: unknown, target: Pick<SshTarget, 'host' | 'port'>): AppError {
  if (e instanceof AppError) return e;
  const err = e as NodeJS.ErrnoException & { level?: string };
  const where = `${target.host}:${target.port}`;
  const code = err?.code ?? '';
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'].includes(code)) {
    return new AppError('HOST_UNREACHABLE', `Cannot reach ${where} (${code})`, { code });
  }
  if (err?.level === 'client-authentication') return new AppError('AUTH_FAILED', `The server at ${where} refused the sign-in`);
  if (err?.level === 'client-timeout' || /Timed out while waiting for handshake/i.test(err?.message ?? '')) {
    return new AppError('HOST_UNREACHABLE', `No SSH answer from ${where} in time`);
  }
  if (/Keepalive timeout|ECONNRESET|EPIPE|Not connected|No response from server/i.test(`${code} ${err?.message ?? ''}`)) {
    return new AppError('CONNECTION_LOST', `The connection to ${where} was lost`);
  }
  if (/Cannot parse privateKey|Encrypted private OpenSSH key detected|bad decrypt|Bad passphrase/i.test(err?.message ?? '')) {
    return new AppError('AUTH_FAILED', 'The private key could not be read (wrong passphrase or unsupported format)');
  }
  return new AppError('CONNECTION_LOST', `SSH to ${where} failed: ${err?.message ?? String(e)}`);
}

/**
 * Opens an SSH connection with the host key checked before any credential is sent: a pinned key
 * must match exactly (a change stops with HOST_KEY_CHANGED); an unknown key is shown to the user
 * and pinned only when accepted. No agent forwarding, keepalive on.
 */
export async function connectSsh(target: SshTarget, opts: ConnectOptions): Promise<SshSession> {
  const pinned = await opts.hostKeys.get(target.host, target.port);
  let hostKeyProblem: AppError | undefined;
  let seen: HostKeyInfo | undefined;
  const client = new Client();

  const authHandler = (methodsLeft: string[] | null, _partial: boolean | null, next: (m: unknown) => void): void => {
    if (methodsLeft !== null) return next(false); // one method only: ours failed
    opts.onAuthAttempt?.(target.auth.kind);
    const username = target.user;
    if (target.auth.kind === 'password') next({ type: 'password', username, password: target.auth.password });
    else if (target.auth.kind === 'agent') next({ type: 'agent', username, agent: target.auth.agentSocket });
    else
      next({
        type: 'publickey',
        username,
        key: target.auth.privateKey,
        ...(target.auth.passphrase ? { passphrase: target.auth.passphrase } : {}),
      });
  };

  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    agentForward: false,
    tryKeyboard: false,
    keepaliveInterval: opts.keepaliveIntervalMs ?? 10_000,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    authHandler: authHandler as unknown as ConnectConfig['authHandler'],
    ...(opts.sock ? { sock: opts.sock } : {}),
    hostVerifier: ((raw: Buffer, verify: (ok: boolean) => void) => {
      seen = { algorithm: algorithmOf(raw), fingerprint: fingerprintOf(raw) };
      if (pinned) {
        if (pinned.fingerprint === seen.fingerprint) return verify(true);
        hostKeyProblem = new AppError('HOST_KEY_CHANGED', `The host key of ${target.host} changed`, {
          expected: pinned.fingerprint,
          received: seen.fingerprint,
        });
        return verify(false);
      }
      const info = seen;
      opts
        .confirmHostKey({ ...info, host: target.host, port: target.port })
        .then(async (accepted) => {
          if (!accepted) {
            hostKeyProblem = new AppError('HOST_KEY_REJECTED', `The host key of ${target.host} was not trusted`);
            return verify(false);
          }
          await opts.hostKeys.pin(target.host, target.port, info);
          verify(true);
        })
        .catch((e: unknown) => {
          hostKeyProblem = e instanceof AppError ? e : new AppError('HOST_KEY_REJECTED', 'The host key was not confirmed');
          verify(false);
        });
    }) as unknown as ConnectConfig['hostVerifier'],
  };

  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      client.destroy();
      reject(new AppError('CANCELLED', 'Cancelled'));
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    client.once('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      client.destroy();
      reject(hostKeyProblem ?? sshError(e, target));
    });
    client.connect(config);
  });
  return new SshSession(client, target, seen!);
}
