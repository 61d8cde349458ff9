import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A fresh random token for one browser-mode run (base64url, 256 bits). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type AuthVerdict = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/**
 * Checks a request to the browser-mode host: the Host header must be ours (against DNS
 * rebinding), an Origin, when sent, must be ours (browsers always send one on WebSocket and
 * cross-site requests), and the token must match.
 */
export function checkRequest(
  req: IncomingMessage,
  origin: string,
  token: string,
  presented: string | undefined,
  requireOrigin: boolean,
): AuthVerdict {
  const host = req.headers.host;
  if (host !== new URL(origin).host) return { ok: false, status: 403, reason: 'host' };
  const o = req.headers.origin;
  if (o !== undefined && o !== origin) return { ok: false, status: 403, reason: 'origin' };
  if (requireOrigin && o === undefined) return { ok: false, status: 403, reason: 'origin' };
  if (!presented) return { ok: false, status: 401, reason: 'token missing' };
  if (!tokensEqual(presented, token)) return { ok: false, status: 403, reason: 'token' };
  return { ok: true };
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

/** WebSocket clients cannot set headers: the token rides in a subprotocol `token.<token>`. */
export const WS_PROTOCOL = 'ohitori.v1';
export function wsToken(req: IncomingMessage): string | undefined {
  const list = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  return list.find((p) => p.startsWith('token.'))?.slice(6);
}
