/**
 * Entry point of Ohitori's Misskey API double, a TEST STAND-IN for the misskey/misskey image.
 *   node server.mjs               serve the API (like `pnpm run migrateandstart`)
 *   node server.mjs seed [--users N --notes N --files N]   fill a realistic instance, print JSON
 *   node server.mjs fingerprint   print a JSON digest of DB state + files
 *   node server.mjs healthcheck   exit 0 if /healthz on the configured port answers 200 (image HEALTHCHECK)
 */
import { ConfigError, loadConfig, type DoubleConfig } from './config';
import { checkFilesDirWritable } from './drive-store';
import { createPool, migrate, waitForDb } from './db';
import { endpoints } from './endpoints';
import { fingerprint } from './fingerprint';
import { createDoubleServer, type Readiness } from './http-server';
import { logger } from './log';
import { parseSeedArgs, seed } from './seed';
import type { Deps } from './state';

const log = logger('core');

function config(): DoubleConfig {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      log.error(`refusing to start: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}

function makeDeps(cfg: DoubleConfig): Deps {
  return { pool: createPool(cfg), cfg, misskeyVersion: process.env.DOUBLE_MISSKEY_VERSION || '2026.5.4' };
}

async function serve(): Promise<void> {
  const cfg = config();
  const deps = makeDeps(cfg);
  log.info(`Misskey API double (NOT Misskey; a test stand-in for Ohitori) answering as Misskey ${deps.misskeyVersion}`);
  log.info(
    `config: ${cfg.configPath}; url ${cfg.url}; db ${cfg.db.user}@${cfg.db.host}:${cfg.db.port}/${cfg.db.db}; redis ${cfg.redis.host}:${cfg.redis.port}`,
  );
  const readiness: Readiness = { ready: false };
  const server = createDoubleServer(deps, endpoints, readiness);
  server.listen(cfg.port, '0.0.0.0', () => log.succ(`Now listening on port ${cfg.port} on ${cfg.url}`));
  const stop = () => {
    log.info('shutting down');
    server.close();
    void deps.pool.end().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await waitForDb(deps.pool);
  await migrate(deps.pool);
  await checkFilesDirWritable(deps);
  readiness.ready = true;
  log.succ('ready');
}

async function oneShot(run: (deps: Deps) => Promise<unknown>): Promise<void> {
  const deps = makeDeps(config());
  try {
    await waitForDb(deps.pool);
    await migrate(deps.pool);
    process.stdout.write(`${JSON.stringify(await run(deps), null, 2)}\n`);
  } finally {
    await deps.pool.end();
  }
}

/** The image's HEALTHCHECK, like Misskey's healthcheck.sh (curl localhost:<port>/healthz). */
async function healthcheck(): Promise<void> {
  const cfg = config();
  const r = await fetch(`http://127.0.0.1:${cfg.port}/healthz`, { signal: AbortSignal.timeout(3000) }).catch(() => null);
  process.exit(r?.status === 200 ? 0 : 1);
}

const [cmd, ...rest] = process.argv.slice(2);
const main =
  cmd === undefined || cmd === 'serve'
    ? serve()
    : cmd === 'seed'
      ? oneShot((deps) => seed(deps, parseSeedArgs(rest)))
      : cmd === 'fingerprint'
        ? oneShot((deps) => fingerprint(deps.pool, deps.cfg.filesDir))
        : cmd === 'healthcheck'
          ? healthcheck()
          : Promise.reject(new Error(`unknown command ${cmd} (serve | seed | fingerprint | healthcheck)`));
main.catch((e: unknown) => {
  log.error(`fatal: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
