import { execFile, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { RowCountMismatchRecord } from '../../shared/backups';
import { AppError, isAppError } from '../../shared/errors';
import { rowCountsSchema } from '../backup-format/manifest';
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
 * Runs `docker run --rm -i --network none <args…>` on the server with the dump fed over the SSH
 * channel's stdin (nothing written to the server's disk; the image is the one the stack runs).
 * Throws CANCELLED, the dump's own read error, or REMOTE_COMMAND_FAILED when docker itself failed
 * (125: no image, no daemon; 126/127: command not runnable) or the command exited with one of
 * `infraCodes`; any other exit is the caller's to judge.
 */
async function runOnDumpInContainer(
  session: SshSession,
  dockerArgs: readonly string[],
  dump: Readable,
  signal: AbortSignal,
  infraCodes: readonly number[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const input = new PassThrough({ highWaterMark: 1 << 20 });
  const run = await session.stream(['docker', 'run', '--rm', '-i', '--network', 'none', ...dockerArgs], {
    sudo: true,
    stdin: input,
    signal,
  });
  let stdout = '';
  run.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString('utf8')).slice(-(16 << 20))));
  const [{ code, stderr }, feedError] = await Promise.all([run.done, feed(dump, input, run.done)]);
  if (signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
  // A failing backup part surfaces here as the stream's error: that is the real cause.
  if (isAppError(feedError)) throw feedError;
  if (code >= 125 || infraCodes.includes(code))
    throw new AppError('REMOTE_COMMAND_FAILED', `docker run exited with ${code}: ${stderr.trim().slice(-500)}`, {
      code,
      stderr: stderr.slice(-2000),
    });
  return { code, stdout, stderr };
}

/** pg_restore -f /dev/null in a throwaway `postgres:<major>-alpine` container on the server. */
export function serverDumpChecker(session: SshSession, major: number): DumpChecker {
  return async (dump, signal) => {
    const { code, stderr } = await runOnDumpInContainer(
      session,
      [`postgres:${major}-alpine`, 'pg_restore', '-f', '/dev/null'],
      dump,
      signal,
    );
    if (code !== 0) throw unreadable('server', code, stderr);
  };
}

/** Restores a dump into a throwaway database and answers exact row counts per `schema.table`. */
export type RestoreDrill = (dump: Readable, signal: AbortSignal) => Promise<Record<string, number>>;

/**
 * Exact `count(*)` of every ordinary table (partitions included, partitioned parents left out: their
 * rows are their partitions'), as one JSON object on one line, keyed like the manifest's `tables`.
 */
export const COUNT_ROWS_SQL = [
  "SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname,",
  "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint), '{}')",
  'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace',
  "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
].join(' ');

/**
 * What runs inside the throwaway container, as the image's `postgres` user: a temporary cluster in
 * the container's own /tmp (no volume, gone with `--rm`; fsync off: nothing here must survive a
 * crash), listening on a Unix socket only, a fresh database, the dump from stdin restored into it
 * with `--no-owner --no-privileges --exit-on-error`, then one line of row counts. When the
 * cluster itself fails, its server log goes to stderr. Exit 3: the container could not do its part; 4: the dump
 * does not restore. One line (the SSH layer refuses arguments with line breaks).
 */
export const RESTORE_DRILL_SCRIPT = [
  'set -eu',
  'export PGDATA=/tmp/ohitori-drill/data PGHOST=/tmp/ohitori-drill PGUSER=postgres',
  'mkdir -p "$PGHOST"',
  'fail() { echo "ohitori-drill: $1" >&2; cat "$PGHOST/server.log" >&2 2>/dev/null || true; exit "$2"; }',
  'initdb -D "$PGDATA" -U postgres -A trust -E UTF8 --no-locale >"$PGHOST/initdb.log" 2>&1 || { cat "$PGHOST/initdb.log" >&2; fail "initdb failed" 3; }',
  'pg_ctl -D "$PGDATA" -l "$PGHOST/server.log" -w -s -o "-c listen_addresses= -c unix_socket_directories=$PGHOST -c fsync=off' +
    ' -c full_page_writes=off -c synchronous_commit=off -c max_parallel_maintenance_workers=0" start >/dev/null || fail "the temporary server did not start" 3',
  'createdb drill || fail "createdb failed" 3',
  // pg_restore's own message says why; the server log would only bury it.
  'pg_restore --no-owner --no-privileges --exit-on-error -d drill || { echo "ohitori-drill: pg_restore into a fresh database failed" >&2; exit 4; }',
  'psql -X -q -At -v ON_ERROR_STOP=1 -d drill -c "$OHITORI_COUNT_SQL" || fail "counting rows failed" 3',
  'pg_ctl -D "$PGDATA" -m immediate -s stop >/dev/null 2>&1 || true',
].join('; ');

/**
 * The restore drill on the server (docs/operations.md#restore-drill): a throwaway
 * `postgres:<major>-alpine` container (`--rm`, `--network none`, no volume mounted, nothing
 * published) starts a temporary cluster, restores the dump fed over the SSH channel's stdin into a
 * fresh database and prints exact row counts. Nothing is written outside the container, which
 * Docker removes when the run ends.
 */
export function serverRestoreDrill(session: SshSession, major: number): RestoreDrill {
  return async (dump, signal) => {
    const args = [
      ...['--user', 'postgres', '--entrypoint', '/bin/sh', '-e', `OHITORI_COUNT_SQL=${COUNT_ROWS_SQL}`],
      ...[`postgres:${major}-alpine`, '-c', RESTORE_DRILL_SCRIPT],
    ];
    // Exit 3: the container could not do its part (not the backup's fault).
    const { code, stdout, stderr } = await runOnDumpInContainer(session, args, dump, signal, [3]);
    if (code !== 0)
      throw new AppError('BACKUP_RESTORE_DRILL_FAILED', 'The database dump does not restore into a fresh database', {
        where: 'server',
        exitCode: code,
        stderr: stderr.trim().slice(-1000),
      });
    return parseRowCounts(stdout);
  };
}

/** The counting query's one line of JSON, checked like the manifest's `tables`. */
export function parseRowCounts(out: string): Record<string, number> {
  let raw: unknown;
  try {
    raw = JSON.parse(out.trim());
  } catch {
    raw = undefined;
  }
  const counts = rowCountsSchema.safeParse(raw);
  if (!counts.success)
    throw new AppError('REMOTE_COMMAND_FAILED', 'The restore drill printed no valid row counts', { stdout: out.slice(-500) });
  return counts.data;
}

/**
 * Compares the manifest's counts with the restored database's: every table the manifest names must
 * be there with exactly that many rows. Tables the manifest does not name (it names every table
 * the dump holds data for) are not compared: the restore can only have filled them from the dump.
 */
export function compareRowCounts(
  expected: Readonly<Record<string, number>>,
  actual: Readonly<Record<string, number>>,
): RowCountMismatchRecord[] {
  const out: RowCountMismatchRecord[] = [];
  for (const table of Object.keys(expected).sort()) {
    const want = expected[table]!;
    const got = Object.hasOwn(actual, table) ? actual[table]! : null;
    if (got !== want) out.push({ table, expected: want, actual: got });
  }
  return out;
}
