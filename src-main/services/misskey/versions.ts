import type { VersionGates } from '../../shared/instance';

/** Compares Misskey versions like "2024.10.0", "2025.5.1-beta.2" or "13.14.2" (pre-release ignored). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): number[] =>
    v
      .trim()
      .split(/[-+]/)[0]!
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

/** The oldest Misskey the admin features are written for (PostgreSQL 15, `cacheRemoteFiles` default off). */
export const MIN_SUPPORTED_VERSION = '2023.9.0';

/** Which API shapes a given `meta.version` has (misskey.md §1.4). */
export function versionGates(version: string): VersionGates {
  const atLeast = (v: string): boolean => compareVersions(version, v) >= 0;
  return {
    healthz: atLeast('2024.5.0'),
    suspensionState: atLeast('2024.7.0'),
    setupPassword: atLeast('2024.10.0'),
    serverSetupWizardPreset: atLeast('2025.5.1'),
    remoteNotesCleaning: atLeast('2025.8.0'),
    supported: atLeast(MIN_SUPPORTED_VERSION),
  };
}
