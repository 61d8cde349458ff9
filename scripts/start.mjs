// `npm start`: builds and opens the Electron window; where Electron's binary is missing, says so
// and points to browser mode.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let electronPath;
try {
  electronPath = require('electron');
} catch (e) {
  console.error(
    [
      'Ohitori: the Electron binary is not installed here, so the desktop window cannot open.',
      `  (${e.message.split('\n')[0]})`,
      'Run the same app in your browser instead:  npm run start:web',
      'or install Electron where it can be downloaded:  npm install (without ELECTRON_SKIP_BINARY_DOWNLOAD)',
    ].join('\n'),
  );
  process.exit(1);
}
const { build } = await import('vite');
for (const mode of ['renderer', 'main', 'preload']) await build({ mode, configFile: 'vite.config.ts', logLevel: 'warn' });
const child = spawn(electronPath, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
