/**
 * Start-up and failure behaviour the app's setup code must cope with: a missing config is refused
 * with a clear log line, /healthz follows PostgreSQL and Redis (503 while either is down, also
 * while the double waits for the DB at start), and a files dir not owned by UID 991 gives an
 * EACCES log line plus INTERNAL_ERROR, as with the real image; an older version has older rules.
 */
import { api } from 'misskey-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { buildDoubleImage, DoubleStack, run } from './lab-stack';

let lab: LabEnv;
let image: string;
let stack: DoubleStack;

async function healthStatus(): Promise<number> {
  return fetch(`${stack.url}/healthz`).then(
    (r) => r.status,
    () => 0,
  );
}

async function waitStatus(want: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if ((await healthStatus()) === want) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`/healthz never answered ${want}`);
}

beforeAll(async () => {
  lab = loadLabEnv();
  image = await buildDoubleImage(lab, 'a');
  stack = new DoubleStack(lab, 'a', image, { filesOwner: 0 });
  await stack.up();
});

afterAll(async () => {
  await stack?.down();
});

it('refuses to start without a config, saying why', async () => {
  const r = await run('docker', ['run', '--rm', image], { env: { DOCKER_HOST: lab.servers.a.dockerHost } });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/misskey-double core\] refusing to start: cannot read config \/misskey\/\.config\/default\.yml: ENOENT/);
});

describe('/healthz follows its dependencies', () => {
  it('the image HEALTHCHECK (node server.mjs healthcheck) marks the container healthy', async () => {
    const id = (await stack.compose(['ps', '-q', 'web'])).stdout.toString().trim();
    let status = '';
    for (let i = 0; i < 40 && status !== 'healthy'; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      status = (await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', id], { env: stack.env })).stdout.toString().trim();
    }
    expect(status).toBe('healthy');
  });

  it('503 while Redis is down, 200 when it is back', async () => {
    await stack.compose(['stop', '-t', '1', 'redis']);
    await waitStatus(503);
    await stack.compose(['start', 'redis']);
    await waitStatus(200);
  });

  it('waits for the DB at start: 503 until PostgreSQL is up, then 200', async () => {
    await stack.compose(['stop', '-t', '1', 'web', 'db']);
    await stack.compose(['start', 'web']);
    await waitStatus(503);
    await stack.compose(['start', 'db']);
    await waitStatus(200);
    expect(await stack.logs()).toContain('database not reachable yet');
  });
});

it('a files dir the image user cannot write gives EACCES in the log and INTERNAL_ERROR', async () => {
  const anon = new api.APIClient({ origin: stack.url });
  const admin = await anon.request('admin/accounts/create', { username: 'admin', password: 'adminpass123' });
  const cli = new api.APIClient({ origin: stack.url, credential: admin.token });
  const e = await cli.request('drive/files/create', { file: new Blob([new Uint8Array([1, 2, 3])]), name: 'x.bin' }).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toMatchObject({ code: 'INTERNAL_ERROR', info: { e: { code: 'Error' } } });
  expect((e as { info: { e: { message: string } } }).info.e.message).toMatch(/^EACCES: permission denied, open '\/misskey\/files\//);
  const logs = await stack.logs();
  expect(logs).toMatch(/\[misskey-double drive\] Failed to save file .*EACCES/);
  expect(logs).toContain('UID 991');
});

describe('an older Misskey (DOUBLE_MISSKEY_VERSION=2024.4.0)', () => {
  let old: DoubleStack;

  beforeAll(async () => {
    old = new DoubleStack(lab, 'a', image, { setupPassword: 'ignored-before-2024.10', misskeyVersion: '2024.4.0' });
    await old.up();
  });

  afterAll(async () => {
    await old?.down();
  });

  it('reports its version, has no /healthz, and lets the first caller become root', async () => {
    const anon = new api.APIClient({ origin: old.url });
    expect((await anon.request('meta', {})).version).toBe('2024.4.0');
    expect((await fetch(`${old.url}/healthz`)).status).toBe(404);
    expect(await anon.request('admin/accounts/create', { username: 'first', password: 'whoever-comes-first' })).toMatchObject({
      isAdmin: true,
    });
  });
});
