import { AppError } from '../../shared/errors';

/**
 * A shell script written by us (a constant in our source), passed as `sh -c <script>`. It may span
 * lines; values never go into it — they follow as `$1`, `$2`… arguments, quoted like any value.
 */
export class TrustedScript {
  constructor(readonly text: string) {}
}

/** Builds a TrustedScript from lines of our own source. */
export const script = (...lines: string[]): TrustedScript => new TrustedScript(lines.join('\n'));

export type Arg = string | TrustedScript;

/**
 * POSIX shell quoting for remote commands. SSH `exec` hands one string to the remote user's shell,
 * so every command is built from an argument list and each argument is single-quoted here.
 * In values, NUL and line breaks are refused up front: no legitimate domain, path or password has
 * them, and they are what turns a quoting slip into a second command.
 */
export function quoteArg(arg: Arg): string {
  const text = arg instanceof TrustedScript ? arg.text : arg;
  if (text.includes('\0') || (!(arg instanceof TrustedScript) && /[\n\r]/.test(text))) {
    throw new AppError('INVALID_ARGUMENT', 'A value sent to the server contains a line break or NUL');
  }
  if (text !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Joins an argument list into one safely quoted command line. */
export function commandLine(argv: readonly Arg[]): string {
  if (argv.length === 0) throw new AppError('INVALID_ARGUMENT', 'Empty command');
  return argv.map(quoteArg).join(' ');
}
