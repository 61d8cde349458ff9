/**
 * Object storage settings as main and the renderer see them: presets, the endpoint rule and the
 * connection test's steps. Plain data and pure functions only (the renderer imports this file).
 */

export const STORAGE_PRESETS = ['r2', 'minio', 'aws', 'custom'] as const;
export type StoragePreset = (typeof STORAGE_PRESETS)[number];

export interface StoragePresetInfo {
  readonly id: StoragePreset;
  /** Product name (not translated); `custom` has words in the UI instead. */
  readonly label: string;
  /** Endpoint template; `<accountid>` / `<region>` / `<host>` are for the user to fill in. */
  readonly endpointTemplate: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
}

export const STORAGE_PRESET_INFO: Readonly<Record<StoragePreset, StoragePresetInfo>> = {
  r2: {
    id: 'r2',
    label: 'Cloudflare R2',
    endpointTemplate: 'https://<accountid>.r2.cloudflarestorage.com',
    region: 'auto',
    forcePathStyle: true,
  },
  minio: { id: 'minio', label: 'MinIO', endpointTemplate: 'https://<host>:9000', region: 'us-east-1', forcePathStyle: true },
  aws: { id: 'aws', label: 'Amazon S3', endpointTemplate: 'https://s3.<region>.amazonaws.com', region: 'us-east-1', forcePathStyle: false },
  custom: { id: 'custom', label: '', endpointTemplate: 'https://', region: 'us-east-1', forcePathStyle: true },
};

export const DEFAULT_STORAGE_PREFIX = 'ohitori/';

/** True for 127.0.0.0/8, ::1, `localhost`, RFC 1918, 169.254/16, 100.64/10 (CGNAT), fc00::/7, fe80::/10, `*.local`/`*.lan`/`*.home.arpa`. */
export function isPrivateOrLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.lan') || h.endsWith('.home.arpa')) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 127 ||
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (h.includes(':')) return h === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(h) || /^fe[89ab][0-9a-f]?:/.test(h);
  return false;
}

export type EndpointCheck =
  | { readonly ok: true; readonly insecure: boolean }
  | { readonly ok: false; readonly reason: 'not-a-url' | 'scheme' | 'http-public' | 'has-path' | 'has-credentials' | 'template' };

/**
 * The endpoint rule: an https URL with no path, query or credentials; plain http only to a
 * loopback or private address (a MinIO at home), reported as `insecure` so the UI warns.
 */
export function checkEndpoint(endpoint: string): EndpointCheck {
  if (/[<>]/.test(endpoint)) return { ok: false, reason: 'template' };
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return { ok: false, reason: 'not-a-url' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { ok: false, reason: 'scheme' };
  if (u.username || u.password) return { ok: false, reason: 'has-credentials' };
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return { ok: false, reason: 'has-path' };
  if (u.protocol === 'http:')
    return isPrivateOrLoopbackHost(u.hostname) ? { ok: true, insecure: true } : { ok: false, reason: 'http-public' };
  return { ok: true, insecure: false };
}

/** Bucket names as S3 allows them (3–63 lowercase letters, digits, dots, hyphens). */
export const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Prefix: empty, or path segments each ending in `/`; no leading `/`, no `.`/`..` segments. */
export const PREFIX_RE = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*$/;

/** Storage settings of one server profile as the UI sees them: never a secret, only whether one is saved. */
export interface StorageView {
  readonly profileId: string;
  readonly preset: StoragePreset;
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  readonly desktopAccessKeyId: string;
  readonly hasDesktopSecret: boolean;
  readonly serverAccessKeyId?: string;
  readonly hasServerSecret: boolean;
  /** Plain http to a private address. */
  readonly insecure: boolean;
  readonly updatedAt: string;
}

export const STORAGE_TEST_STEPS = ['head-bucket', 'list', 'put', 'get', 'delete', 'server-put', 'server-delete'] as const;
export type StorageTestStep = (typeof STORAGE_TEST_STEPS)[number];

export interface StorageStepResult {
  readonly step: StorageTestStep;
  /** `ok`; `failed` (with `code`); `skipped`; for `server-delete`, `allowed` (a warning) or `denied` (good). */
  readonly outcome: 'ok' | 'failed' | 'skipped' | 'allowed' | 'denied';
  readonly code?: string;
  readonly ms?: number;
}

export interface StorageTestResult {
  readonly steps: readonly StorageStepResult[];
  /** null when no server key is saved. */
  readonly serverCanDelete: boolean | null;
  /** Storage `Date` minus this computer's clock, in ms, when the storage sent one. */
  readonly clockSkewMs?: number;
}
