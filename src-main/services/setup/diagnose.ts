/**
 * Known ways a first start fails, recognised in the stack's logs and explained in words
 * (i18n keys under `setup.diagnosis.`), so the user is not left with a wall of log lines.
 */
const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/getaddrinfo (ENOTFOUND|EAI_AGAIN) db|connect ECONNREFUSED [0-9.]+:5432|could not connect to (the )?database/i, 'dbUnreachable'],
  [/EACCES.*\/misskey\/(files|\.config)|permission denied.*\/misskey\//i, 'filesOwnership'],
  [/address already in use|port is already allocated/i, 'portInUse'],
  [/pull access denied|manifest (for .* )?unknown|not found: manifest|error pulling image|failed to resolve reference/i, 'imagePull'],
  [/no space left on device/i, 'diskFull'],
  [/database files are incompatible with server/i, 'postgresMajor'],
];

export function diagnoseLogs(logs: string): string[] {
  return RULES.filter(([re]) => re.test(logs)).map(([, key]) => key);
}
