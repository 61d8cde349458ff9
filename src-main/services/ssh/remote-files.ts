import { AppError } from '../../shared/errors';
import { script } from './shell-quote';
import type { SshSession } from './ssh-session';

export interface RemoteWriteOptions {
  /** Octal mode string, e.g. '600' for secrets, '644' otherwise. */
  readonly mode: string;
  /** Write as root (through sudo) — for /etc and the stack directory. */
  readonly sudo?: boolean;
  /** `user:group` to own the file, when not the writer. */
  readonly owner?: string;
}

export interface RemoteWriteResult {
  /** False when the file already had exactly this content (nothing replaced). */
  readonly changed: boolean;
  /** Where the replaced version was kept, when there was one. */
  readonly previous?: string;
}

/**
 * Server-side half of an atomic write: data arrives on stdin into a private temporary file in the
 * same directory (umask 077, so a secret is never readable by others), gets its mode and owner,
 * and replaces the target with `mv` only if the content differs; the old file is kept as
 * `<name>.prev`. Arguments come in as $1.. so no value is ever pasted into the script.
 */
const WRITE_SCRIPT = script(
  ...[
    'set -eu',
    'umask 077',
    'dst=$1; mode=$2; owner=$3',
    'dir=$(dirname -- "$dst")',
    'mkdir -p -- "$dir"',
    'tmp=$(mktemp "$dir/.ohitori-write.XXXXXX")',
    'trap \'rm -f -- "$tmp"\' EXIT',
    'cat > "$tmp"',
    'chmod "$mode" "$tmp"',
    'if [ -n "$owner" ]; then chown "$owner" "$tmp"; fi',
    'if [ -e "$dst" ] && cmp -s -- "$tmp" "$dst"; then echo unchanged; exit 0; fi',
    'if [ -e "$dst" ]; then cp -p -- "$dst" "$dst.prev"; echo "previous $dst.prev"; fi',
    'mv -f -- "$tmp" "$dst"',
    'trap - EXIT',
    'echo written',
  ],
);

export async function writeRemoteFile(
  session: SshSession,
  path: string,
  data: string | Buffer,
  opts: RemoteWriteOptions,
): Promise<RemoteWriteResult> {
  if (!path.startsWith('/')) throw new AppError('INVALID_ARGUMENT', `Remote path must be absolute: ${path}`);
  if (!/^[0-7]{3,4}$/.test(opts.mode)) throw new AppError('INVALID_ARGUMENT', `Bad file mode ${opts.mode}`);
  const r = await session.exec(['sh', '-c', WRITE_SCRIPT, 'ohitori-write', path, opts.mode, opts.owner ?? ''], {
    stdin: data,
    ...(opts.sudo ? { sudo: true } : {}),
  });
  if (r.code !== 0) {
    const full = /No space left on device/i.test(r.stderr);
    throw new AppError(full ? 'DISK_FULL' : 'REMOTE_COMMAND_FAILED', `Could not write ${path}: ${r.stderr.trim().slice(-300)}`, { path });
  }
  const prev = /^previous (.+)$/m.exec(r.stdout)?.[1];
  return { changed: !r.stdout.includes('unchanged'), ...(prev ? { previous: prev } : {}) };
}

/** Reads a remote file (through sudo when asked); `undefined` when it does not exist. */
export async function readRemoteFile(session: SshSession, path: string, sudo = false): Promise<Buffer | undefined> {
  const s = await session.stream(
    ['sh', '-c', 'if [ -e "$1" ]; then cat -- "$1"; else exit 44; fi', 'ohitori-read', path],
    sudo ? { sudo: true } : {},
  );
  const chunks: Buffer[] = [];
  for await (const c of s.stdout) chunks.push(c as Buffer);
  const { code, stderr } = await s.done;
  if (code === 44) return undefined;
  if (code !== 0) throw new AppError('REMOTE_COMMAND_FAILED', `Could not read ${path}: ${stderr.trim().slice(-300)}`, { path });
  return Buffer.concat(chunks);
}
