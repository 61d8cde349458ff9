import { join } from 'node:path';

/**
 * Where the app keeps its data. `--data-dir D` or `OHITORI_DATA_DIR` override the OS default
 * (tests give each run its own directory).
 */
export function resolveDataDir(argv: readonly string[], env: NodeJS.ProcessEnv, defaultUserData: string): string {
  const i = argv.indexOf('--data-dir');
  const fromArg = i >= 0 ? argv[i + 1] : undefined;
  return fromArg ?? env.OHITORI_DATA_DIR ?? join(defaultUserData, 'data');
}
