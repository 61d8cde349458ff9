import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { labFetch, runInServer } from '../../lab/server';
import { labSsh, sshCheck, type LabSsh } from './lab-ssh';
import { SmokeStack } from './smoke-stack';

describe('lab: Caddy (tls internal) on each server in front of the stack', () => {
  let env: LabEnv;
  let c: LabSsh;
  let stack: SmokeStack;
  beforeAll(async () => {
    env = loadLabEnv();
    c = await labSsh(env, 'a');
    // The lab's initial Caddyfile proxies https://a.ohitori.test to the server's localhost:3000.
    const busy = await runInServer('a', ['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/3000']);
    if (busy.code === 0) throw new Error('server a already has something on 127.0.0.1:3000; this test needs that port');
    stack = new SmokeStack(env, 'a', c.client, { spelling: 'v2', webPort: 3000 });
    await stack.up();
  });
  afterAll(async () => {
    await stack?.down();
    c?.client.end();
  });

  it('https://a.ohitori.test answers through Caddy to the web service, with the lab CA', async () => {
    const r = await labFetch('a', '/healthz');
    expect(r.status).toBe(200);
    expect(r.headers.server).toBe('Caddy');
    if (env.webImageKind === 'double') expect(r.headers['x-ohitori-double']).toBe('1');
  });

  it('the certificate does not verify without the lab CA', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const req = request(
        { host: env.servers.a.ip, servername: env.servers.a.domain, port: 443, path: '/healthz', headers: { host: env.servers.a.domain } },
        (res) => (res.resume(), resolve(null)),
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e));
      req.end();
    });
    expect(err?.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });

  it('server b is signed by the same CA (one CA file trusts both), and answers 502 with no stack', async () => {
    const r = await labFetch('b', '/');
    expect(r.headers.server).toBe('Caddy');
    expect([200, 502]).toContain(r.status);
  });

  it('caddy validate and reload work over SSH (admin endpoint is on the server loopback)', async () => {
    expect(await sshCheck(c.client, 'sudo -n caddy validate --config /etc/caddy/Caddyfile --adapter caddyfile 2>&1')).toMatch(
      /Valid configuration/,
    );
    await sshCheck(c.client, 'sudo -n caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile');
    expect((await labFetch('a', '/healthz')).status).toBe(200);
  });
});
