import { normalizeFingerprint } from './key-info';

/** The part of a verified backup manifest that says who can decrypt it. */
export interface RecipientsOf {
  readonly recipients: readonly string[];
}

/**
 * Counts backups that list `fingerprint` among their recipients, for the warning shown before a
 * key is removed ("3 backups can only be restored with this key or …").
 */
export function countBackupsUsingKey(manifests: readonly RecipientsOf[], fingerprint: string): number {
  const fp = normalizeFingerprint(fingerprint);
  return manifests.filter((m) => m.recipients.some((r) => r.toUpperCase() === fp)).length;
}

/**
 * Counts backups that ONLY keys in `removed` can decrypt (every recipient would be gone):
 * losing those keys means losing those backups.
 */
export function countBackupsOrphanedBy(manifests: readonly RecipientsOf[], removed: readonly string[]): number {
  const gone = new Set(removed.map(normalizeFingerprint));
  return manifests.filter((m) => m.recipients.length > 0 && m.recipients.every((r) => gone.has(r.toUpperCase()))).length;
}
