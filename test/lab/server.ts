import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { loadLabEnv, type LabServerName } from './env';

/** Result of a command run inside a lab server's namespaces. */
export interface ServerRunResult {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Run argv on lab server `server` as root, inside its network and mount namespaces (what a root
 * shell on that server would see: 127.0.0.1:3000 is the server's own loopback, /var/servers is
 * its own). For test setup and assertions; the app itself must go through SSH.
 */
export function runInServer(
  server: LabServerName,
  argv: readonly string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<ServerRunResult> {
  const s = loadLabEnv().servers[server];
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${s.netns}`, `--mount=${s.mountNs}`, '--', ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    child.stdin.on('error', () => {}); // EPIPE when the command exits without reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** Response of labFetch. */
export interface LabResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

/**
 * HTTPS request to a lab server through its Caddy, with the lab CA trusted and the name resolved
 * to the server's address (no DNS in the lab). `host` defaults to the server's own domain; pass
 * e.g. the restore domain to reach a site the app configured. `path` may be a full https URL.
 */
export function labFetch(
  server: LabServerName,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; host?: string; timeoutMs?: number } = {},
): Promise<LabResponse> {
  const env = loadLabEnv();
  const s = env.servers[server];
  const url = new URL(path, `https://${init.host ?? s.domain}`);
  const ca = readFileSync(env.caddyCaPath);
  const lookup: LookupFunction = (_host, options, cb) => {
    if (options.all) (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: s.ip, family: 4 }]);
    else cb(null, s.ip, 4);
  };
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, ca, lookup, servername: url.hostname, timeout: init.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: () => body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`labFetch ${url.href} on server ${server}: timed out`)));
    req.on('error', reject);
    req.end(init.body);
  });
}
