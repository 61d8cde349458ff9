// Builds the renderer, the main process (with browser mode's host) and the preload.
import { build } from 'vite';

for (const mode of ['renderer', 'main', 'preload']) {
  await build({ mode, configFile: 'vite.config.ts', logLevel: 'warn' });
  console.log(`built ${mode}`);
}
