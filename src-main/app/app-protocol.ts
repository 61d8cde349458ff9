import { net, protocol } from 'electron';
import { join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RENDERER_CSP } from '../shared/csp';

/** Must run before `app.ready`: makes `app://` a standard, secure origin so CSP 'self' works. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves the renderer build from `rendererDir` under app://ohitori/, with our CSP header. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle('app', async (req) => {
    const url = new URL(req.url);
    if (url.host !== 'ohitori') return new Response(null, { status: 404 });
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const full = normalize(join(rendererDir, rel));
    if (!full.startsWith(rendererDir + sep)) return new Response(null, { status: 404 });
    const res = await net.fetch(pathToFileURL(full).toString());
    const headers = new Headers(res.headers);
    headers.set('content-security-policy', RENDERER_CSP);
    headers.set('x-content-type-options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}
