import { isIP } from 'node:net';

/** RFC 1918, loopback, link-local, CGNAT and IPv6 ULA/link-local: addresses not reachable from the Internet. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (v === 6) {
    const x = ip.toLowerCase();
    return (
      x === '::1' ||
      x.startsWith('fc') ||
      x.startsWith('fd') ||
      x.startsWith('fe80:') ||
      x.startsWith('::ffff:10.') ||
      x.startsWith('::ffff:192.168.')
    );
  }
  return false;
}

/** The narrowest CIDR for one address: a /32 or /128 (misskey.md: the allowlist is port-agnostic, keep it tight). */
export function narrowestCidr(ip: string): string {
  return isIP(ip) === 6 ? `${ip}/128` : `${ip}/32`;
}
