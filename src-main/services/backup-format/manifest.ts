import { z } from 'zod';
import { AppError } from '../../shared/errors';
import type { ExpectedPart } from './native-part';
import { BACKUP_ID_PATTERN, CHECK_STEP, FORMAT_NAME, MAX_PART_SIZE, READABLE_FORMAT_VERSIONS, SERVER_ID_PATTERN, partName } from './format';

const fingerprint = z.string().regex(/^[0-9A-F]{40}$/);
const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

const partSchema = z.strictObject({
  name: z.string().regex(/^part-\d{5}\.pgp$/),
  /** Ciphertext bytes of the part object. */
  size: z.number().int().nonnegative(),
  /** v1: SHA-256 (hex) of the ciphertext object, checked before any plaintext is accepted. */
  sha256: hex(64).optional(),
  /** Plaintext (compressed archive) bytes in this part. */
  plainSize: z.number().int().nonnegative().max(MAX_PART_SIZE),
  /** v2: SHA-256 (hex) of the part's plaintext (`gpg -d part | sha256sum`). */
  plainSha256: hex(64).optional(),
  /** v2: SHA-256 (hex) of the part's PKESK packets (the bytes before the encrypted packet). */
  headSha256: hex(64).optional(),
  /** v2: the part's SEIPDv1 modification detection code (hex, 20 bytes). */
  mdc: hex(40).optional(),
  /**
   * v3: SHA-256 (hex, concatenated) of the part's first k × CHECK_STEP plaintext bytes for every k
   * with k × CHECK_STEP < plainSize (`gpg -d part | head -c <k MiB> | sha256sum`); none for a part
   * of at most one step.
   */
  stepSha256: z
    .string()
    .regex(/^(?:[0-9a-f]{64})*$/)
    .optional(),
});

/** Rows per table, `schema.table` → rows: the manifest's `tables`, and what the restore drill counts. */
export const rowCountsSchema = z.record(z.string().min(1).max(300), z.number().int().nonnegative());

/** Schema of the signed manifest, format versions 1 to 3 (docs/backup-format.md §Manifest). */
export const manifestSchema = z
  .strictObject({
    format: z.literal(FORMAT_NAME),
    formatVersion: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    serverId: z.string().regex(SERVER_ID_PATTERN),
    backupId: z.string().regex(BACKUP_ID_PATTERN),
    /** Strictly increasing per server; a lower or equal number than an earlier backup is a replay. */
    sequence: z.number().int().positive(),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    versions: z.strictObject({
      misskey: z.string().optional(),
      postgres: z.string().optional(),
      redis: z.string().optional(),
    }),
    /** Top-level names inside the archive (e.g. `db/misskey.dump`, `files/`, `config/`). */
    contents: z.array(z.string()),
    recipients: z.array(fingerprint).min(1),
    signingKey: fingerprint,
    archive: z.literal('tar'),
    compression: z.literal('zstd'),
    encryption: z.literal('openpgp-seipdv1'),
    partSize: z.number().int().positive().max(MAX_PART_SIZE),
    parts: z.array(partSchema).min(1),
    /**
     * Rows per table (`schema.table` → rows) of the database dump, counted by the job from the dump
     * itself while it was archived. Optional: older backups, and dumps the job could not follow, have none.
     */
    tables: rowCountsSchema.optional(),
  })
  .superRefine((m, ctx) => {
    // one form per version: v1 parts carry the ciphertext's SHA-256, v2 parts their check, v3 parts
    // their check and one step digest per whole CHECK_STEP before the part's end
    m.parts.forEach((p, i) => {
      const has = [p.plainSha256, p.headSha256, p.mdc].filter((x) => x !== undefined).length;
      const steps = m.formatVersion >= 3 ? stepCount(p.plainSize) * 64 : undefined;
      const ok =
        (m.formatVersion >= 2 ? has === 3 && p.sha256 === undefined : has === 0 && p.sha256 !== undefined) &&
        p.stepSha256?.length === steps;
      if (!ok) ctx.addIssue({ code: 'custom', path: ['parts', i], message: `not a format ${m.formatVersion} part` });
    });
  });

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestPart = z.infer<typeof partSchema>;

/** Step digests a format 3 part lists: one per whole CHECK_STEP before its end. */
export function stepCount(plainSize: number): number {
  return Math.max(0, Math.ceil(plainSize / CHECK_STEP) - 1);
}

/** Canonical JSON: keys sorted at every level, no whitespace, UTF-8. What gets signed. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** What the signed manifest lists of one part, as the part decryptor checks it (v2, v3: its check, v1: its SHA-256). */
export function expectedPart(m: BackupManifest, p: ManifestPart): ExpectedPart {
  if (m.formatVersion >= 2 && p.plainSha256 && p.headSha256 && p.mdc) {
    const steps = m.formatVersion >= 3 && p.stepSha256 !== undefined ? { stepSha256: p.stepSha256 } : {};
    return { size: p.size, check: { plainSha256: p.plainSha256, headSha256: p.headSha256, mdc: p.mdc, ...steps } };
  }
  if (p.sha256) return { size: p.size, sha256: p.sha256 };
  throw new AppError('BACKUP_DAMAGED', `Manifest part ${p.name} has nothing to check it by`);
}

/**
 * Parses signed manifest bytes: valid JSON, the v1, v2 or v3 schema, canonical encoding (so one manifest has
 * exactly one byte form), and parts numbered 0…n-1. BACKUP_DAMAGED otherwise.
 */
export function parseManifestJson(bytes: Uint8Array): BackupManifest {
  let raw: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    raw = JSON.parse(text);
  } catch (e) {
    throw new AppError('BACKUP_DAMAGED', 'The manifest is not valid JSON', undefined, { cause: e });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
    throw new AppError(
      'BACKUP_DAMAGED',
      !READABLE_FORMAT_VERSIONS.includes(version as number)
        ? `Unsupported backup format version ${String(version)}`
        : 'The manifest does not match the format',
      {
        issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
      },
    );
  }
  if (canonicalJson(parsed.data) !== text) throw new AppError('BACKUP_DAMAGED', 'The manifest is not in canonical form');
  parsed.data.parts.forEach((p, i) => {
    if (p.name !== partName(i)) throw new AppError('BACKUP_DAMAGED', `Manifest part ${i} is named ${p.name}`);
  });
  return parsed.data;
}
