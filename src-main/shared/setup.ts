/** Setup wizard data shared by main and renderer. Plain data only. */

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** Fixes the app can apply after asking. */
export type PreflightFix = 'install-caddy' | 'create-subvolume';

export interface PreflightCheck {
  readonly id: string;
  readonly status: CheckStatus;
  /** i18n key under `preflight.`; values fill its placeholders. */
  readonly messageKey: string;
  readonly values?: Readonly<Record<string, string>>;
  readonly fix?: PreflightFix;
}

/** What the server is, as far as setup needs to know. */
export interface ServerFacts {
  readonly osId: string;
  readonly osVersion: string;
  readonly osName: string;
  readonly arch: string;
  readonly memMb: number;
  readonly swapMb: number;
  readonly diskFreeMb: number;
  readonly fsType: string;
  readonly user: string;
  readonly dockerVersion?: string;
  /** Whether docker works for the SSH user directly, or only through sudo. */
  readonly dockerAccess: 'direct' | 'sudo' | 'none';
  readonly compose?: { readonly kind: 'v2' | 'v1'; readonly version: string };
  readonly caddyVersion?: string;
  readonly caddyRunning: boolean;
  readonly systemd: boolean;
  readonly firewalld: boolean;
  readonly packageManager?: 'apt' | 'dnf' | 'zypper';
  /** Listening TCP sockets as `addr:port`, with the owning program where known. */
  readonly listening: readonly { readonly address: string; readonly port: number; readonly program?: string }[];
  /** The server's own interface addresses. */
  readonly addresses: readonly string[];
  /** What the server resolves the domain to. */
  readonly serverResolves: readonly string[];
  /** True when the stack directory already holds a Misskey config (a re-run). */
  readonly existingStack: boolean;
}

export interface PreflightReport {
  readonly facts: ServerFacts;
  /** What the desktop resolves the domain to. */
  readonly desktopResolves: readonly string[];
  readonly checks: readonly PreflightCheck[];
  /** Any `fail`: setup cannot go on until it is fixed. */
  readonly blocking: boolean;
  /** The narrowest `allowedPrivateNetworks` to propose, when the server resolves its own domain to a LAN address. */
  readonly proposedAllowedPrivateNetworks: readonly string[];
}
