import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { startFaultProxy, type FaultProxy } from '../../lab/fault-proxy';
import { labSsh, sshCheck, sshExec } from './lab-ssh';

describe('lab: fault proxy in front of a real sshd', () => {
  let env: LabEnv;
  let proxy: FaultProxy;
  beforeAll(async () => {
    env = loadLabEnv();
    proxy = await startFaultProxy({ listenHost: '127.0.0.1', targetHost: env.servers.a.ip, targetPort: env.servers.a.sshPort });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('pass: SSH through the proxy works with the pinned host key', async () => {
    const c = await labSsh(env, 'a', { via: { host: '127.0.0.1', port: proxy.port } });
    expect((await sshCheck(c.client, 'echo through-proxy')).trim()).toBe('through-proxy');
    c.client.end();
  });

  it('drop: a live session fails at once, new connections are refused', async () => {
    proxy.setMode('pass');
    const c = await labSsh(env, 'a', { via: { host: '127.0.0.1', port: proxy.port } });
    const closed = new Promise<void>((r) => c.client.once('close', () => r()));
    c.client.on('error', () => {});
    proxy.setMode('drop');
    await closed;
    await expect(labSsh(env, 'a', { via: { host: '127.0.0.1', port: proxy.port } })).rejects.toThrow();
    proxy.setMode('pass');
  });

  it('stall: a silent hang is only noticed through keepalives', async () => {
    proxy.setMode('pass');
    const c = await labSsh(env, 'a', { via: { host: '127.0.0.1', port: proxy.port }, keepaliveInterval: 500 });
    const failed = new Promise<Error>((r) => c.client.once('error', (e: Error) => r(e)));
    proxy.setMode('stall');
    const t0 = Date.now();
    const exec = sshExec(c.client, 'echo never').catch((e: Error) => e);
    const err = await failed;
    expect(err.message).toMatch(/keepalive/i);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await exec;
    proxy.setMode('pass');
  });

  it('cutAfter: the connection closes once N bytes went downstream', async () => {
    proxy.setMode('pass');
    const c = await labSsh(env, 'a', { via: { host: '127.0.0.1', port: proxy.port } });
    c.client.on('error', () => {});
    const closed = new Promise<void>((r) => c.client.once('close', () => r()));
    proxy.setMode({ cutAfter: 64 * 1024, direction: 'downstream' });
    const r = await sshExec(c.client, 'head -c 1000000 /dev/zero').catch((e: Error) => e);
    await closed;
    if (!(r instanceof Error)) expect(r.stdout.length).toBeLessThan(64 * 1024);
    proxy.setMode('pass');
  });
});
