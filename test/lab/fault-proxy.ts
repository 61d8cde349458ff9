import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

/** Direction of forwarded bytes: upstream = client → target, downstream = target → client. */
export type FaultDirection = 'upstream' | 'downstream' | 'either';

/**
 * What the proxy does to traffic:
 * - `pass`: forward normally.
 * - `drop`: reset (RST) every existing connection and every new one, like a dead link/firewall.
 * - `stall`: stop forwarding in both directions but keep every socket open (a silent hang).
 * - `{ cutAfter, direction }`: forward exactly `cutAfter` more bytes in `direction` per connection
 *   (counted from when the mode is set, or from connect for new connections), then close both sides.
 */
export type FaultMode = 'pass' | 'drop' | 'stall' | { cutAfter: number; direction?: FaultDirection };

/** Options of startFaultProxy. */
export interface FaultProxyOptions {
  listenHost: string;
  /** 0 or omitted: pick a free port. */
  listenPort?: number;
  targetHost: string;
  targetPort: number;
  mode?: FaultMode;
}

/** Counters for assertions. */
export interface FaultProxyStats {
  accepted: number;
  active: number;
  bytesUpstream: number;
  bytesDownstream: number;
  cuts: number;
  resets: number;
}

/** A running proxy. */
export interface FaultProxy {
  port: number;
  host: string;
  setMode(mode: FaultMode): void;
  mode(): FaultMode;
  stats(): FaultProxyStats;
  close(): Promise<void>;
}

interface Conn {
  client: Socket;
  target: Socket;
  /** bytes forwarded since the current cut budget started */
  up: number;
  down: number;
  closed: boolean;
}

/**
 * In-process TCP proxy that injects network faults between the app code under test and a real
 * service (sshd, s3rver, Caddy), so reliability tests (G12, G14, G18) can fail links on demand.
 */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  let mode: FaultMode = opts.mode ?? 'pass';
  const conns = new Set<Conn>();
  const stats: FaultProxyStats = { accepted: 0, active: 0, bytesUpstream: 0, bytesDownstream: 0, cuts: 0, resets: 0 };

  const reset = (c: Conn): void => {
    if (c.closed) return;
    c.closed = true;
    stats.resets++;
    c.client.resetAndDestroy();
    c.target.resetAndDestroy();
  };
  const finish = (c: Conn): void => {
    if (c.closed) return;
    c.closed = true;
    c.client.destroy();
    c.target.destroy();
  };
  const applyFlow = (c: Conn): void => {
    if (c.closed) return;
    if (mode === 'stall') {
      c.client.pause();
      c.target.pause();
    } else {
      c.client.resume();
      c.target.resume();
    }
  };

  /** Forward one chunk, honouring the cut budget. */
  const forward = (c: Conn, dir: 'upstream' | 'downstream', chunk: Buffer): void => {
    if (c.closed) return;
    const dst = dir === 'upstream' ? c.target : c.client;
    const src = dir === 'upstream' ? c.client : c.target;
    let data = chunk;
    let cut = false;
    if (typeof mode === 'object') {
      const d = mode.direction ?? 'either';
      if (d === 'either' || d === dir) {
        const used = d === 'either' ? c.up + c.down : dir === 'upstream' ? c.up : c.down;
        const left = Math.max(0, mode.cutAfter - used);
        if (data.length >= left) {
          data = data.subarray(0, left);
          cut = true;
        }
      }
    }
    if (dir === 'upstream') {
      c.up += data.length;
      stats.bytesUpstream += data.length;
    } else {
      c.down += data.length;
      stats.bytesDownstream += data.length;
    }
    if (cut) {
      stats.cuts++;
      c.closed = true;
      // Deliver exactly the budget, then close both sides.
      dst.end(data, () => dst.destroy());
      src.destroy();
      return;
    }
    if (data.length > 0 && !dst.write(data)) {
      src.pause();
      dst.once('drain', () => applyFlow(c));
    }
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    stats.accepted++;
    if (mode === 'drop') {
      stats.resets++;
      client.resetAndDestroy();
      return;
    }
    const target = connect({ host: opts.targetHost, port: opts.targetPort });
    const c: Conn = { client, target, up: 0, down: 0, closed: false };
    conns.add(c);
    stats.active++;
    const gone = (): void => {
      if (conns.delete(c)) stats.active--;
      finish(c);
    };
    client.on('data', (b: Buffer) => forward(c, 'upstream', b));
    target.on('data', (b: Buffer) => forward(c, 'downstream', b));
    client.on('end', () => !c.closed && target.end());
    target.on('end', () => !c.closed && client.end());
    client.on('close', gone);
    target.on('close', gone);
    client.on('error', gone);
    target.on('error', gone);
    target.pause();
    target.on('connect', () => applyFlow(c));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort ?? 0, opts.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    host: opts.listenHost,
    mode: () => mode,
    stats: () => ({ ...stats }),
    setMode(next: FaultMode): void {
      mode = next;
      for (const c of [...conns]) {
        if (next === 'drop') {
          reset(c);
          continue;
        }
        if (typeof next === 'object') {
          c.up = 0;
          c.down = 0;
          if (next.cutAfter <= 0) {
            stats.cuts++;
            finish(c);
            continue;
          }
        }
        applyFlow(c);
      }
    },
    close(): Promise<void> {
      for (const c of conns) finish(c);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
