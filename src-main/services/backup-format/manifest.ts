import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { BACKUP_ID_PATTERN, FORMAT_NAME, FORMAT_VERSION, MAX_PART_SIZE, SERVER_ID_PATTERN, partName } from './format';

const fingerprint = z.string().regex(/^[0-9A-F]{40}$/);

const partSchema = z.strictObject({
  name: z.string().regex(/^part-\d{5}\.pgp$/),
  /** Ciphertext bytes of the part object. */
  size: z.number().int().nonnegative(),
  /** SHA-256 (hex) of the ciphertext object, checked before any plaintext is accepted. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Plaintext (compressed archive) bytes in this part. */
  plainSize: z.number().int().nonnegative().max(MAX_PART_SIZE),
});

/** Schema of the signed manifest, format version 1 (docs/backup-format.md §Manifest). */
/** Rows per table, `schema.table` → rows: the manifest's `tables`, and what the restore drill counts. */
export const rowCountsSchema = z.record(z.string().min(1).max(300), z.number().int().nonnegative());

export const manifestSchema = z.strictObject({
  format: z.literal(FORMAT_NAME),
  formatVersion: z.literal(FORMAT_VERSION),
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
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestPart = z.infer<typeof partSchema>;

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

/**
 * Parses signed manifest bytes: valid JSON, the v1 schema, canonical encoding (so one manifest has
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
      version !== FORMAT_VERSION ? `Unsupported backup format version ${String(version)}` : 'The manifest does not match the format',
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
