import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { AppError } from '../../shared/errors';
import type { HostKeyInfo } from './host-key-store';
import { commandLine, type Arg } from './shell-quote';
import type { SshTarget } from './ssh-connect';

export interface ExecOptions {
  /** Run through sudo (no-op as root). The password, when needed, goes on stdin, never argv. */
  readonly sudo?: boolean;
  readonly stdin?: Buffer | string | Readable;
  readonly signal?: AbortSignal;
  /** Lines of output as they come (for streaming logs into a job). */
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
  /** Output kept in the result, per stream; more is dropped from the front. */
  readonly maxOutput?: number;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecStream {
  readonly stdout: Readable;
  /** Resolves with the exit code and collected stderr when the command ends. */
  readonly done: Promise<{ code: number; stderr: string }>;
}

type SudoMode = 'root' | 'nopasswd' | 'password';

/**
 * The command's exit status. Node's stream machinery may emit 'close' as soon as both directions
 * ended, before the server's exit-status message is read, so a missing status at 'close' gets a
 * short grace period; ssh2's own close carries the code too.
 */
function exitOf(ch: ClientChannel): Promise<number> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (code: number): void => {
      if (timer) clearTimeout(timer);
      settled = true;
      resolve(code);
    };
    ch.once('exit', (c: number | null) => done(c ?? 255));
    ch.on('close', (c?: number | null) => {
      if (typeof c === 'number') return done(c);
      if (c === null) return done(255);
      if (settled) return;
      timer ??= setTimeout(() => reject(new AppError('CONNECTION_LOST', 'The command ended without an exit status')), 5000);
    });
  });
}

/**
 * One SSH connection. Commands are argument lists, quoted here; no PTY is ever requested (a TTY
 * rewrites bytes: LF→CRLF in dumps), and stdin is always closed so remote tools never wait.
 */
export class SshSession {
  private sudoMode: SudoMode | undefined;
  private sftpHandle: Promise<SFTPWrapper> | undefined;
  private readonly gone: Promise<void>;

  constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    readonly hostKey: HostKeyInfo,
  ) {
    client.setNoDelay(true);
    this.gone = new Promise((resolve) => client.once('close', () => resolve()));
  }

  /**
   * Resolves once the connection is gone (closed by either side, or lost). SFTP requests in flight
   * when the link is cut may never be answered; callers waiting on them race this.
   */
  closed(): Promise<void> {
    return this.gone;
  }

  /** How sudo is used on this server, detected once. */
  private async sudo(): Promise<SudoMode> {
    if (this.sudoMode) return this.sudoMode;
    if (this.target.user === 'root') return (this.sudoMode = 'root');
    const probe = await this.raw(['sudo', '-n', 'true'], {});
    if (probe.code === 0) return (this.sudoMode = 'nopasswd');
    if (this.target.sudoPassword) return (this.sudoMode = 'password');
    throw new AppError('AUTH_FAILED', `sudo on ${this.target.host} needs a password`, { sudo: 'password-required' });
  }

  private async prepare(argv: readonly Arg[], opts: ExecOptions): Promise<{ line: string; stdin?: ExecOptions['stdin']; prefix?: string }> {
    if (!opts.sudo) return { line: commandLine(argv), ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) };
    const mode = await this.sudo();
    if (mode === 'root') return { line: commandLine(argv), ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) };
    if (mode === 'nopasswd')
      return { line: commandLine(['sudo', '-n', '--', ...argv]), ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) };
    // -k: always ask, so the password line is always consumed by sudo and never reaches the command.
    return {
      line: commandLine(['sudo', '-S', '-k', '-p', '', '--', ...argv]),
      prefix: `${this.target.sudoPassword}\n`,
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    };
  }

  private openChannel(line: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(line, { pty: false }, (err, ch) => (err ? reject(new AppError('CONNECTION_LOST', err.message)) : resolve(ch)));
      } catch (e) {
        // ssh2 throws "Not connected" synchronously once the link is gone.
        reject(new AppError('CONNECTION_LOST', `The connection to ${this.target.host} is gone: ${(e as Error).message}`));
      }
    });
  }

  private static feed(ch: ClientChannel, prefix: string | undefined, stdin: ExecOptions['stdin']): void {
    if (prefix) ch.write(prefix);
    if (stdin === undefined) ch.end();
    else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) ch.end(stdin);
    else stdin.pipe(ch);
  }

  /** Runs a command without sudo handling (used for the sudo probe itself). */
  private async raw(argv: readonly Arg[], opts: ExecOptions): Promise<ExecResult> {
    return this.collect(commandLine(argv), undefined, opts);
  }

  private async collect(line: string, prefix: string | undefined, opts: ExecOptions): Promise<ExecResult> {
    const ch = await this.openChannel(line);
    const max = opts.maxOutput ?? 1 << 20;
    let out = '';
    let err = '';
    const keep = (acc: string, add: string): string => (acc.length + add.length > max ? (acc + add).slice(-max) : acc + add);
    return new Promise<ExecResult>((resolve, reject) => {
      const onAbort = (): void => {
        ch.close();
        reject(new AppError('CANCELLED', 'Cancelled'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      ch.on('data', (d: Buffer) => {
        const s = d.toString('utf8');
        out = keep(out, s);
        opts.onStdout?.(s);
      });
      ch.stderr.on('data', (d: Buffer) => {
        const s = d.toString('utf8');
        err = keep(err, s);
        opts.onStderr?.(s);
      });
      exitOf(ch).then(
        (code) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({ code, stdout: out, stderr: err });
        },
        (e: unknown) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
      SshSession.feed(ch, prefix, opts.stdin);
    });
  }

  /** Runs a command and collects its output; a non-zero exit is returned, not thrown. */
  async exec(argv: readonly Arg[], opts: ExecOptions = {}): Promise<ExecResult> {
    const p = await this.prepare(argv, opts);
    return this.collect(p.line, p.prefix, opts);
  }

  /** Like `exec`, but a non-zero exit throws REMOTE_COMMAND_FAILED with the end of stderr. */
  async check(argv: readonly Arg[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0) {
      throw new AppError('REMOTE_COMMAND_FAILED', `${String(argv[0] ?? '')} exited with ${r.code}: ${r.stderr.trim().slice(-500)}`, {
        code: r.code,
        stderr: r.stderr.slice(-2000),
      });
    }
    return r;
  }

  /** Runs a command whose stdout is data (a dump, an archive): a stream, byte for byte. */
  async stream(argv: readonly Arg[], opts: ExecOptions = {}): Promise<ExecStream> {
    const p = await this.prepare(argv, opts);
    const ch = await this.openChannel(p.line);
    const stdout = new PassThrough({ highWaterMark: 1 << 20 });
    ch.pipe(stdout);
    let stderr = '';
    ch.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-64 * 1024)));
    const done = new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      const onAbort = (): void => {
        ch.close();
        stdout.destroy(new AppError('CANCELLED', 'Cancelled'));
        reject(new AppError('CANCELLED', 'Cancelled'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      exitOf(ch).then(
        (code) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({ code, stderr });
        },
        (e: unknown) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
    SshSession.feed(ch, p.prefix, p.stdin);
    return { stdout, done };
  }

  /** The SFTP subsystem, opened once per connection. */
  sftp(): Promise<SFTPWrapper> {
    this.sftpHandle ??= new Promise((resolve, reject) => {
      try {
        this.client.sftp((err, s) => (err ? reject(new AppError('CONNECTION_LOST', `SFTP is not available: ${err.message}`)) : resolve(s)));
      } catch (e) {
        reject(new AppError('CONNECTION_LOST', `The connection to ${this.target.host} is gone: ${(e as Error).message}`));
      }
    });
    return this.sftpHandle;
  }

  close(): void {
    this.client.end();
  }
}
