import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../lab/fault-proxy';

/** Echo server that records what it received per connection. */
interface Echo {
  server: Server;
  port: number;
  received: Buffer[];
  closed: number;
}

async function startEcho(): Promise<Echo> {
  const e: Echo = { server: createServer(), port: 0, received: [], closed: 0 };
  e.server.on('connection', (s: Socket) => {
    const idx = e.received.push(Buffer.alloc(0)) - 1;
    s.on('data', (b: Buffer) => {
      e.received[idx] = Buffer.concat([e.received[idx]!, b]);
      s.write(b);
    });
    s.on('error', () => {});
    s.on('close', () => e.closed++);
  });
  await new Promise<void>((r) => e.server.listen(0, '127.0.0.1', r));
  e.port = (e.server.address() as AddressInfo).port;
  return e;
}

interface Client {
  sock: Socket;
  data: Buffer;
  closed: Promise<{ error?: NodeJS.ErrnoException }>;
}

async function dial(port: number): Promise<Client> {
  const sock = connect({ host: '127.0.0.1', port });
  const c: Client = { sock, data: Buffer.alloc(0), closed: Promise.resolve({}) };
  let error: NodeJS.ErrnoException | undefined;
  sock.on('error', (e: NodeJS.ErrnoException) => (error = e));
  sock.on('data', (b: Buffer) => (c.data = Buffer.concat([c.data, b])));
  c.closed = new Promise((r) => sock.on('close', () => r(error ? { error } : {})));
  await new Promise<void>((r, j) => {
    sock.once('connect', r);
    sock.once('error', j);
  });
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('fault proxy', () => {
  let echo: Echo;
  let proxy: FaultProxy;
  beforeEach(async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ listenHost: '127.0.0.1', targetHost: '127.0.0.1', targetPort: echo.port });
  });
  afterEach(async () => {
    await proxy.close();
    await new Promise((r) => echo.server.close(r));
  });

  it('pass: forwards both ways', async () => {
    const c = await dial(proxy.port);
    c.sock.write('hello');
    await until(() => c.data.toString() === 'hello');
    expect(proxy.stats()).toMatchObject({ accepted: 1, active: 1, bytesUpstream: 5, bytesDownstream: 5 });
    c.sock.end();
    await c.closed;
  });

  it('drop: resets existing connections and new ones', async () => {
    const c = await dial(proxy.port);
    c.sock.write('x');
    await until(() => c.data.length === 1);
    proxy.setMode('drop');
    const res = await c.closed;
    expect(res.error?.code).toBe('ECONNRESET');
    const c2 = connect({ host: '127.0.0.1', port: proxy.port });
    const err = await new Promise<NodeJS.ErrnoException | undefined>((r) => {
      c2.on('error', (e: NodeJS.ErrnoException) => r(e));
      c2.on('close', () => r(undefined));
    });
    expect(err?.code).toBe('ECONNRESET');
    expect(proxy.stats().resets).toBe(2);
  });

  it('stall: stops forwarding but keeps sockets open; pass resumes', async () => {
    const c = await dial(proxy.port);
    proxy.setMode('stall');
    c.sock.write('held');
    await sleep(200);
    expect(c.data.length).toBe(0);
    expect(echo.received[0]?.length ?? 0).toBe(0);
    expect(c.sock.destroyed).toBe(false);
    // a new connection during a stall is accepted but nothing flows
    const c2 = await dial(proxy.port);
    c2.sock.write('also');
    await sleep(100);
    expect(c2.data.length).toBe(0);
    proxy.setMode('pass');
    await until(() => c.data.toString() === 'held' && c2.data.toString() === 'also');
    c.sock.end();
    c2.sock.end();
  });

  it('cutAfter upstream: the target gets exactly N bytes, then both sides close', async () => {
    proxy.setMode({ cutAfter: 10, direction: 'upstream' });
    const c = await dial(proxy.port);
    c.sock.write(Buffer.alloc(100, 0x61));
    await c.closed;
    await until(() => echo.closed === 1);
    expect(echo.received[0]!.length).toBe(10);
    expect(proxy.stats().cuts).toBe(1);
  });

  it('cutAfter downstream: the client gets exactly N bytes of a larger reply', async () => {
    const c = await dial(proxy.port);
    c.sock.write('warm-up');
    await until(() => c.data.length === 7);
    proxy.setMode({ cutAfter: 1000, direction: 'downstream' }); // budget counts from now
    c.sock.write(Buffer.alloc(64 * 1024, 0x62));
    await c.closed;
    expect(c.data.length).toBe(7 + 1000);
  });

  it('cutAfter either: counts both directions together', async () => {
    proxy.setMode({ cutAfter: 6 });
    const c = await dial(proxy.port);
    c.sock.write('abcd'); // 4 up, then echo 4 down: cut after 2 of them
    await c.closed;
    expect(c.data.toString()).toBe('ab');
  });

  it('listens on a fixed port when asked and reports it', async () => {
    const p2 = await startFaultProxy({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: echo.port });
    expect(p2.port).toBeGreaterThan(0);
    const fixed = await startFaultProxy({
      listenHost: '127.0.0.1',
      listenPort: p2.port + 1,
      targetHost: '127.0.0.1',
      targetPort: echo.port,
    }).catch(() => null);
    if (fixed) {
      expect(fixed.port).toBe(p2.port + 1);
      await fixed.close();
    }
    await p2.close();
  });
});
