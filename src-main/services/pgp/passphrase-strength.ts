/**
 * A simple, explainable passphrase strength estimate used before a key is protected with it.
 * It does not try to be zxcvbn: it estimates entropy from the character classes used (or from the
 * word count for space-separated passphrases) and penalises the obvious patterns. The UI shows the
 * reasons; main refuses a score below {@link MIN_ACCEPTED_SCORE}.
 */
export interface PassphraseStrength {
  /** 0 (useless) … 4 (strong). */
  readonly score: 0 | 1 | 2 | 3 | 4;
  /** Rough entropy estimate in bits. */
  readonly bits: number;
  /** i18n keys (`passphrase.*`) explaining the score; empty for a strong passphrase. */
  readonly reasons: readonly PassphraseReason[];
}

export type PassphraseReason =
  | 'passphrase.empty'
  | 'passphrase.too-short'
  | 'passphrase.few-character-kinds'
  | 'passphrase.repeated'
  | 'passphrase.sequence'
  | 'passphrase.common'
  | 'passphrase.few-words';

/** Below this the key service refuses to protect a private key. */
export const MIN_ACCEPTED_SCORE = 2;

const COMMON = [
  'password',
  'passw0rd',
  'qwerty',
  'letmein',
  'misskey',
  'admin',
  'welcome',
  'iloveyou',
  'monkey',
  'dragon',
  'abc123',
  '123456',
  'ohitori',
];

/** Estimates the strength of a passphrase; pure and fast, usable on every keystroke (via IPC). */
export function checkPassphraseStrength(passphrase: string): PassphraseStrength {
  const reasons: PassphraseReason[] = [];
  const chars = [...passphrase];
  if (chars.length === 0) return { score: 0, bits: 0, reasons: ['passphrase.empty'] };

  const words = passphrase
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  let pool = 0;
  if (/[a-z]/.test(passphrase)) pool += 26;
  if (/[A-Z]/.test(passphrase)) pool += 26;
  if (/[0-9]/.test(passphrase)) pool += 10;
  if (/[^a-zA-Z0-9\s]/.test(passphrase)) pool += 33;
  if (/\s/.test(passphrase)) pool += 1;
  // Non-ASCII (e.g. Japanese) characters come from a far larger alphabet.
  if ([...passphrase].some((c) => c.charCodeAt(0) > 0x7f)) pool += 2000;

  // Each distinct character contributes fully; repeats contribute little.
  const distinct = new Set(chars).size;
  let bits = distinct * Math.log2(Math.max(pool, 2)) + (chars.length - distinct) * 1;
  if (words.length >= 4) bits = Math.max(bits * 0.6, words.length * 11); // diceware-like estimate, cautious

  const lower = passphrase.toLowerCase();
  if (COMMON.some((c) => lower.includes(c))) {
    reasons.push('passphrase.common');
    bits -= 20;
  }
  if (/(.)\1{3,}/u.test(passphrase) || distinct <= chars.length / 3) {
    reasons.push('passphrase.repeated');
    bits -= 10;
  }
  if (hasSequence(lower)) {
    reasons.push('passphrase.sequence');
    bits -= 10;
  }
  if (chars.length < 12) reasons.push('passphrase.too-short');
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(passphrase)).length;
  if (kinds < 2 && words.length < 4) reasons.push('passphrase.few-character-kinds');
  if (words.length > 1 && words.length < 4 && chars.length < 20) reasons.push('passphrase.few-words');

  bits = Math.max(0, Math.round(bits));
  const score = bits < 28 ? 0 : bits < 45 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4;
  return { score: chars.length < 8 ? (Math.min(score, 1) as 0 | 1) : score, bits, reasons };
}

function hasSequence(s: string): boolean {
  const rows = ['abcdefghijklmnopqrstuvwxyz', '0123456789', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
  for (let i = 0; i + 4 <= s.length; i++) {
    const sub = s.slice(i, i + 4);
    if (rows.some((r) => r.includes(sub) || [...r].reverse().join('').includes(sub))) return true;
  }
  return false;
}
