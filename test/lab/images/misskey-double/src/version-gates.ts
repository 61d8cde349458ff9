/**
 * Behaviour that depends on the Misskey version the double imitates (DOUBLE_MISSKEY_VERSION), so
 * the app's version gates (misskey.md §1.4) can be tested against older "servers" too.
 */

/** Compares Misskey CalVer/SemVer strings like "2024.10.0" or "13.14.2" (pre-release ignored). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) =>
    v
      .split('-')[0]!
      .split('.')
      .map((n) => Number.parseInt(n, 10) || 0);
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Features that appeared in a given release. */
export function versionFeatures(version: string) {
  const atLeast = (v: string) => compareVersions(version, v) >= 0;
  return {
    /** GET /healthz (PR #13834, 2024.5.0); older servers answer 404 there. */
    healthz: atLeast('2024.5.0'),
    /** `setupPassword` in admin/accounts/create (2024.10.0); before, the first caller becomes root. */
    setupPassword: atLeast('2024.10.0'),
  };
}
