import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { PublicKey } from 'openpgp';
import { MANIFEST_NAME } from '../backup-format/format';
import type { BackupManifest } from '../backup-format/manifest';
import { verifyManifest } from '../backup-format/manifest-signing';
import { AppError, isAppError, throwIfAborted, type ErrorCode } from '../../shared/errors';
import type { BackupEntry, BackupListing, BackupState, BackupSummary, VerifyRecord } from '../../shared/backups';
import { isFlagged, pickLatestGenuine } from '../../shared/backups';
import type { ProgressFn } from '../../shared/progress';
import type { ProfileStore } from '../profiles/profile-store';
import type { StorageService } from '../storage/storage-service';
import { mapStorageError } from '../storage/storage-errors';
import { classifyBackups, type ListedObject, type ManifestOutcome } from './backup-classify';
import type { CatalogState, CatalogStore } from './catalog-store';
import { serverIdFor, type SigningKeyPins } from './signing-pins';

/** Manifests are small (a few KiB per thousand parts); anything larger is refused unread. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Parallel manifest GETs on a first listing. */
const MANIFEST_CONCURRENCY = 8;

export interface CatalogDeps {
  readonly profiles: Pick<ProfileStore, 'get'>;
  readonly storage: Pick<StorageService, 'desktopClient' | 'get'>;
  readonly pins: SigningKeyPins;
  readonly store: CatalogStore;
  readonly now?: () => Date;
}

export interface ListOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
}

/** Where one profile's backups are and how to read them (the verify job uses it too). */
export interface CatalogTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly serverId: string;
  /** `<prefix><serverId>/` */
  readonly serverFolder: string;
  readonly pins: readonly PublicKey[];
}

/**
 * The backup list of one server profile, built from the signed manifests in its bucket with the
 * desktop's key (docs/architecture.md#backups-on-the-desktop). Keys are listed first (paged); only
 * manifests not already checked at the same ETag are fetched, in parallel, and verified against
 * the pinned server keys. Nothing is hidden: flagged entries come back with their state.
 */
