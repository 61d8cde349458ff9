/**
 * Health probe for Redis: TCP connect, optional AUTH, `PING` over raw RESP, expect `+PONG`.
 * The double keeps no state in Redis; it only needs to know Redis is up, as /healthz does.
 */
import { connect } from 'node:net';

function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Resolves true when Redis answers PONG within `timeoutMs`. Never rejects. */
export function redisPing(host: string, port: number, pass?: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => sock.write((pass ? resp('AUTH', pass) : '') + resp('PING')));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('+PONG\r\n')) done(true);
      else if (buf.startsWith('-')) done(false);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}
