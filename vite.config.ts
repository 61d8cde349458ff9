import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type UserConfig } from 'vite';

/**
 * One config, three builds, picked by `--mode`:
 *  - `renderer` (default): the React app → dist/renderer (served by Electron's app:// and browser mode);
 *  - `main`: Electron's main process and browser mode's host → dist/main (ESM, deps external);
 *  - `preload`: the sandboxed preload → dist/preload/preload.cjs (sandboxed preloads must be CommonJS).
 */
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};
const define = { __OHITORI_VERSION__: JSON.stringify(pkg.version) };
const nodeExternals = ['electron', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

function mainBuild(): UserConfig {
  return {
    define,
    build: {
      ssr: true,
      outDir: 'dist/main',
      emptyOutDir: true,
      target: 'node22',
      sourcemap: true,
      rollupOptions: {
        input: { main: resolve('src-main/main.ts'), 'main-web': resolve('src-main/web/main-web.ts') },
        external: [...nodeExternals, ...Object.keys(pkg.dependencies)],
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  };
}

function preloadBuild(): UserConfig {
  return {
    build: {
      outDir: 'dist/preload',
      emptyOutDir: true,
      target: 'node22',
      minify: false,
      lib: { entry: resolve('src-main/preload/preload.ts'), formats: ['cjs'], fileName: () => 'preload.cjs' },
      rollupOptions: { external: nodeExternals },
    },
  };
}

function rendererBuild(): UserConfig {
  return {
    root: resolve('src-renderer'),
    base: './',
    define,
    plugins: [react()],
    build: { outDir: resolve('dist/renderer'), emptyOutDir: true, target: 'chrome120', sourcemap: true },
  };
}

export default defineConfig(({ mode }) => (mode === 'main' ? mainBuild() : mode === 'preload' ? preloadBuild() : rendererBuild()));
