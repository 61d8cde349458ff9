// `npm run start:web [-- --port N --data-dir D]`: builds, then runs browser mode.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!process.argv.includes('--no-build') || !existsSync('dist/main/main-web.js')) {
  const { build } = await import('vite');
  for (const mode of ['renderer', 'main']) await build({ mode, configFile: 'vite.config.ts', logLevel: 'warn' });
}
const args = process.argv.slice(2).filter((a) => a !== '--no-build');
const child = spawn(process.execPath, ['dist/main/main-web.js', ...args], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 1));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
