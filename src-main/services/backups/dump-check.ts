import { execFile, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import { AppError, isAppError } from '../../shared/errors';
import type { SshSession } from '../ssh/ssh-session';

/**
 * Reading a database dump whole (reliability G20/G30): `pg_restore -f /dev/null` parses every TOC
 * entry and decompresses every table's data, which `pg_restore --list` does not. It must be the
 * same major version as the dump's server: an older pg_restore refuses newer archive versions, a
 * newer one may accept what the original could not restore.
 */
export type DumpChecker = (dump: Readable, signal: AbortSignal) => Promise<void>;

/** The PostgreSQL major version of a manifest's `versions.postgres` (`15.4`, `15`, `PostgreSQL 16.1 …`). */
export function postgresMajor(version: string | undefined): number | undefined {
  const m = /(\d+)(?:\.\d+)?/.exec(version ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Where Debian/Ubuntu (postgresql-common) and Homebrew install per-version binaries. */
export const DEFAULT_PG_RESTORE_CANDIDATES = (major: number): string[] => [
  `/usr/lib/postgresql/${major}/bin/pg_restore`,
  `/usr/pgsql-${major}/bin/pg_restore`,
  `/opt/homebrew/opt/postgresql@${major}/bin/pg_restore`,
  `/usr/local/opt/postgresql@${major}/bin/pg_restore`,
  'pg_restore',
];

/** A local pg_restore of exactly this major version, or undefined. */
export async function findLocalPgRestore(major: number, candidates = DEFAULT_PG_RESTORE_CANDIDATES(major)): Promise<string | undefined> {
  for (const c of candidates) {
    if (c.includes('/')) {
      try {
        await access(c, constants.X_OK);
      } catch {
        continue;
      }
    }
    try {
      const { stdout } = await promisify(execFile)(c, ['--version'], { timeout: 10_000 });
      if (postgresMajor(stdout) === major) return c;
    } catch {
      // not there, or not runnable
    }
  }
  return undefined;
}

function unreadable(where: 'local' | 'server', code: number | string, stderr: string): AppError {
  return new AppError('BACKUP_DUMP_UNREADABLE', 'The database dump in the backup does not read back whole', {
    where,
    exitCode: code,
    stderr: stderr.trim().slice(-1000),
  });
}

/**
 * Writes the dump member into the checker's stdin. Unlike `pipeline`, it never destroys the source
 * when the checker stops reading early (pg_restore may exit before the last bytes, or fail): the
 * source is a member of the tar stream, and destroying it would break reading the rest of the
 * archive. What the checker does not take is drained. Resolves with the source's error, if any.
 */
async function feed(dump: Readable, sink: Writable, consumerDone: Promise<unknown>): Promise<unknown> {
  let stopped = false;
  const stop = (): void => void (stopped = true);
  sink.on('error', stop);
  sink.on('close', stop);
  const finished = consumerDone.then(stop, stop);
  try {
    for await (const chunk of dump) {
      if (stopped || sink.destroyed) continue;
      if (!sink.write(chunk)) {
        await Promise.race([
          new Promise<void>((r) => {
            sink.once('drain', r);
            sink.once('close', r);
          }),
          finished,
        ]);
      }
    }
    if (!stopped) sink.end();
    return undefined;
  } catch (e) {
    sink.destroy();
    return e;
  }
}

/** pg_restore on this computer: the dump goes to its stdin, its SQL to /dev/null. */
export function localDumpChecker(binary: string): DumpChecker {
  return async (dump, signal) => {
    const child = spawn(binary, ['-f', '/dev/null'], { stdio: ['pipe', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-8192)));
    const exit = new Promise<number | string>((resolve) => {
      child.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
      child.on('close', (code) => resolve(code ?? 'signal'));
    });
    const fed = feed(dump, child.stdin, exit);
    const [code, feedError] = await Promise.all([exit, fed]);
    if (signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
    // A failing backup part surfaces here as the stream's error: that is the real cause.
    if (isAppError(feedError)) throw feedError;
    if (code !== 0) throw unreadable('local', code, stderr);
  };
}

/**
 * pg_restore in a throwaway container on the server (`docker run --rm -i postgres:<major>-alpine`),
 * the dump fed over the SSH channel's stdin: nothing is written to the server's disk, and the
 * image is the one the stack itself runs.
 */
export function serverDumpChecker(session: SshSession, major: number): DumpChecker {
  return async (dump, signal) => {
    const input = new PassThrough({ highWaterMark: 1 << 20 });
    const run = await session.stream(
      ['docker', 'run', '--rm', '-i', '--network', 'none', `postgres:${major}-alpine`, 'pg_restore', '-f', '/dev/null'],
      { sudo: true, stdin: input, signal },
    );
    run.stdout.resume();
    const [{ code, stderr }, feedError] = await Promise.all([run.done, feed(dump, input, run.done)]);
    if (signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
    if (isAppError(feedError)) throw feedError;
    // docker run: 125 = docker itself failed (no image, no daemon), 126/127 = command not runnable.
    if (code >= 125)
      throw new AppError('REMOTE_COMMAND_FAILED', `docker run exited with ${code}: ${stderr.trim().slice(-500)}`, {
        code,
        stderr: stderr.slice(-2000),
      });
    if (code !== 0) throw unreadable('server', code, stderr);
  };
}
