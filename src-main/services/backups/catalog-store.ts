import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { manifestSchema } from '../backup-format/manifest';
import { ERROR_CODES } from '../../shared/errors';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';

const verifySchema = z.object({
  at: z.string(),
  ok: z.boolean(),
  code: z.string().optional(),
  dumpCheck: z.enum(['local', 'server', 'none']).optional(),
  restoreDrill: z
    .object({
      tables: z.number(),
      rows: z.number(),
      compared: z.boolean(),
      mismatches: z.array(z.object({ table: z.string(), expected: z.number(), actual: z.number().nullable() })),
    })
    .optional(),
});

const outcomeSchema = z.union([
  z.object({ ok: z.literal(true), manifest: manifestSchema }),
  z.object({ ok: z.literal(false), code: z.enum(ERROR_CODES) }),
]);

const entrySchema = z.object({
  backupId: z.string(),
  key: z.string(),
  state: z.string(),
  reasons: z.array(z.string()),
  time: z.string(),
  size: z.number(),
  partCount: z.number(),
  sequence: z.number().optional(),
  versions: z.object({ misskey: z.string().optional(), postgres: z.string().optional(), redis: z.string().optional() }).optional(),
});

const stateSchema = z.object({
  version: z.literal(1),
  serverId: z.string().optional(),
  /** Which pinned keys the cached outcomes were checked against; another set drops the cache. */
  pinsKey: z.string().optional(),
  knownHighest: z.number().optional(),
  /** Manifest keys earlier listings showed, not flagged as older than known (the knownHighest rule spares them). */
  knownKeys: z.array(z.string()),
  /** Checked manifests by object key, valid while the ETag is the same. */
  manifests: z.record(z.string(), z.object({ etag: z.string(), outcome: outcomeSchema })),
  verified: z.record(z.string(), verifySchema),
  /** The last listing, for the dashboard (no network needed to show it). */
  last: z.object({ listedAt: z.string(), entries: z.array(entrySchema) }).optional(),
  drill: z.object({ enabled: z.boolean(), restoreDrill: z.boolean().optional(), lastRunAt: z.string().optional() }).optional(),
});

export type CatalogState = z.infer<typeof stateSchema>;

const fresh = (): CatalogState => ({ version: 1, knownKeys: [], manifests: {}, verified: {} });

/**
 * The desktop's memory of one profile's backups, `<data>/backups/<profileId>.json` (0600, atomic):
 * verified manifests by key+ETag (so a re-list fetches only new objects), the highest genuine
 * sequence seen (replay detection), verify results and the drill schedule. Public data only: the
 * manifests are readable by anyone who can list the bucket anyway.
 */
export class CatalogStore {
  private readonly dir: string;
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'backups');
  }

  private path(profileId: string): string {
    return join(this.dir, `${profileId}.json`);
  }

  async read(profileId: string): Promise<CatalogState> {
    const raw = await readJsonFile(this.path(profileId));
    if (raw === undefined) return fresh();
    const parsed = stateSchema.safeParse(raw);
    // A damaged cache is only a cache: start over (verify results are lost, the backups are not).
    return parsed.success ? parsed.data : fresh();
  }

  /** Forgets a profile's list cache, verify results and drill (when the profile is deleted). */
  async remove(profileId: string): Promise<void> {
    await this.update(profileId, () => undefined);
    await rm(this.path(profileId), { force: true });
  }

  /** Read-modify-write under a per-profile lock, so a list and a verify never lose each other's writes. */
  update<T>(profileId: string, fn: (s: CatalogState) => Promise<T> | T): Promise<T> {
    const prev = this.chains.get(profileId) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        const s = await this.read(profileId);
        const out = await fn(s);
        await writeJsonFile(this.path(profileId), s);
        return out;
      });
    this.chains.set(profileId, next);
    return next;
  }
}
