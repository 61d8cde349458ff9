/**
 * Host and URL rules Misskey applies on input: the update-meta host lists (lower-cased, empty
 * dropped, NOT trimmed: misskey.md §10 row 18), punycode for lookups, https-only relay inboxes.
 */
import { domainToASCII } from 'node:url';

/** What admin/update-meta stores for blockedHosts / silencedHosts / mediaSilencedHosts. */
export function normalizeHostList(hosts: readonly string[]): string[] {
  return hosts.filter((h) => h !== '').map((h) => h.toLowerCase());
}

/** UtilityService.toPuny: lower-case and IDNA-encode; falls back to lower-case when not a domain. */
export function toPuny(host: string): string {
  const ascii = domainToASCII(host.toLowerCase());
  return ascii === '' ? host.toLowerCase() : ascii;
}

/** Null for the local host (`null`, empty or our own hostname), else the punycoded host. */
export function remoteHostOrNull(host: string | null | undefined, localHost: string): string | null {
  if (host == null || host === '') return null;
  const h = toPuny(host);
  return h === localHost.toLowerCase() ? null : h;
}

/** admin/relays/add accepts only a parsable https URL (endpoints/admin/relays/add.ts). */
export function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Matches Misskey's blocked-host check: exact host or any subdomain of a listed host. */
export function isHostBlocked(blockedHosts: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  return blockedHosts.some((b) => h === b || h.endsWith(`.${b}`));
}
