// Builds the renderer, the main process (with browser mode's host), the preload, and the server-side
// backup job (dist/agent: one self-contained ESM file + its part worker, installed on servers by the
// app and run there in the pinned Node image).
import { build as esbuild } from 'esbuild';
import { build } from 'vite';

for (const mode of ['renderer', 'main', 'preload']) {
  await build({ mode, configFile: 'vite.config.ts', logLevel: 'warn' });
  console.log(`built ${mode}`);
}

const nodeBundle = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
  legalComments: 'linked',
  // CommonJS dependencies (tar-stream, streamx, the AWS SDK) call require() for Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
// The worker threads' scripts, beside the code that starts them: worker-pool.ts looks for
// ./part-worker.mjs (crypto) and ./key-thread.mjs (passphrase operations) next to itself, which
// rollup puts in the shared chunk (dist/main/chunks) — or in an entry when it is not shared, hence
// both places. The server job needs only the crypto one.
for (const outdir of ['dist/main', 'dist/main/chunks'])
  await esbuild({
    ...nodeBundle,
    entryPoints: { 'part-worker': 'src-main/services/backup-format/part-worker.ts', 'key-thread': 'src-main/services/pgp/key-thread.ts' },
    outdir,
  });

await esbuild({
  ...nodeBundle,
  entryPoints: { 'backup-job': 'src-main/agent/backup-job.ts', 'part-worker': 'src-main/services/backup-format/part-worker.ts' },
  outdir: 'dist/agent',
});
console.log('built agent');
