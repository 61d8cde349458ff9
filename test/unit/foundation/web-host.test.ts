import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServices } from '../../../src-main/services/app-services';
import { createDispatch } from '../../../src-main/ipc/router';
import { startWebHost, type WebHost } from '../../../src-main/web/web-host';
import { makeTempDir } from '../../support/temp-dir';

interface Res {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Raw HTTP so tests can send the headers a browser would never let a page forge (Host). */
function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function wsOutcome(url: string, protocols: string[], origin?: string): Promise<{ opened: boolean; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, origin ? { origin } : {});
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
    ws.on('error', () => resolve({ opened: false }));
  });
}

describe('browser-mode host', () => {
  let host: WebHost;
  let cleanup: () => Promise<void>;
  let base: string;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${host.token}`, 'content-type': 'application/json' });

  beforeAll(async () => {
    const t = await makeTempDir();
    cleanup = t.cleanup;
    const rendererDir = join(t.dir, 'renderer');
    await mkdir(rendererDir);
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(t.dir, 'secret.txt'), 'outside');
    host = await startWebHost({ rendererDir });
    const services = await createServices({
      dataDir: join(t.dir, 'data'),
      mode: 'browser',
      version: 't',
      broadcast: (e) => host.broadcast(e),
    });
    host.attach(createDispatch(services));
    base = host.origin;
  });
  afterAll(async () => {
    await host.close();
    await cleanup();
  });

  it('listens on 127.0.0.1 only, with a long random token in the URL', () => {
    expect(host.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(host.url).toBe(`${host.origin}/#token=${host.token}`);
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('serves the static build with a CSP and without a token, and nothing outside it', async () => {
    const r = await http(`${base}/`);
    expect(r.status).toBe(200);
    expect(String(r.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(r.headers['x-frame-options'])).toBe('DENY');
    expect((await http(`${base}/../secret.txt`)).status).toBe(404);
    expect((await http(`${base}/%2e%2e/secret.txt`)).status).toBe(404);
  });

  it('answers 401 without a token and 403 with a wrong one', async () => {
    const none = await http(`${base}/api/invoke/app:info`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    const wrong = await http(`${base}/api/invoke/app:info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${'A'.repeat(43)}` },
      body: '{}',
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body).not.toContain('"ok":true');
  });

  it('refuses a foreign Origin and a foreign Host even with the token', async () => {
    const foreign = await http(`${base}/api/invoke/app:info`, {
      method: 'POST',
      headers: { ...auth(), origin: 'http://evil.example' },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
    const rebinding = await http(`${base}/api/invoke/app:info`, {
      method: 'POST',
      headers: { ...auth(), host: 'evil.example' },
      body: '{}',
    });
    expect(rebinding.status).toBe(403);
  });

  it('serves the contract with the token, refuses unknown channels and malformed arguments, and keeps serving', async () => {
    const ok = await http(`${base}/api/invoke/app:info`, { method: 'POST', headers: { ...auth(), origin: base }, body: '{}' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, value: { mode: 'browser' } });
    const unknown = await http(`${base}/api/invoke/app:nope`, { method: 'POST', headers: auth(), body: '{}' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    const bad = await http(`${base}/api/invoke/settings:set`, { method: 'POST', headers: auth(), body: '{"language":"xx"}' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const notJson = await http(`${base}/api/invoke/settings:set`, { method: 'POST', headers: auth(), body: '{nope' });
    expect(notJson.status).toBe(400);
    const again = await http(`${base}/api/invoke/settings:get`, { method: 'POST', headers: auth(), body: '{}' });
    expect(JSON.parse(again.body)).toMatchObject({ ok: true });
  });

  it('refuses the event socket without the token, with a wrong one, or from a foreign origin', async () => {
    const url = `${base.replace('http', 'ws')}/api/events`;
    expect(await wsOutcome(url, ['ohitori.v1'], base)).toMatchObject({ opened: false, status: 401 });
    expect(await wsOutcome(url, ['ohitori.v1', `token.${'B'.repeat(43)}`], base)).toMatchObject({ opened: false, status: 403 });
    expect(await wsOutcome(url, ['ohitori.v1', `token.${host.token}`], 'http://evil.example')).toMatchObject({
      opened: false,
      status: 403,
    });
    expect(await wsOutcome(url, ['ohitori.v1', `token.${host.token}`])).toMatchObject({ opened: false, status: 403 });
    expect(await wsOutcome(url, ['ohitori.v1', `token.${host.token}`], base)).toEqual({ opened: true });
  });

  it('pushes job events to an authenticated socket', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/events`, ['ohitori.v1', `token.${host.token}`], { origin: base });
    await new Promise((r) => ws.on('open', r));
    const seen: string[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (m) => {
        const e = JSON.parse(String(m)) as { type: string; job?: { state: string } };
        if (e.job) seen.push(e.job.state);
        if (e.job?.state === 'done') resolve();
      }),
    );
    await http(`${base}/api/invoke/diagnostics:self-check`, { method: 'POST', headers: auth(), body: '{"askFirst":false}' });
    await done;
    ws.close();
    expect(seen).toContain('running');
    expect(seen.at(-1)).toBe('done');
  });
});
