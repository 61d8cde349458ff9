import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Serves a file of the renderer build, refusing anything outside `root`. */
export async function serveStatic(root: string, urlPath: string, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const full = normalize(join(root, rel));
  if (!full.startsWith(root + sep) || rel.includes('\0')) {
    res.writeHead(404).end();
    return;
  }
  try {
    const s = await stat(full);
    if (!s.isFile()) throw new Error('not a file');
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES[extname(full)] ?? 'application/octet-stream',
      'content-length': String(s.size),
    });
    createReadStream(full).pipe(res);
  } catch {
    res.writeHead(404, headers).end();
  }
}
