/**
 * The HTTP face of the double: /healthz, POST /api/<endpoint> with Misskey's token rules and
 * error shapes, Fastify's shapes for routing and body errors (misskey.md §10 rows 38–39),
 * /files/<key> for drive files, nodeinfo. Every response carries `x-ohitori-double: 1`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiError, E, fastifyInvalidJson, fastifyNotFound, renderApiError, toInternalError } from './api-error';
import { drivePath } from './drive-store';
import { callEndpoint, type AnyEndpoint } from './endpoint-kit';
import { logger } from './log';
import { versionFeatures } from './version-gates';
import { miauthApprove, miauthCheck, miauthPage } from './miauth';
import { castMultipartFields } from './param-schema';
import { redisPing } from './redis-ping';
import { authenticate, getMeta, type Deps } from './state';

const log = logger('api');

/** Mutable readiness flag: false until the DB answered and migrations ran. */
export interface Readiness {
  ready: boolean;
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.setHeader('x-ohitori-double', '1');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    res.writeHead(status, status === 204 || status === 304 ? {} : { 'content-length': '0' }).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

type Parsed = { ok: true; body: Record<string, unknown> } | { ok: false; status: number; body?: unknown };

/** Body parsing with Fastify's error shapes; multipart only where the endpoint takes a file. */
async function parseBody(req: IncomingMessage, ep: AnyEndpoint, deps: Deps): Promise<Parsed> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const raw = await readBody(req, deps.cfg.maxFileSize + 1024 * 1024);
  if (raw === 'too-large')
    return {
      ok: false,
      status: 413,
      body: { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', error: 'Payload Too Large', message: 'Request body is too large' },
    };
  if (ep.meta.requireFile) {
    if (type !== 'multipart/form-data') return { ok: false, status: 400 };
    const form = await new Request('http://double/', {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type']) },
      body: raw,
    }).formData();
    const fields: Record<string, unknown> = {};
    for (const [k, v] of form.entries()) {
      if (typeof v === 'string') fields[k] = v;
      else if (fields.file === undefined) fields.file = v;
    }
    if (fields.file === undefined) return { ok: false, status: 400 };
    return { ok: true, body: fields };
  }
  if (raw.length === 0 && type !== 'application/json') return { ok: true, body: {} };
  if (type === 'application/json') {
    if (raw.length === 0)
      return {
        ok: false,
        status: 400,
        body: {
          statusCode: 400,
          code: 'FST_ERR_CTP_EMPTY_JSON_BODY',
          error: 'Bad Request',
          message: "Body cannot be empty when content-type is set to 'application/json'",
        },
      };
    try {
      return { ok: true, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> };
    } catch {
      return { ok: false, status: 400, body: fastifyInvalidJson };
    }
  }
  return {
    ok: false,
    status: 415,
    body: {
      statusCode: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      error: 'Unsupported Media Type',
      message: `Unsupported Media Type: ${type}`,
    },
  };
}

async function handleApi(req: IncomingMessage, res: ServerResponse, ep: AnyEndpoint, deps: Deps): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 405);
    return;
  }
  const parsed = await parseBody(req, ep, deps);
  if (!parsed.ok) {
    send(res, parsed.status, parsed.body);
    return;
  }
  const body = parsed.body;
  const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
  const auth = req.headers.authorization;
  const token = auth?.startsWith('Bearer ') ? auth.slice(7) : isObject ? body.i : undefined;
  if (token != null && typeof token !== 'string') {
    send(res, 400);
    return;
  }
  const apiHeaders = { 'cache-control': 'private, max-age=0, must-revalidate', 'access-control-allow-origin': '*' };
  let ps: Record<string, unknown> = isObject ? { ...body } : (body as unknown as Record<string, unknown>);
  if (isObject) delete ps.i;
  try {
    let me = null;
    let app = null;
    if (token != null) {
      const who = await authenticate(deps.pool, token);
      if (!who) throw new ApiError(E.authenticationFailed);
      me = who.user;
      app = who.app;
    }
    if (ep.meta.requireFile) {
      ps = { ...ps };
      castMultipartFields(ep.params, ps);
    }
    const result = await callEndpoint(ep, ps, { deps, me, app });
    if (result === undefined || result === null) send(res, 204, undefined, apiHeaders);
    else send(res, 200, result, apiHeaders);
  } catch (e) {
    const err = e instanceof ApiError ? e : toInternalError(e);
    if (!(e instanceof ApiError)) {
      // Misskey logs the params (token included) when an endpoint fails internally.
      log.error(`Internal error occurred in ${ep.name}: ${(e as Error).message}`, { ep: ep.name, ps: body, e: err.info });
    }
    const out = renderApiError(err);
    send(res, out.status, out.body, out.wwwAuthenticate ? { ...apiHeaders, 'www-authenticate': out.wwwAuthenticate } : apiHeaders);
  }
}

