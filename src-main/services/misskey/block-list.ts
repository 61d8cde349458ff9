import { domainToASCII } from 'node:url';
import type { BlockImportPreview, RejectedLine } from '../../shared/instance';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A host as Misskey's blockedHosts expects it: lower case, punycode, no scheme, port, path or
 * trailing dot. `*.example.com` becomes `example.com` (Misskey blocks subdomains of a listed host
 * anyway). A URL is reduced to its host. Null when it is not a host name.
 */
export function normalizeHost(raw: string): string | null {
  let s = raw.trim().toLowerCase();
  if (s === '') return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(s)) {
    try {
      s = new URL(s).hostname;
    } catch {
      return null;
    }
  }
  s = s.replace(/^\*\./, '').replace(/\.$/, '');
  if (s.length > 253 || !s.includes('.')) return null;
  const ascii = domainToASCII(s);
  if (ascii === '') return null;
  const labels = ascii.split('.');
  if (!labels.every((l) => LABEL.test(l))) return null;
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return null;
  return ascii;
}

/** Splits one CSV line (RFC 4180 quotes) into fields. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** One candidate host per entry, with its 1-based line number. */
export interface BlockListEntry {
  readonly line: number;
  readonly text: string;
}

/**
 * Reads a block list: one host per line (blank lines and `#` comments skipped), or a CSV whose
 * header has a `domain` or `#domain` column (Mastodon's domain-block export).
 */
export function readBlockListEntries(text: string): BlockListEntry[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstIdx = lines.findIndex((l) => l.trim() !== '');
  if (firstIdx < 0) return [];
  const header = splitCsvLine(lines[firstIdx]!).map((h) => h.trim().toLowerCase());
  const col = header.length > 1 || header[0] === '#domain' ? header.findIndex((h) => h === 'domain' || h === '#domain') : -1;
  const out: BlockListEntry[] = [];
  if (col >= 0) {
    for (let i = firstIdx + 1; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.trim() === '') continue;
      out.push({ line: i + 1, text: splitCsvLine(l)[col] ?? '' });
    }
    return out;
  }
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '' || l.startsWith('#')) continue;
    out.push({ line: i + 1, text: l });
  }
  return out;
}

/** Key used to compare hosts already in Misskey's list (it lower-cases but does not trim). */
const key = (h: string): string => h.trim().toLowerCase();

/** What an import would add to `current`, and what it drops and why. */
export function previewBlockImport(text: string, current: readonly string[], maxSamples = 50): BlockImportPreview {
  const existing = new Set(current.map(key));
  const seen = new Set<string>();
  const added: string[] = [];
  const samples: RejectedLine[] = [];
  let duplicates = 0;
  let alreadyBlocked = 0;
  let invalid = 0;
  const entries = readBlockListEntries(text);
  const reject = (e: BlockListEntry, reason: RejectedLine['reason']): void => {
    if (samples.length < maxSamples) samples.push({ line: e.line, text: e.text.slice(0, 200), reason });
  };
  for (const e of entries) {
    const h = normalizeHost(e.text);
    if (h === null) {
      invalid++;
      reject(e, 'invalid');
    } else if (seen.has(h)) {
      duplicates++;
      reject(e, 'duplicate-in-file');
    } else if (existing.has(h)) {
      seen.add(h);
      alreadyBlocked++;
      reject(e, 'already-blocked');
    } else {
      seen.add(h);
      added.push(h);
    }
  }
  return { base: [...current], added, duplicates, alreadyBlocked, invalid, total: entries.length, samples };
}

/** True when two host lists hold the same entries (order aside). */
export function sameHostList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((v, i) => v === sb[i]);
}

/**
 * The list to write: `current` untouched except for removed hosts (compared case-insensitively,
 * whitespace-insensitively), plus new hosts that are not there yet, in order.
 */
export function mergeBlockedHosts(current: readonly string[], add: readonly string[], remove: readonly string[] = []): string[] {
  const gone = new Set(remove.map(key));
  const next = current.filter((h) => !gone.has(key(h)));
  const have = new Set(next.map(key));
  for (const h of add) {
    const k = key(h);
    if (!have.has(k) && !gone.has(k)) {
      next.push(h);
      have.add(k);
    }
  }
  return next;
}
