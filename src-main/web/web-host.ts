import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppEvent } from '../shared/jobs';
import { RENDERER_CSP } from '../shared/csp';
import type { Dispatch } from '../ipc/router';
import { serveStatic } from './static-files';
import { bearer, checkRequest, newToken, WS_PROTOCOL, wsToken } from './web-auth';

export interface WebHostOptions {
  /** 0 (or absent) picks a free port. */
  readonly port?: number;
  readonly rendererDir: string;
  readonly token?: string;
}

export interface WebHost {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  /** Sends an event to every authenticated socket. */
  broadcast(event: AppEvent): void;
  /** The dispatcher is attached after services exist (they need `broadcast`). */
  attach(dispatch: Dispatch): void;
  close(): Promise<void>;
}

/** 4 MiB: the largest argument is an emoji image (2 MiB as base64, instance:emoji-add). */
const MAX_BODY = 4 << 20;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': RENDERER_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Browser mode's transport: the same dispatcher as Electron IPC behind a loopback-only HTTP +
 * WebSocket server. Only 127.0.0.1 is bound; every API request and socket must carry the run's
 * random token and come from our own origin. The static renderer build holds no secrets.
 */
export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? newToken();
  let dispatch: Dispatch | undefined;
  const sockets = new Set<WebSocket>();
  const server: Server = createServer((req, res) => void onRequest(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, handleProtocols: () => WS_PROTOCOL });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/api/')) return onApi(req, res, path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, SECURITY_HEADERS).end();
    if (req.headers.host !== new URL(origin).host) return void res.writeHead(403, SECURITY_HEADERS).end();
    await serveStatic(opts.rendererDir, path, res, SECURITY_HEADERS);
  }

  async function onApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const verdict = checkRequest(req, origin, token, bearer(req), false);
    if (!verdict.ok) return json(verdict.status, { ok: false, error: { code: 'FORBIDDEN', message: verdict.reason } });
    const m = /^\/api\/invoke\/([a-z-]+:[a-z-]+)$/.exec(path);
    if (req.method !== 'POST' || !m?.[1]) return json(404, { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: 'Unknown channel' } });
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return json(415, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'JSON body required' } });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return json(400, { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'The body is not valid JSON' } });
    }
    if (!dispatch) return json(503, { ok: false, error: { code: 'INTERNAL', message: 'Starting' } });
    const result = await dispatch(m[1], body);
    const status = result.ok ? 200 : result.error.code === 'UNKNOWN_CHANNEL' ? 404 : result.error.code === 'INVALID_ARGUMENT' ? 400 : 200;
    json(status, result);
  }

  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    const verdict =
      path === '/api/events' ? checkRequest(req, origin, token, wsToken(req), true) : ({ ok: false, status: 403, reason: 'path' } as const);
    if (!verdict.ok) {
      socket.end(
        `HTTP/1.1 ${verdict.status} ${verdict.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', () => ws.close(1008, 'send requests over HTTP'));
    });
  });

  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    broadcast(event) {
      const data = JSON.stringify(event);
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(data);
    },
    attach(d) {
      dispatch = d;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
