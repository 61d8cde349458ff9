/**
 * The generated Caddyfiles served by a real Caddy on this machine (loopback only: tls internal,
 * random ports, storage and logs in a temp dir, admin off), in front of a stub backend that echoes
 * the path it got. Proves the sign-in restriction blocks every sign-in endpoint, and nothing else,
 * for a client outside the allowed ranges; and that the decommission file answers 410 everywhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decommissionCaddyfile, stackCaddyfile } from '../../../src-main/services/stack/caddyfile';
import { makeTempDir } from '../../support/temp-dir';
import { testModel } from '../../unit/stack/model-fixture';
import { writeFile } from 'node:fs/promises';

const DOMAIN = 'misskey.example.com';
let tmp: { dir: string; cleanup: () => Promise<void> };
let backend: Server;
let backendPort: number;

beforeAll(async () => {
  tmp = await makeTempDir();
  backend = createServer((req, res) => res.end(`proxied ${req.method} ${req.url}`));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as AddressInfo).port;
});
afterAll(async () => {
  backend?.close();
  await tmp?.cleanup();
});

interface RunningCaddy {
  readonly httpsPort: number;
  readonly ca: Buffer;
  stop(): Promise<void>;
}

const randomPort = (): number => 20000 + Math.floor(Math.random() * 20000);

/** `caddy run` on `text`; resolves once HTTPS answers. */
async function runCaddy(
  name: string,
  render: (o: { storageDir: string; httpPort: number; httpsPort: number }) => string,
): Promise<RunningCaddy> {
  const dir = join(tmp.dir, name);
  const httpsPort = randomPort();
  const text = render({ storageDir: join(dir, 'storage'), httpPort: randomPort(), httpsPort });
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await writeFile(join(dir, 'Caddyfile'), text);
  const child: ChildProcess = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      const ca = await readFile(join(dir, 'storage/pki/authorities/local/root.crt'));
      await get({ httpsPort, ca, stop }, '/');
      return { httpsPort, ca, stop };
    } catch (e) {
      if (child.exitCode !== null || Date.now() > until) {
        await stop();
        throw new Error(`caddy did not come up: ${String(e)}\n${log.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

/** HTTPS to the domain on 127.0.0.1 with Caddy's local CA trusted; the path goes out as written (no normalisation). */
function get(c: RunningCaddy, path: string, method = 'POST'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: c.httpsPort, servername: DOMAIN, path, method, headers: { host: DOMAIN }, ca: c.ca, timeout: 5000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

const SIGN_IN = [
  '/api/signin',
  '/api/signin-flow',
  '/api/signin-with-passkey',
  '/api/signin/',
  '/api/signin-flow?x=1',
  '/API/SIGNIN-FLOW',
  '/api/%73ignin-flow',
  '/api/signin-with-passkey%2F',
  '//api/signin-flow',
  '/api/./signin-flow',
  '/api/x/../signin-flow',
  '/api//signin-flow',
];
const OTHER = ['/', '/api/notes', '/api/notes/create', '/api/signup', '/api/i', '/api/sign', '/api/meta', '/inbox'];

describe('sign-in restriction under a real Caddy', () => {
  it('client outside the allowed ranges: every sign-in endpoint 403, everything else proxied', async () => {
    const model = testModel({
      webPort: backendPort,
      caddy: {
        tls: 'internal',
        restrictSignIn: true,
        signInAllowedRanges: ['10.0.0.0/8', '192.168.0.0/16'],
        accessLog: { dir: join(tmp.dir, 'log1') },
      },
    });
    const c = await runCaddy('blocked', (o) => stackCaddyfile(model, { ...o, adminOff: true }));
    try {
      for (const p of SIGN_IN) expect([p, (await get(c, p)).status]).toEqual([p, 403]);
      for (const p of OTHER) {
        const r = await get(c, p);
        expect([p, r.status, r.body]).toEqual([p, 200, `proxied POST ${p}`]);
      }
      expect((await get(c, '/api/notes', 'GET')).status).toBe(200);
    } finally {
      await c.stop();
    }
  });

  it('client inside the allowed ranges (default ranges include loopback): sign-in is proxied', async () => {
    const model = testModel({
      webPort: backendPort,
      caddy: { tls: 'internal', restrictSignIn: true, accessLog: { dir: join(tmp.dir, 'log2') } },
    });
    const c = await runCaddy('allowed', (o) => stackCaddyfile(model, { ...o, adminOff: true }));
    try {
      for (const p of ['/api/signin', '/api/signin-flow', '/api/signin-with-passkey'])
        expect((await get(c, p)).body).toBe(`proxied POST ${p}`);
    } finally {
      await c.stop();
    }
  });

  it('decommission: 410 Gone on every path and method, nothing proxied', async () => {
    const caddy = testModel({ caddy: { tls: 'internal', accessLog: { dir: join(tmp.dir, 'log3') } } }).caddy;
    const c = await runCaddy('gone', (o) => decommissionCaddyfile(DOMAIN, { ...o, caddy, adminOff: true }));
    try {
      for (const p of [...OTHER, ...SIGN_IN, '/users/9abc/inbox', '/.well-known/webfinger?resource=acct:a@misskey.example.com'])
        for (const m of ['GET', 'POST']) {
          const r = await get(c, p, m);
          expect([m, p, r.status]).toEqual([m, p, 410]);
          expect(r.body).not.toMatch(/proxied/);
        }
    } finally {
      await c.stop();
    }
  });
});
