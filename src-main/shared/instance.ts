/**
 * Instance administration (Misskey API) as the UI sees it: plain data shared by main and the
 * renderer. Tokens never appear here.
 */

/** The token permissions Ohitori's instance features use (misskey-js `permissions` names). */
export const INSTANCE_PERMISSIONS = [
  'read:account',
  'read:admin:meta',
  'write:admin:meta',
  'write:admin:roles',
  'read:admin:relays',
  'write:admin:relays',
  'write:admin:federation',
  'read:admin:show-user',
  'write:admin:suspend-user',
  'write:admin:unsuspend-user',
  'write:admin:drive',
  'write:drive',
  'read:admin:emoji',
  'write:admin:emoji',
] as const;
export type InstancePermission = (typeof INSTANCE_PERMISSIONS)[number];

/** How the stored token was obtained: the first admin's own token, MiAuth, or pasted by the user. */
export type TokenKind = 'native' | 'miauth' | 'pasted';

/** `granted`/`missing` when proven, `unknown` when it cannot be checked without side effects. */
export type PermissionState = 'granted' | 'missing' | 'unknown';

export interface PermissionReport {
  readonly permission: InstancePermission;
  readonly state: PermissionState;
}

/** Features that exist only from some Misskey version on (misskey.md §1.4). */
export interface VersionGates {
  readonly setupPassword: boolean;
  readonly serverSetupWizardPreset: boolean;
  readonly remoteNotesCleaning: boolean;
  readonly suspensionState: boolean;
  readonly healthz: boolean;
  readonly supported: boolean;
}

/** What the Instance screen shows for one server profile. */
export interface InstanceStatus {
  readonly profileId: string;
  readonly origin: string;
  readonly reachable: boolean;
  /** Why it is not reachable: no answer in time, an untrusted certificate, or the network / proxy. */
  readonly unreachableReason?: 'timeout' | 'tls' | 'network';
  readonly version?: string;
  readonly requireSetup?: boolean;
  readonly gates?: VersionGates;
  readonly connected: boolean;
  /** The secret store is locked, so whether a token exists is unknown. */
  readonly vaultLocked?: boolean;
  readonly tokenKind?: TokenKind;
  readonly username?: string;
  /** Permissions of the stored token (when connected). */
  readonly permissions?: readonly PermissionReport[];
  readonly isNativeToken?: boolean;
}

/** The settings Ohitori manages, as read back from `admin/meta`. */
export interface InstanceSettings {
  readonly version: string;
  readonly name: string | null;
  readonly description: string | null;
  readonly themeColor: string | null;
  readonly iconUrl: string | null;
  readonly singleUserMode: boolean | null;
  readonly disableRegistration: boolean;
  readonly emailRequiredForSignup: boolean;
  readonly enableIpLogging: boolean | null;
  readonly federation: string | null;
  readonly enableRemoteNotesCleaning: boolean | null;
  readonly enableFanoutTimeline: boolean | null;
  readonly enableFanoutTimelineDbFallback: boolean | null;
  readonly enableReactionsBuffering: boolean | null;
  readonly entrancePageStyle: string | null;
  readonly cacheRemoteFiles: boolean;
  readonly cacheRemoteSensitiveFiles: boolean;
  readonly blockedHosts: readonly string[];
}

export type RelayStatus = 'requesting' | 'accepted' | 'rejected';
export interface RelayView {
  readonly id: string;
  readonly inbox: string;
  readonly status: RelayStatus;
}

/** One line of an imported block list that was not taken, with why. */
export interface RejectedLine {
  readonly line: number;
  readonly text: string;
  readonly reason: 'invalid' | 'duplicate-in-file' | 'already-blocked';
}

/** What importing a block list would do; `base` is the list it was computed against. */
export interface BlockImportPreview {
  readonly base: readonly string[];
  readonly added: readonly string[];
  readonly duplicates: number;
  readonly alreadyBlocked: number;
  readonly invalid: number;
  readonly total: number;
  /** The first rejected lines (at most 50) so the user sees what was dropped. */
  readonly samples: readonly RejectedLine[];
}

export interface FirstAdminResult {
  readonly username: string;
  readonly settings: InstanceSettings;
}

/** A resolved user as the Users panel shows it. */
export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly host: string | null;
  readonly name: string | null;
  readonly isSuspended: boolean;
}

/** Result of the emoji zip import job (Misskey imports it in its own queue afterwards). */
export interface EmojiZipResult {
  readonly fileId: string;
  readonly queued: true;
}
