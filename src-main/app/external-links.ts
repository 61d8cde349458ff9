/**
 * Hosts whose https pages the app may open in the user's browser (help pages, the user's own
 * instance is added at runtime). Anything else — other schemes, other hosts, credentials in
 * the URL — is refused.
 */
export const EXTERNAL_HOST_ALLOWLIST: readonly string[] = [
  'misskey-hub.net',
  'github.com',
  'developers.cloudflare.com',
  'min.io',
  'docs.aws.amazon.com',
];

export function isAllowedExternalUrl(raw: string, extraHosts: readonly string[] = []): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.port) return false;
  const host = url.hostname.toLowerCase();
  return [...EXTERNAL_HOST_ALLOWLIST, ...extraHosts].some((h) => host === h || host.endsWith(`.${h}`));
}
