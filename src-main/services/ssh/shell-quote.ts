import { AppError } from '../../shared/errors';

/**
 * POSIX shell quoting for remote commands. SSH `exec` hands one string to the remote user's shell,
 * so every command is built from an argument list and each argument is single-quoted here.
 * NUL and line breaks are refused up front: no legitimate domain, path or password has them, and
 * they are what turns a quoting slip into a second command.
 */
export function quoteArg(arg: string): string {
  if (/[\0\n\r]/.test(arg)) throw new AppError('INVALID_ARGUMENT', 'A value sent to the server contains a line break or NUL');
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins an argument list into one safely quoted command line. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new AppError('INVALID_ARGUMENT', 'Empty command');
  return argv.map(quoteArg).join(' ');
}
