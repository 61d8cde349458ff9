/**
 * Log lines that say plainly they come from the double, in a shape close to Misskey's
 * (`TIME LEVEL * [scope] message`), on stderr so `seed`/`fingerprint` keep stdout for JSON.
 */
type Level = 'INFO' | 'WARN' | 'ERR ' | 'DONE';

function write(level: Level, scope: string, msg: string, extra?: unknown): void {
  const line = `${new Date().toISOString()} ${level} * [misskey-double ${scope}] ${msg}`;
  process.stderr.write(extra === undefined ? `${line}\n` : `${line} ${JSON.stringify(extra)}\n`);
}

/** A scoped logger; scopes mirror Misskey's (core, db, api, drive, queue). */
export function logger(scope: string) {
  return {
    info: (msg: string, extra?: unknown) => write('INFO', scope, msg, extra),
    warn: (msg: string, extra?: unknown) => write('WARN', scope, msg, extra),
    error: (msg: string, extra?: unknown) => write('ERR ', scope, msg, extra),
    succ: (msg: string, extra?: unknown) => write('DONE', scope, msg, extra),
  };
}
