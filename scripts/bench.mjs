// Runs a benchmark: `node scripts/bench.mjs <name> [args…]` (or `npm run bench -- <name>`).
// Bundles test/bench/<name>.ts with esbuild (split into chunks at its dynamic imports) — together
// with the worker scripts, so the bundle has the same layout as production (part-worker.mjs and
// key-thread.mjs next to the main file and its chunks) — into a private temp dir, runs it with
// this Node (22 under npm), and removes the bundle afterwards.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: node scripts/bench.mjs <name> [args…]   (runs test/bench/<name>.ts)');
  process.exit(2);
}
const entry = join(root, 'test', 'bench', `${name}.ts`);
if (!existsSync(entry)) {
  console.error(`no such bench: ${entry}`);
  process.exit(2);
}
// Inside node_modules/.cache, so the few packages left external (native addons) resolve from the repo.
mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
const out = mkdtempSync(join(root, 'node_modules', '.cache', 'ohitori-bench-'));
const cleanup = () => rmSync(out, { recursive: true, force: true });
try {
  const common = {
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
    // ssh2 loads optional native addons (the backup bench drives the app's SSH code).
    external: ['ssh2', 'cpu-features'],
    // CommonJS dependencies (tar-stream, streamx) call require() for Node built-ins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  };
  // The bench itself, split at its dynamic imports (a bench child loads only what its mode uses),
  // and the worker scripts as self-contained files, as in the production bundles.
  await build({ ...common, entryPoints: { [name]: entry }, splitting: true, chunkNames: 'chunk-[hash]' });
  await build({
    ...common,
    entryPoints: {
      'part-worker': join(root, 'src-main/services/backup-format/part-worker.ts'),
      'key-thread': join(root, 'src-main/services/pgp/key-thread.ts'),
    },
  });
} catch (e) {
  cleanup();
  throw e;
}
const child = spawn(process.execPath, [join(out, `${name}.mjs`), ...args], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, OHITORI_LAB_ENV: join(root, 'test', 'lab', 'state', 'lab.env') },
});
const forward = (sig) => child.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => {
  cleanup();
  process.exit(code ?? (signal ? 1 : 0));
});
