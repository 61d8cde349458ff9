import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { createDispatch } from '../ipc/router';
import { createServices } from '../services/app-services';
import { startWebHost } from './web-host';
import { parseWebArgs } from './web-args';
import { APP_VERSION } from '../shared/version';

/**
 * Browser mode: the same services and dispatcher as the Electron app, served to a browser on
 * 127.0.0.1 with a random token. Prints exactly one `OHITORI_URL=…` line on stdout when ready.
 */
async function main(): Promise<void> {
  const args = parseWebArgs(process.argv.slice(2), process.env);
  const here = dirname(fileURLToPath(import.meta.url));
  const rendererDir = resolve(args.rendererDir ?? join(here, '..', 'renderer'));
  const dataDir = resolve(args.dataDir ?? join(homedir(), '.local', 'share', 'ohitori-web'));
  const host = await startWebHost({ port: args.port, rendererDir });
  const services = await createServices({ dataDir, mode: 'browser', version: APP_VERSION, broadcast: (e) => host.broadcast(e) });
  host.attach(createDispatch(services));
  process.stdout.write(`OHITORI_URL=${host.url}\n`);
  const stop = (): void => void host.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`ohitori: browser mode could not start: ${(e as Error).message}`);
  process.exit(1);
});
