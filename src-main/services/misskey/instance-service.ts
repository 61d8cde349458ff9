import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { LookupFunction } from 'node:net';
import type { Endpoints } from 'misskey-js';
import { AppError, isAppError, throwIfAborted } from '../../shared/errors';
import type {
  BlockImportPreview,
  EmojiZipResult,
  FirstAdminResult,
  InstancePermission,
  InstanceSettings,
  InstanceStatus,
  PermissionReport,
  RelayView,
  TokenKind,
  UserView,
} from '../../shared/instance';
import { INSTANCE_PERMISSIONS } from '../../shared/instance';
import type { ProgressFn } from '../../shared/progress';
import type { ServerProfile } from '../../shared/domain';
import type { SecretStore } from '../vault/secret-store';
import { formatAcct, parseAcct, suspendRefusal } from './acct';
import { mergeBlockedHosts, normalizeHost, previewBlockImport, sameHostList } from './block-list';
import { MisskeyClient, type FetchFn } from './misskey-client';
import { versionGates } from './versions';
import { createNodeFetch } from './resolve-override';

/** Secret-store entry of a profile's Misskey token (JSON: token, kind, permissions, username). */
export const misskeyTokenName = (profileId: string): string => `profile:${profileId}:misskey-token`;

interface StoredToken {
  readonly token: string;
  readonly kind: TokenKind;
  readonly username?: string;
  readonly permissions: readonly PermissionReport[];
  readonly native: boolean;
}

/** What the single-user preset of Misskey's own setup wizard sends (misskey.md §1.3). */
export function singleUserPreset(
  version: string,
  federate: boolean,
  clientOptions: Record<string, unknown> = {},
): Endpoints['admin/update-meta']['req'] {
  const g = versionGates(version);
  return {
    disableRegistration: true,
    emailRequiredForSignup: false,
    enableIpLogging: false,
    enableFanoutTimeline: true,
    enableFanoutTimelineDbFallback: true,
    enableReactionsBuffering: false,
    cacheRemoteFiles: false,
    cacheRemoteSensitiveFiles: false,
    // Misskey replaces clientOptions as a whole: keep what is there, change only the entrance page.
    clientOptions: { ...clientOptions, entrancePageStyle: 'simple' },
    ...(g.serverSetupWizardPreset ? { singleUserMode: true, federation: federate ? ('all' as const) : ('none' as const) } : {}),
    ...(g.remoteNotesCleaning ? { enableRemoteNotesCleaning: true } : {}),
  };
}

/** Default role policies of the wizard's single-user preset. */
export const SINGLE_USER_POLICIES = {
  driveCapacityMb: 8192,
  rateLimitFactor: 0.3,
  userListLimit: 100,
  antennaLimit: 100,
  webhookLimit: 100,
  canImportFollowing: true,
  canImportMuting: true,
  canImportBlocking: true,
  canImportUserLists: true,
  canImportAntennas: true,
} as const;

/**
 * Side-effect-free permission probes: Misskey checks the token's permission before it validates
 * parameters (ApiCallService), so a call with deliberately missing parameters answers
 * PERMISSION_DENIED without the permission and INVALID_PARAM with it. Reads are called plainly.
 * Permissions with no such endpoint stay `unknown` for pasted tokens.
 */
const PROBES: Partial<Record<InstancePermission, { endpoint: string; params: Record<string, unknown> }>> = {
  'read:account': { endpoint: 'i', params: {} },
  'read:admin:meta': { endpoint: 'admin/meta', params: {} },
  'write:admin:meta': { endpoint: 'admin/update-meta', params: { blockedHosts: 'not-a-list' } },
  'write:admin:roles': { endpoint: 'admin/roles/update-default-policies', params: {} },
  'read:admin:relays': { endpoint: 'admin/relays/list', params: {} },
  'write:admin:relays': { endpoint: 'admin/relays/remove', params: {} },
  'write:admin:federation': { endpoint: 'admin/federation/update-instance', params: {} },
  'read:admin:show-user': { endpoint: 'admin/show-user', params: {} },
  'write:admin:suspend-user': { endpoint: 'admin/suspend-user', params: {} },
  'write:admin:unsuspend-user': { endpoint: 'admin/unsuspend-user', params: {} },
  'read:admin:emoji': { endpoint: 'admin/emoji/list', params: { limit: 1 } },
  'write:admin:emoji': { endpoint: 'admin/emoji/add', params: {} },
};

