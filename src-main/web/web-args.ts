/** Command-line options of browser mode. */
export interface WebArgs {
  readonly port: number;
  readonly dataDir?: string;
  readonly rendererDir?: string;
}

/** `--port N` (0 = a free port, the default), `--data-dir D` or `OHITORI_DATA_DIR`, `--renderer-dir D`. */
export function parseWebArgs(argv: readonly string[], env: NodeJS.ProcessEnv): WebArgs {
  let port = 0;
  let dataDir = env.OHITORI_DATA_DIR || undefined;
  let rendererDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--port' && v !== undefined) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0–65535, got ${v}`);
      port = n;
      i++;
    } else if (a === '--data-dir' && v !== undefined) {
      dataDir = v;
      i++;
    } else if (a === '--renderer-dir' && v !== undefined) {
      rendererDir = v;
      i++;
    } else throw new Error(`Unknown option: ${a ?? ''}`);
  }
  return { port, ...(dataDir ? { dataDir } : {}), ...(rendererDir ? { rendererDir } : {}) };
}
