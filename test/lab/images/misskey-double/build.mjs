// Bundles the Misskey API double into dist/server.mjs (one file, all deps inside) for the
// lab's `misskey/misskey:<version>` image. Run: node test/lab/images/misskey-double/build.mjs
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: [join(here, 'src/server.ts')],
  outfile: join(here, 'dist/server.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // pg is CommonJS and calls require() for Node built-ins; give the ESM bundle a require.
  banner: {
    js: "import { createRequire as __doubleCreateRequire } from 'node:module'; const require = __doubleCreateRequire(import.meta.url);",
  },
  // pg-native is an optional peer that pg only tries when asked; it is never installed here.
  external: ['pg-native'],
  legalComments: 'none',
  logLevel: 'warning',
});
console.log(`built ${join(here, 'dist/server.mjs')}`);
