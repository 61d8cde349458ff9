import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway GnuPG home (real /usr/bin/gpg), with loopback pinentry fed from a passphrase file. */
export interface GpgHome {
  readonly dir: string;
  gpg(args: readonly string[], opts?: { input?: string | Buffer; cwd?: string }): Promise<{ stdout: Buffer; stderr: string }>;
  /** Runs a shell script with GNUPGHOME set. */
  sh(script: string, cwd: string): Promise<{ stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function makeGpgHome(passphrase?: string): Promise<GpgHome> {
  const dir = await mkdtemp(join(tmpdir(), 'ohitori-gpg-'));
  const conf = ['batch', 'no-tty', 'trust-model always'];
  if (passphrase !== undefined) {
    await writeFile(join(dir, 'passphrase'), passphrase, { mode: 0o600 });
    conf.push('pinentry-mode loopback', `passphrase-file ${join(dir, 'passphrase')}`);
  }
  await writeFile(join(dir, 'gpg.conf'), conf.join('\n') + '\n', { mode: 0o600 });
  const env = { ...process.env, GNUPGHOME: dir };
  return {
    dir,
    gpg: (args, opts = {}) =>
      new Promise((resolve, reject) => {
        const child = spawn('gpg', [...args], { env, cwd: opts.cwd ?? dir });
        const out: Buffer[] = [];
        let err = '';
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => (err += String(c)));
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0
            ? resolve({ stdout: Buffer.concat(out), stderr: err })
            : reject(new Error(`gpg ${args.join(' ')} exited ${code}: ${err}`)),
        );
        child.stdin.on('error', () => undefined); // gpg may exit without reading stdin (EPIPE)
        child.stdin.end(opts.input ?? '');
      }),
    sh: async (script, cwd) => {
      const r = await run('bash', ['-c', script], { env, cwd, maxBuffer: 64 << 20 });
      return { stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    close: async () => {
      await run('gpgconf', ['--homedir', dir, '--kill', 'all']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