export class BackupCatalog {
  constructor(private readonly deps: CatalogDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Opens the desktop's S3 client and the pinned keys; the caller destroys `client`. */
  async target(profileId: string): Promise<CatalogTarget> {
    const profile = await this.deps.profiles.get(profileId);
    const serverId = serverIdFor(profile.domain);
    // Storage first: it is what the user sets up first, and says so in its error.
    const { client, bucket, prefix } = await this.deps.storage.desktopClient(profileId);
    const pins = await this.deps.pins.publicKeys(profileId);
    if (pins.length === 0) {
      client.destroy();
      throw new AppError('BACKUP_KEY_NOT_PINNED', 'No server signing key is pinned for this server yet');
    }
    return { client, bucket, serverId, serverFolder: `${prefix}${serverId}/`, pins };
  }

  async list(profileId: string, opts: ListOptions = {}): Promise<BackupListing> {
    const t = await this.target(profileId);
    try {
      return await this.listWith(profileId, t, opts);
    } finally {
      t.client.destroy();
    }
  }

  private async listWith(profileId: string, t: CatalogTarget, opts: ListOptions): Promise<BackupListing> {
    opts.onProgress?.({ step: 'backupList.steps.list' });
    const objects = await listAll(t, opts);
    const pinsKey = pinSetKey(t.pins);
    const before = await this.deps.store.read(profileId);
    const cacheValid = before.pinsKey === pinsKey && before.serverId === t.serverId;
    const manifestObjs = objects.filter((o) => o.key.endsWith(`/${MANIFEST_NAME}`));
    const outcomes = new Map<string, ManifestOutcome>();
    const toFetch: ListedObject[] = [];
    for (const o of manifestObjs) {
      const c = cacheValid ? before.manifests[o.key] : undefined;
      if (c && c.etag === o.etag) outcomes.set(o.key, c.outcome as ManifestOutcome);
      else toFetch.push(o);
    }
    let done = 0;
    await forEachLimited(toFetch, MANIFEST_CONCURRENCY, async (o) => {
      throwIfAborted(opts.signal);
      outcomes.set(o.key, await checkManifestObject(t, o, opts.signal));
      done++;
      opts.onProgress?.({ step: 'backupList.steps.manifests', fraction: done / toFetch.length });
    });

    return this.deps.store.update(profileId, (s) => {
      if (!cacheValid) {
        s.manifests = {};
        s.pinsKey = pinsKey;
        s.serverId = t.serverId;
      }
      const c = classifyBackups({
        serverFolder: t.serverFolder,
        serverId: t.serverId,
        objects,
        manifests: outcomes,
        ...(s.knownHighest !== undefined ? { knownHighest: s.knownHighest } : {}),
        knownBefore: new Set(s.knownKeys),
        verified: s.verified,
        now: this.now(),
      });
      const listedAt = this.now().toISOString();
      const present = new Set(manifestObjs.map((o) => o.key));
      s.manifests = Object.fromEntries(
        manifestObjs.map((o) => [o.key, { etag: o.etag, outcome: outcomes.get(o.key)! }] as const).filter(([k]) => present.has(k)),
      );
      // Once flagged as older than known, always flagged: such a key never joins the known ones.
      const known = new Set(s.knownKeys.filter((k) => present.has(k)));
      for (const e of c.entries) if (present.has(e.key) && !e.reasons.includes('older-than-known')) known.add(e.key);
      s.knownKeys = [...known];
      if (c.knownHighest !== undefined) s.knownHighest = c.knownHighest;
      s.last = { listedAt, entries: c.entries.map(({ verified: _v, ...e }) => ({ ...e, reasons: [...e.reasons] })) };
      return {
        profileId,
        serverId: t.serverId,
        entries: c.entries,
        ...(c.latestGenuine ? { latestGenuine: c.latestGenuine.backupId } : {}),
        ...(c.knownHighest !== undefined ? { knownHighest: c.knownHighest } : {}),
        listedAt,
        fetched: toFetch.length,
      };
    });
  }

  /**
   * Fetches one backup's manifest again (a verify never trusts the cache) and checks it against
   * the pinned keys and its place: the verified manifest and the key that signed it, or the
   * BACKUP_* error.
   */
  async freshManifest(t: CatalogTarget, backupId: string, signal?: AbortSignal): Promise<{ manifest: BackupManifest; signer: PublicKey }> {
    const key = `${t.serverFolder}${backupId}/${MANIFEST_NAME}`;
    const bytes = await getBytes(t, key, signal);
    const r = await verifyAgainstPins(bytes, t.pins);
    if (r.manifest.serverId !== t.serverId || r.manifest.backupId !== backupId) {
      throw new AppError('BACKUP_REPLAYED', 'This manifest was copied from another backup', {
        foundAt: { serverId: t.serverId, backupId },
        recorded: { serverId: r.manifest.serverId, backupId: r.manifest.backupId },
      });
    }
    return r;
  }

  /** Stores a verify result (shown in the list and on the dashboard). */
  async recordVerify(profileId: string, backupId: string, record: VerifyRecord): Promise<void> {
    await this.deps.store.update(profileId, (s) => {
      const { restoreDrill, ...rest } = record;
      s.verified[backupId] = {
        ...rest,
        ...(restoreDrill ? { restoreDrill: { ...restoreDrill, mismatches: [...restoreDrill.mismatches] } } : {}),
      };
    });
  }

  /** The dashboard's line, from the last listing and the stored verify results (no network). */
  async summary(profileId: string): Promise<BackupSummary> {
    const s = await this.deps.store.read(profileId);
    if (!s.last) {
      const configured = (await this.deps.storage.get(profileId)) !== null && (await this.deps.pins.list(profileId)).length > 0;
      return { profileId, status: configured ? 'ok' : 'unconfigured', flagged: 0, total: 0 };
    }
    const entries = withVerified(s);
    const latest = pickLatestGenuine(entries);
    return {
      profileId,
      status: 'ok',
      ...(latest ? { latest } : {}),
      flagged: entries.filter((e) => isFlagged(e.state)).length,
      total: entries.length,
      listedAt: s.last.listedAt,
    };
  }

  /** The state file of a profile (drill settings live there too). */
  get store(): CatalogStore {
    return this.deps.store;
  }
}

function withVerified(s: CatalogState): BackupEntry[] {
  return (s.last?.entries ?? []).map((e) => {
    const v = s.verified[e.backupId];
    return { ...(e as BackupEntry), state: e.state as BackupState, ...(v ? { verified: v } : {}) };
  });
}

/** A stable name for a set of pinned keys, so cached outcomes are dropped when the pins change. */
function pinSetKey(pins: readonly PublicKey[]): string {
  const fps = pins.map((k) => k.getFingerprint().toUpperCase()).sort();
  return createHash('sha256').update(fps.join(',')).digest('hex').slice(0, 16);
}

async function listAll(t: CatalogTarget, opts: ListOptions): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    throwIfAborted(opts.signal);
    let page;
    try {
      page = await t.client.send(
        new ListObjectsV2Command({
          Bucket: t.bucket,
          Prefix: t.serverFolder,
          MaxKeys: 1000,
          ...(token ? { ContinuationToken: token } : {}),
        }),
        opts.signal ? { abortSignal: opts.signal } : {},
      );
    } catch (e) {
      if (opts.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
      throw mapStorageError(e, 'list');
    }
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      out.push({
        key: o.Key,
        size: o.Size ?? 0,
        lastModified: (o.LastModified ?? new Date(0)).toISOString(),
        etag: o.ETag ?? '',
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    opts.onProgress?.({ step: 'backupList.steps.list' });
  } while (token);
  return out;
}

async function getBytes(t: CatalogTarget, key: string, signal?: AbortSignal): Promise<Uint8Array> {
  try {
    const r = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }), signal ? { abortSignal: signal } : {});
    if ((r.ContentLength ?? 0) > MAX_MANIFEST_BYTES) throw new AppError('BACKUP_DAMAGED', 'The manifest object is too large');
    return await r.Body!.transformToByteArray();
  } catch (e) {
    if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
    if (isAppError(e)) throw e;
    const err = mapStorageError(e, 'get');
    if (err.code === 'STORAGE_REJECTED' && err.details?.status === 404)
      throw new AppError('NOT_FOUND', 'This backup is no longer in the bucket', { key });
    throw err;
  }
}

