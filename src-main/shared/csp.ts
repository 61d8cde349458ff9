/**
 * The renderer's Content-Security-Policy: only our own bundled scripts and styles, no inline
 * script, no eval, no plugins, no framing, no form posts. `connect-src 'self'` allows the
 * browser-mode API and its WebSocket on the same origin.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
