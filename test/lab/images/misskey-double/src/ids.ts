/**
 * Misskey-shaped ids and tokens: `aid` (10 chars) / `aidx` (16 chars) time-ordered ids, 16-char
 * native user tokens and 32-char app tokens, so the app's format assumptions are exercised.
 */
import { randomBytes, randomInt } from 'node:crypto';

const TIME2000 = 946684800000;
const ALNUM = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const B36 = '0123456789abcdefghijklmnopqrstuvwxyz';
let counter = randomInt(0, 36 ** 4);
const nodeId = Array.from({ length: 4 }, () => B36[randomInt(0, 36)]).join('');

/** Misskey's `id` config values this double knows; others fall back to aidx. */
export type IdMethod = 'aid' | 'aidx';

/** A new id for `method`, time-ordered like Misskey's, at time `now` (ms). */
export function genId(method: IdMethod, now = Date.now()): string {
  const t = Math.max(0, now - TIME2000)
    .toString(36)
    .padStart(8, '0')
    .slice(-8);
  counter = (counter + 1) % 36 ** 4;
  if (method === 'aid') return t + (counter % 36 ** 2).toString(36).padStart(2, '0');
  return t + nodeId + counter.toString(36).padStart(4, '0');
}

/** secureRndstr: random alphanumerics, as Misskey uses for tokens. */
export function secureRndstr(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    if (b < 248) out += ALNUM[b % 62];
  }
  while (out.length < length) out += ALNUM[randomInt(0, 62)];
  return out;
}

/** Native tokens are 16 chars (user.token); AuthenticateService tells them apart by length. */
export const NATIVE_TOKEN_LENGTH = 16;