async function healthy(deps: Deps, readiness: Readiness): Promise<boolean> {
  if (!readiness.ready) return false;
  const db = deps.pool.query('SELECT 1').then(
    () => true,
    () => false,
  );
  const redis = redisPing(deps.cfg.redis.host, deps.cfg.redis.port, deps.cfg.redis.pass);
  return (await db) && (await redis);
}

async function serveFile(res: ServerResponse, key: string, deps: Deps): Promise<void> {
  const r = await deps.pool.query<{ type: string; name: string }>(`SELECT "type", "name" FROM "drive_file" WHERE "accessKey" = $1`, [key]);
  const row = r.rows[0];
  const path = drivePath(deps, key);
  if (!row || !(await stat(path).catch(() => null))) {
    send(res, 404);
    return;
  }
  res.writeHead(200, {
    'x-ohitori-double': '1',
    'content-type': row.type,
    'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(row.name)}`,
    'cache-control': 'max-age=31536000, immutable',
  });
  createReadStream(path).pipe(res);
}

/** Builds the server; `endpoints` is the full table from endpoints.ts. */
export function createDoubleServer(deps: Deps, endpoints: readonly AnyEndpoint[], readiness: Readiness): Server {
  const table = new Map(endpoints.map((e) => [e.name, e]));
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const path = url.pathname;
    let m: RegExpExecArray | null = null;
    const run = async () => {
      if (path === '/healthz' && !versionFeatures(deps.misskeyVersion).healthz) {
        send(res, 404, fastifyNotFound(req.method ?? 'GET', req.url ?? path));
      } else if (path === '/healthz') {
        send(res, (await healthy(deps, readiness)) ? 200 : 503, undefined, { 'cache-control': 'no-store' });
      } else if (readiness.ready && (m = /^\/api\/miauth\/([^/]+)\/check$/.exec(path)) && req.method === 'POST') {
        send(res, 200, await miauthCheck(deps, decodeURIComponent(m[1]!)));
      } else if (readiness.ready && (m = /^\/miauth\/([^/]+)(\/approve)?$/.exec(path))) {
        const session = decodeURIComponent(m[1]!);
        if (m[2] && req.method === 'POST') await miauthApprove(req, res, deps, session, url.searchParams);
        else miauthPage(res, session, url.searchParams);
      } else if (path.startsWith('/api/')) {
        const ep = table.get(path.slice(5));
        if (!ep) send(res, 404, fastifyNotFound(req.method ?? 'GET', req.url ?? path));
        else if (!readiness.ready) send(res, 503);
        else await handleApi(req, res, ep, deps);
      } else if (path.startsWith('/files/') && readiness.ready) {
        await serveFile(res, decodeURIComponent(path.slice(7)), deps);
      } else if (path === '/.well-known/nodeinfo') {
        send(res, 200, { links: [{ rel: 'http://nodeinfo.diaspora.software/ns/schema/2.1', href: `${deps.cfg.url}/nodeinfo/2.1` }] });
      } else if (path === '/nodeinfo/2.1' && readiness.ready) {
        const meta = await getMeta(deps.pool);
        send(res, 200, {
          version: '2.1',
          software: { name: 'misskey', version: deps.misskeyVersion, homepage: 'https://misskey-hub.net/' },
          protocols: ['activitypub'],
          services: { inbound: [], outbound: ['atom1.0', 'rss2.0'] },
          openRegistrations: !meta.settings.disableRegistration,
          usage: { users: {}, localPosts: 0 },
          metadata: { nodeName: meta.settings.name, nodeDescription: meta.settings.description, ohitoriDouble: true },
        });
      } else if (path === '/' && req.method === 'GET') {
        res
          .writeHead(200, { 'x-ohitori-double': '1', 'content-type': 'text/html; charset=utf-8' })
          .end(
            `<!doctype html><title>Misskey API double</title><p>This is Ohitori's <b>Misskey API double</b> (a test stand-in), answering like Misskey ${deps.misskeyVersion}. It has no web UI.</p>`,
          );
      } else {
        send(res, 404, fastifyNotFound(req.method ?? 'GET', req.url ?? path));
      }
    };
    run().catch((e: unknown) => {
      log.error(`request failed: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500);
      else res.destroy();
    });
  });
}