/** Verifies manifest bytes against each pinned key; the most telling error when none fits. */
export async function verifyAgainstPins(
  bytes: Uint8Array,
  pins: readonly PublicKey[],
): Promise<{ manifest: BackupManifest; signer: PublicKey }> {
  const codes: ErrorCode[] = [];
  let first: AppError | undefined;
  for (const k of pins) {
    try {
      return { manifest: await verifyManifest(bytes, k), signer: k };
    } catch (e) {
      if (!isAppError(e)) throw e;
      codes.push(e.code);
      // Unsigned or damaged says more than "not this key".
      if (!first || (first.code === 'BACKUP_SIGNATURE_INVALID' && e.code !== 'BACKUP_SIGNATURE_INVALID')) first = e;
    }
  }
  throw first ?? new AppError('BACKUP_KEY_NOT_PINNED', 'No server signing key is pinned');
}

async function checkManifestObject(t: CatalogTarget, o: ListedObject, signal?: AbortSignal): Promise<ManifestOutcome> {
  if (o.size > MAX_MANIFEST_BYTES) return { ok: false, code: 'BACKUP_DAMAGED' };
  const bytes = await getBytes(t, o.key, signal);
  try {
    return { ok: true, manifest: (await verifyAgainstPins(bytes, t.pins)).manifest };
  } catch (e) {
    if (isAppError(e) && e.code.startsWith('BACKUP_')) return { ok: false, code: e.code };
    throw e;
  }
}

/** Runs `fn` over `items` with at most `limit` at once; the first error stops new work and is thrown. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** Opens a part object as a Node stream (for verify's PartSource). */
export async function openObject(t: CatalogTarget, key: string, signal?: AbortSignal): Promise<Readable> {
  try {
    const r = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }), signal ? { abortSignal: signal } : {});
    return r.Body as Readable;
  } catch (e) {
    throw mapStorageError(e, 'get');
  }
}
