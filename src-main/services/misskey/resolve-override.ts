import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { FetchFn } from './misskey-client';

/**
 * TEST HOOK, not a user setting. `OHITORI_TEST_RESOLVE="b.ohitori.test:10.231.0.3"` makes the
 * Misskey client resolve the listed names to the given IP literals, like `curl --resolve`, so
 * browser mode can reach a lab server's Caddy under its real https name without touching
 * /etc/hosts. TLS still verifies the certificate for the name (trust the lab CA with
 * NODE_EXTRA_CA_CERTS). Documented in docs/operations.md; main logs a line when it is in force.
 */
export const RESOLVE_ENV = 'OHITORI_TEST_RESOLVE';

/** Parses `host:ip[,host:ip…]`; IP literals only. */
export function parseResolveSpec(spec: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of spec.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const i = part.indexOf(':');
    const host = part.slice(0, i).toLowerCase();
    const ip = part.slice(i + 1);
    if (i <= 0 || !isIP(ip)) throw new Error(`${RESOLVE_ENV}: expected host:ip, got ${part}`);
    map.set(host, ip);
  }
  return map;
}

/** A name lookup that answers only from `map` (the test hook). */
export function mapLookup(map: ReadonlyMap<string, string>): LookupFunction {
  return (hostname, options, cb) => {
    const ip = map.get(hostname.toLowerCase());
    if (!ip) {
      cb(Object.assign(new Error(`not resolvable in test mode: ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
      return;
    }
    const family = isIP(ip);
    if ((options as { all?: boolean }).all)
      (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: ip, family }]);
    else cb(null, ip, family);
  };
}

/**
 * A fetch over node:http(s) with an optional name lookup and an optional CA to trust instead of
 * the system roots: a LAN instance behind Caddy's own CA (`tls internal`) is verified against
 * that CA, pinned at setup, rather than not verified at all.
 */
export function createNodeFetch(opts: { lookup?: LookupFunction; ca?: string }): FetchFn {
  const { lookup, ca } = opts;
  return async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    if (body) headers['content-length'] = String(body.length);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const r = send(
        url,
        { method: req.method, headers, ...(lookup ? { lookup } : {}), ...(ca ? { ca } : {}), signal: init.signal ?? undefined },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
            resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
          });
        },
      );
      r.on('error', (e) => reject(Object.assign(new TypeError('fetch failed'), { cause: e })));
      r.end(body);
    });
  };
}

/** The test hook's lookup when the env var is set, else undefined. */
export function lookupFromEnv(env: NodeJS.ProcessEnv, log: (line: string) => void = console.warn): LookupFunction | undefined {
  const spec = env[RESOLVE_ENV];
  if (!spec) return undefined;
  const map = parseResolveSpec(spec);
  log(`ohitori: TEST HOOK ${RESOLVE_ENV} in force: ${[...map].map(([h, ip]) => `${h}→${ip}`).join(', ')}`);
  return mapLookup(map);
}