/** Image types Misskey takes for custom emoji, by their first bytes. */
function imageType(b: Buffer): string | null {
  if (b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'image/png';
  if (b.subarray(0, 3).equals(Buffer.from('ffd8ff', 'hex'))) return 'image/jpeg';
  if (b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a') return 'image/gif';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (b.subarray(4, 12).toString('latin1').startsWith('ftypavif')) return 'image/avif';
  return null;
}

export const EMOJI_MAX_BYTES = 2 * 1024 * 1024;
export const EMOJI_ZIP_MAX_BYTES = 100 * 1024 * 1024;

export interface InstanceServiceOptions {
  readonly profiles: { get(id: string): Promise<ServerProfile> };
  readonly secrets: SecretStore;
  /** Transport hook (SSH tunnel, LAN CA, the lab's resolve override). */
  readonly fetch?: FetchFn;
  readonly timeoutMs?: number;
  /** Where a profile's API lives; default `https://<domain>`. Tests point it at a lab address. */
  readonly originFor?: (profile: ServerProfile) => string;
  /**
   * HOOK for disk use of `files/` and the database, measured over SSH (another issue's work).
   * Absent: the UI says it is not measured yet. Never filled with guessed numbers.
   */
  readonly diskUsage?: (profile: ServerProfile) => Promise<{ filesBytes: number; dbBytes: number }>;
  /** The root certificate pinned for a profile whose instance uses Caddy's own CA (tls internal). */
  readonly caFor?: (profileId: string) => Promise<string | undefined>;
  /** Name lookup override (the documented test hook); used with node:https transport. */
  readonly lookup?: LookupFunction;
  /** The setupPassword that setup generated for this profile, when it ran from this desktop. */
  readonly setupPasswordFor?: (profileId: string) => Promise<string | undefined>;
}

const pickSettings = (m: Endpoints['admin/meta']['res']): InstanceSettings => {
  const x = m as Record<string, unknown>;
  const b = (k: string): boolean | null => (typeof x[k] === 'boolean' ? (x[k] as boolean) : null);
  const s = (k: string): string | null => (typeof x[k] === 'string' ? (x[k] as string) : null);
  const client = (x.clientOptions ?? {}) as { entrancePageStyle?: unknown };
  return {
    version: m.version,
    name: s('name'),
    description: s('description'),
    themeColor: s('themeColor'),
    iconUrl: s('iconUrl'),
    singleUserMode: b('singleUserMode'),
    disableRegistration: m.disableRegistration,
    emailRequiredForSignup: m.emailRequiredForSignup,
    enableIpLogging: b('enableIpLogging'),
    federation: s('federation'),
    enableRemoteNotesCleaning: b('enableRemoteNotesCleaning'),
    enableFanoutTimeline: b('enableFanoutTimeline'),
    enableFanoutTimelineDbFallback: b('enableFanoutTimelineDbFallback'),
    enableReactionsBuffering: b('enableReactionsBuffering'),
    entrancePageStyle: typeof client.entrancePageStyle === 'string' ? client.entrancePageStyle : null,
    cacheRemoteFiles: m.cacheRemoteFiles,
    cacheRemoteSensitiveFiles: m.cacheRemoteSensitiveFiles,
    blockedHosts: m.blockedHosts,
  };
};

/**
 * Instance administration through Misskey's HTTP API (misskey-js), per server profile. The
 * token lives in the secret store; the renderer never sees it.
 */
export class InstanceService {
  private readonly miauthSessions = new Map<string, { profileId: string; session: string }>();

  constructor(private readonly opts: InstanceServiceOptions) {}

  private originOf(p: ServerProfile): string {
    return this.opts.originFor ? this.opts.originFor(p) : `https://${p.domain}`;
  }

  /**
   * The transport for one profile: the injected fetch, or node:https with the profile's pinned CA
   * (tls internal) and/or the test lookup, or the platform fetch.
   */
  private fetchFor(p: ServerProfile): FetchFn | undefined {
    if (this.opts.fetch) return this.opts.fetch;
    const { caFor, lookup } = this.opts;
    if (!caFor && !lookup) return undefined;
    return async (input, init) => {
      const ca = caFor ? await caFor(p.id) : undefined;
      if (!ca && !lookup) return fetch(input, init);
      return createNodeFetch({ ...(ca ? { ca } : {}), ...(lookup ? { lookup } : {}) })(input, init);
    };
  }

  private anon(p: ServerProfile): MisskeyClient {
    const f = this.fetchFor(p);
    return new MisskeyClient({
      origin: this.originOf(p),
      ...(f ? { fetch: f } : {}),
      ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
    });
  }

  private async stored(profileId: string): Promise<StoredToken | undefined> {
    const raw = await this.opts.secrets.get(misskeyTokenName(profileId));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw.toString('utf8')) as StoredToken;
    } catch {
      return undefined;
    }
  }

  private async store(profileId: string, t: StoredToken): Promise<void> {
    await this.opts.secrets.set(misskeyTokenName(profileId), Buffer.from(JSON.stringify(t), 'utf8'));
  }

  /** The profile and a client carrying its token; MISSKEY_NOT_CONNECTED without one. */
  private async authed(profileId: string): Promise<{ profile: ServerProfile; client: MisskeyClient; token: StoredToken }> {
    const profile = await this.opts.profiles.get(profileId);
    const token = await this.stored(profileId);
    if (!token) throw new AppError('MISSKEY_NOT_CONNECTED', 'No token for this server yet', { profileId });
    return { profile, client: this.anon(profile).withToken(token.token), token };
  }

  private async meta(client: MisskeyClient, signal?: AbortSignal): Promise<{ version: string; requireSetup: boolean }> {
    const m = (await client.request('meta', { detail: false }, { signal, credential: null })) as {
      version: string;
      requireSetup?: boolean;
    };
    return { version: m.version, requireSetup: m.requireSetup === true };
  }

  async status(profileId: string): Promise<InstanceStatus> {
    const profile = await this.opts.profiles.get(profileId);
    const unlocked = this.opts.secrets.isUnlocked();
    const token = unlocked ? await this.stored(profileId) : undefined;
    const base = {
      profileId,
      origin: this.originOf(profile),
      connected: token !== undefined,
      ...(unlocked ? {} : { vaultLocked: true }),
      ...(token
        ? {
            tokenKind: token.kind,
            permissions: token.permissions,
            isNativeToken: token.native,
            ...(token.username ? { username: token.username } : {}),
          }
        : {}),
    };
    try {
      const m = await this.meta(this.anon(profile));
      return { ...base, reachable: true, version: m.version, requireSetup: m.requireSetup, gates: versionGates(m.version) };
    } catch (e) {
      if (isAppError(e) && (e.code === 'MISSKEY_UNREACHABLE' || e.code === 'TIMEOUT'))
        return {
          ...base,
          reachable: false,
          unreachableReason: e.code === 'TIMEOUT' ? 'timeout' : e.details?.reason === 'tls' ? 'tls' : 'network',
        };
      throw e;
    }
  }

  private async requireSupported(client: MisskeyClient, signal?: AbortSignal): Promise<{ version: string; requireSetup: boolean }> {
    const m = await this.meta(client, signal);
    if (!versionGates(m.version).supported)
      throw new AppError('MISSKEY_VERSION_TOO_OLD', `Misskey ${m.version} is older than supported`, { version: m.version });
    return m;
  }

  /** Creates the first administrator, keeps its token, applies the single-user preset, reads it back. */
  async createFirstAdmin(
    profileId: string,
    a: { username: string; password: string; setupPassword?: string; federate: boolean },
    signal?: AbortSignal,
  ): Promise<FirstAdminResult> {
    const profile = await this.opts.profiles.get(profileId);
    const anon = this.anon(profile);
    const m = await this.requireSupported(anon, signal);
    if (!m.requireSetup) throw new AppError('MISSKEY_ALREADY_SET_UP', 'The instance already has an administrator', { version: m.version });
    if (!this.opts.secrets.isUnlocked()) throw new AppError('VAULT_LOCKED', 'Unlock the secret store first');
    const gates = versionGates(m.version);
    // Typed by the user, or the one setup generated for this profile on this desktop.
    const setupPassword = a.setupPassword || (await this.opts.setupPasswordFor?.(profileId));
    const created = await anon.request(
      'admin/accounts/create',
      {
        username: a.username,
        password: a.password,
        ...(gates.setupPassword && setupPassword ? { setupPassword } : {}),
      },
      { signal, credential: null },
    );
    const all = INSTANCE_PERMISSIONS.map((permission) => ({ permission, state: 'granted' as const }));
    await this.store(profileId, { token: created.token, kind: 'native', username: created.username, permissions: all, native: true });
    const settings = await this.applyPreset(profileId, { federate: a.federate }, signal);
    return { username: created.username, settings };
  }

  async applyPreset(profileId: string, a: { federate: boolean }, signal?: AbortSignal): Promise<InstanceSettings> {
    const { client } = await this.authed(profileId);
    const m = await this.requireSupported(client, signal);
    const current = (await client.request('admin/meta', {}, { signal })) as { clientOptions?: Record<string, unknown> };
    await client.request('admin/update-meta', singleUserPreset(m.version, a.federate, current.clientOptions ?? {}), { signal });
    await client.request(
      'admin/roles/update-default-policies',
      { policies: SINGLE_USER_POLICIES as unknown as Record<string, never> },
      { signal },
    );
    return this.settings(profileId, signal);
  }

  /** Which of the needed permissions the token has (see PROBES). */
  async probePermissions(client: MisskeyClient, known: ReadonlySet<string> = new Set(), signal?: AbortSignal): Promise<PermissionReport[]> {
    return Promise.all(
      INSTANCE_PERMISSIONS.map(async (permission): Promise<PermissionReport> => {
        if (known.has(permission)) return { permission, state: 'granted' };
        const probe = PROBES[permission];
        if (!probe) return { permission, state: 'unknown' };
        try {
          await client.requestUntyped(probe.endpoint, probe.params, { signal });
          return { permission, state: 'granted' };
        } catch (e) {
          if (!isAppError(e)) throw e;
          if (e.code === 'INVALID_ARGUMENT' || e.code === 'NOT_FOUND') return { permission, state: 'granted' };
          if (e.code === 'MISSKEY_PERMISSION_DENIED') return { permission, state: 'missing' };
          if (e.code === 'MISSKEY_AUTH_FAILED') throw e;
          return { permission, state: 'unknown' };
        }
      }),
    );
  }

  /** Whether the token is the account's own (ApiCallService `secure` endpoints accept only those). */
  private async probeNative(client: MisskeyClient, signal?: AbortSignal): Promise<boolean> {
    try {
      await client.requestUntyped('admin/emoji/import-zip', {}, { signal });
      return true;
    } catch (e) {
      return isAppError(e) && e.code === 'INVALID_ARGUMENT';
    }
  }

  /** Connects with a token the user pasted: checks it, finds its permissions, keeps it. */
  async connectToken(profileId: string, token: string, signal?: AbortSignal): Promise<InstanceStatus> {
    const profile = await this.opts.profiles.get(profileId);
    const client = this.anon(profile).withToken(token);
    await this.requireSupported(client, signal);
    let username: string | undefined;
    try {
      username = (await client.request('i', {}, { signal })).username;
    } catch (e) {
      if (!(isAppError(e) && e.code === 'MISSKEY_PERMISSION_DENIED')) throw e;
    }
    const permissions = await this.probePermissions(client, new Set(), signal);
    const native = await this.probeNative(client, signal);
    await this.store(profileId, {
      token,
      kind: native ? 'native' : 'pasted',
      ...(username ? { username } : {}),
      permissions: native ? permissions.map((p) => ({ ...p, state: p.state === 'unknown' ? 'granted' : p.state })) : permissions,
      native,
    });
    return this.status(profileId);
  }

  /** Starts MiAuth: the URL the user opens in the browser to approve Ohitori. */
  async miauthStart(profileId: string): Promise<{ url: string; session: string }> {
    const profile = await this.opts.profiles.get(profileId);
    const session = randomUUID();
    this.miauthSessions.set(session, { profileId, session });
    const q = new URLSearchParams({ name: 'Ohitori', permission: INSTANCE_PERMISSIONS.join(',') });
    return { url: `https://${profile.domain}/miauth/${session}?${q.toString()}`, session };
  }

  /** Asks the instance whether the user approved; keeps the token when they did. */
  async miauthCheck(profileId: string, session: string, signal?: AbortSignal): Promise<InstanceStatus & { approved: boolean }> {
    const pending = this.miauthSessions.get(session);
    if (!pending || pending.profileId !== profileId) throw new AppError('NOT_FOUND', 'No such MiAuth session', { what: 'session' });
    const profile = await this.opts.profiles.get(profileId);
    const r = (await this.anon(profile).requestUntyped(`miauth/${session}/check`, {}, { signal, credential: null })) as {
      ok?: boolean;
      token?: string;
      user?: { username?: string } | null;
    };
    if (!r.ok || !r.token) return { ...(await this.status(profileId)), approved: false };
    this.miauthSessions.delete(session);
    const client = this.anon(profile).withToken(r.token);
    // MiAuth grants exactly what was asked; probes confirm what they can.
    const permissions = await this.probePermissions(client, new Set(INSTANCE_PERMISSIONS), signal);
    await this.store(profileId, {
      token: r.token,
      kind: 'miauth',
      ...(r.user?.username ? { username: r.user.username } : {}),
      permissions,
      native: false,
    });
    return { ...(await this.status(profileId)), approved: true };
  }

  async disconnect(profileId: string): Promise<void> {
    await this.opts.secrets.delete(misskeyTokenName(profileId));
  }

  async settings(profileId: string, signal?: AbortSignal): Promise<InstanceSettings> {
    const { client } = await this.authed(profileId);
    return pickSettings(await client.request('admin/meta', {}, { signal }));
  }

  async setCacheRemoteFiles(profileId: string, enabled: boolean, signal?: AbortSignal): Promise<InstanceSettings> {
    const { client } = await this.authed(profileId);
    await client.request(
      'admin/update-meta',
      enabled ? { cacheRemoteFiles: true } : { cacheRemoteFiles: false, cacheRemoteSensitiveFiles: false },
      { signal },
    );
    return this.settings(profileId, signal);
  }

  /** Asks Misskey to delete cached remote files (Misskey runs it as its own queue job). */
  async cleanRemoteFiles(profileId: string, onProgress?: ProgressFn, signal?: AbortSignal): Promise<{ requested: true }> {
    const { client } = await this.authed(profileId);
    onProgress?.({ step: 'instance.steps.cleanRemote', fraction: 0.2 });
    await client.request('admin/drive/clean-remote-files', {}, { signal, timeoutMs: 120_000 });
    return { requested: true };
  }

  /** Disk use of files/ and the DB: only through the SSH hook; null when it is not available. */
  async diskUsage(profileId: string): Promise<{ filesBytes: number; dbBytes: number } | null> {
    if (!this.opts.diskUsage) return null;
    return this.opts.diskUsage(await this.opts.profiles.get(profileId));
  }

  async updateProfile(
    profileId: string,
    a: { name?: string | null; description?: string | null; themeColor?: string | null; iconUrl?: string | null },
    signal?: AbortSignal,
  ): Promise<InstanceSettings> {
    const { client } = await this.authed(profileId);
    await client.request('admin/update-meta', a, { signal });
    return this.settings(profileId, signal);
  }

  // Relays

  async relays(profileId: string, signal?: AbortSignal): Promise<RelayView[]> {
    const { client } = await this.authed(profileId);
    return (await client.request('admin/relays/list', {}, { signal })).map((r) => ({ id: r.id, inbox: r.inbox, status: r.status }));
  }

  async addRelay(profileId: string, inbox: string, signal?: AbortSignal): Promise<RelayView[]> {
    let url: URL;
    try {
      url = new URL(inbox.trim());
    } catch {
      throw new AppError('INVALID_ARGUMENT', 'Not a URL', { field: 'inbox' });
    }
    if (url.protocol !== 'https:' || url.username || url.password)
      throw new AppError('INVALID_ARGUMENT', 'A relay inbox must be an https URL', { field: 'inbox' });
    const { client } = await this.authed(profileId);
    const existing = await client.request('admin/relays/list', {}, { signal });
    if (existing.some((r) => r.inbox === url.toString() || r.inbox === inbox.trim()))
      throw new AppError('MISSKEY_ALREADY_EXISTS', 'This relay is already added', { what: 'relay' });
    await client.request('admin/relays/add', { inbox: inbox.trim() }, { signal });
    return this.relays(profileId, signal);
  }

  async removeRelay(profileId: string, inbox: string, signal?: AbortSignal): Promise<RelayView[]> {
    const { client } = await this.authed(profileId);
    await client.request('admin/relays/remove', { inbox }, { signal });
    return this.relays(profileId, signal);
  }

  // Instance blocks

  async blockedHosts(profileId: string, signal?: AbortSignal): Promise<string[]> {
    const { client } = await this.authed(profileId);
    return [...(await client.request('admin/meta', {}, { signal })).blockedHosts];
  }

  /**
   * Adds and removes blocked hosts without losing anyone else's change: reads `admin/meta` right
   * before writing and refuses (MISSKEY_CHANGED_ELSEWHERE, with the new list) when it differs
   * from `expected`, the list the user saw. After the write it reads back and checks again.
   */
  async updateBlockedHosts(
    profileId: string,
    a: { expected: readonly string[]; add?: readonly string[]; remove?: readonly string[] },
    signal?: AbortSignal,
  ): Promise<string[]> {
    const add: string[] = [];
    for (const h of a.add ?? []) {
      const n = normalizeHost(h);
      if (n === null) throw new AppError('INVALID_ARGUMENT', 'Not a host name', { field: 'host', value: h.slice(0, 200) });
      add.push(n);
    }
    const { client } = await this.authed(profileId);
    const current = [...(await client.request('admin/meta', {}, { signal })).blockedHosts];
    if (!sameHostList(current, a.expected))
      throw new AppError('MISSKEY_CHANGED_ELSEWHERE', 'The block list changed since it was loaded', { current });
    const next = mergeBlockedHosts(current, add, a.remove ?? []);
    throwIfAborted(signal);
    await client.request('admin/update-meta', { blockedHosts: next }, { signal });
    const after = [...(await client.request('admin/meta', {}, { signal })).blockedHosts];
    const expectedAfter = next.filter((h) => h !== '').map((h) => h.toLowerCase());
    if (!sameHostList(after, expectedAfter))
      throw new AppError('MISSKEY_CHANGED_ELSEWHERE', 'The block list changed while it was being written', { current: after });
    return after;
  }

  async previewBlockImport(profileId: string, text: string, signal?: AbortSignal): Promise<BlockImportPreview> {
    return previewBlockImport(text, await this.blockedHosts(profileId, signal));
  }

  /** Applies an import against the list the preview was computed on (`expected`). */
  async importBlockList(
    profileId: string,
    a: { text: string; expected: readonly string[] },
    onProgress?: ProgressFn,
    signal?: AbortSignal,
  ): Promise<{ added: number; hosts: string[] }> {
    onProgress?.({ step: 'instance.steps.parse', fraction: 0.1 });
    const preview = previewBlockImport(a.text, a.expected);
    throwIfAborted(signal);
    onProgress?.({ step: 'instance.steps.write', fraction: 0.5 });
    const hosts = await this.updateBlockedHosts(profileId, { expected: a.expected, add: preview.added }, signal);
    return { added: preview.added.length, hosts };
  }

  /** Stops (or resumes) delivery to one host: `admin/federation/update-instance`. */
  async setDeliverySuspended(profileId: string, host: string, suspended: boolean, signal?: AbortSignal): Promise<void> {
    const h = normalizeHost(host);
    if (h === null) throw new AppError('INVALID_ARGUMENT', 'Not a host name', { field: 'host' });
    const { client } = await this.authed(profileId);
    await client.request('admin/federation/update-instance', { host: h, isSuspended: suspended }, { signal });
  }

  // Users

  private async resolveUser(
    profileId: string,
    acct: string,
    signal?: AbortSignal,
  ): Promise<{ client: MisskeyClient; user: UserView; refusal: ReturnType<typeof suspendRefusal> }> {
    const { profile, client } = await this.authed(profileId);
    const a = parseAcct(acct, profile.domain);
    const u = (await client.request('users/show', { username: a.username, host: a.host }, { signal })) as unknown as Record<
      string,
      unknown
    > & {
      id: string;
      username: string;
      host: string | null;
      name: string | null;
      isSuspended?: boolean;
    };
    let isModerator: boolean | undefined;
    try {
      isModerator = (await client.request('admin/show-user', { userId: u.id }, { signal })).isModerator;
    } catch (e) {
      if (!(isAppError(e) && e.code === 'MISSKEY_PERMISSION_DENIED')) throw e;
    }
    const refusal = suspendRefusal({
      username: u.username,
      host: u.host,
      isAdmin: u.isAdmin === true,
      isModerator: isModerator === true || u.isModerator === true,
      roles: Array.isArray(u.roles) ? (u.roles as { isAdministrator?: boolean; isModerator?: boolean }[]) : [],
    });
    return { client, user: { id: u.id, username: u.username, host: u.host, name: u.name, isSuspended: u.isSuspended === true }, refusal };
  }

  async lookupUser(profileId: string, acct: string, signal?: AbortSignal): Promise<UserView & { protected: string | null }> {
    const { user, refusal } = await this.resolveUser(profileId, acct, signal);
    return { ...user, protected: refusal };
  }

  /** Suspends or unsuspends `@user@host`; admins, moderators and system actors are refused before any write. */
  async setUserSuspended(profileId: string, acct: string, suspended: boolean, signal?: AbortSignal): Promise<UserView> {
    if (suspended) {
      // System actors are refused by name, before anything is sent (misskey#15525).
      const profile = await this.opts.profiles.get(profileId);
      const a = parseAcct(acct, profile.domain);
      if (suspendRefusal({ username: a.username, host: a.host }) === 'system-actor')
        throw new AppError('MISSKEY_PROTECTED_USER', `${formatAcct(a)} is a system account`, {
          reason: 'system-actor',
          acct: formatAcct(a),
        });
    }
    const { client, user, refusal } = await this.resolveUser(profileId, acct, signal);
    if (suspended && refusal)
      throw new AppError('MISSKEY_PROTECTED_USER', `${formatAcct(user)} cannot be suspended`, { reason: refusal, acct: formatAcct(user) });
    if (suspended) await client.request('admin/suspend-user', { userId: user.id }, { signal });
    else await client.request('admin/unsuspend-user', { userId: user.id }, { signal });
    return (await this.resolveUser(profileId, acct, signal)).user;
  }

  // Emoji

  private async upload(client: MisskeyClient, bytes: Buffer, name: string, type: string, signal?: AbortSignal): Promise<string> {
    const file = new File([new Uint8Array(bytes)], name, { type });
    const f = await client.request('drive/files/create', { file, name } as unknown as Endpoints['drive/files/create']['req'], {
      signal,
      timeoutMs: 120_000,
    });
    return f.id;
  }

  async addEmoji(
    profileId: string,
    a: { name: string; category?: string; fileName: string; dataBase64: string },
    signal?: AbortSignal,
  ): Promise<{ id: string; name: string }> {
    const bytes = Buffer.from(a.dataBase64, 'base64');
    if (bytes.length === 0 || bytes.length > EMOJI_MAX_BYTES)
      throw new AppError('INVALID_ARGUMENT', 'Image too large or empty', { field: 'file' });
    const type = imageType(bytes);
    if (!type) throw new AppError('INVALID_ARGUMENT', 'Not a PNG, JPEG, GIF, WebP or AVIF image', { field: 'file' });
    const { client } = await this.authed(profileId);
    const fileId = await this.upload(client, bytes, basename(a.fileName), type, signal);
    const e = await client.request(
      'admin/emoji/add',
      { name: a.name, fileId, ...(a.category ? { category: a.category } : {}) },
      { signal },
    );
    return { id: e.id, name: e.name };
  }

  /**
   * Uploads a zip in Misskey's emoji export format and asks Misskey to import it. Main reads the
   * file itself (zips can be large; the renderer only names the path) and accepts only a zip.
   */
  async importEmojiZip(profileId: string, path: string, onProgress?: ProgressFn, signal?: AbortSignal): Promise<EmojiZipResult> {
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) throw new AppError('NOT_FOUND', 'No such file', { field: 'path', what: 'file' });
    if (st.size > EMOJI_ZIP_MAX_BYTES) throw new AppError('INVALID_ARGUMENT', 'The zip is too large', { field: 'path' });
    const bytes = await readFile(path);
    if (!bytes.subarray(0, 4).equals(Buffer.from('504b0304', 'hex')) || !bytes.includes(Buffer.from('meta.json')))
      throw new AppError('INVALID_ARGUMENT', 'Not a Misskey emoji export (a zip with meta.json)', { field: 'path' });
    const { client, token } = await this.authed(profileId);
    if (!token.native) throw new AppError('MISSKEY_NATIVE_TOKEN_REQUIRED', 'admin/emoji/import-zip takes only the account’s own token');
    onProgress?.({ step: 'instance.steps.upload', fraction: 0.1, bytesDone: 0, bytesTotal: bytes.length });
    const fileId = await this.upload(client, bytes, basename(path), 'application/zip', signal);
    onProgress?.({ step: 'instance.steps.import', fraction: 0.8, bytesDone: bytes.length, bytesTotal: bytes.length });
    await client.requestUntyped('admin/emoji/import-zip', { fileId }, { signal });
    return { fileId, queued: true };
  }
}
