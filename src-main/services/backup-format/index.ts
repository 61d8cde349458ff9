/**
 * Backup format library (docs/backup-format.md), shared by the server-side job and the desktop.
 * Node streams in and out, AbortSignal and byte progress on every long call.
 */
export { writeBackup, type BackupSink, type WriteBackupOptions, type ArchiveHeader } from './backup-writer';
export { readBackupManifest, readBackup, restoreToDirectory, verifyBackup, type ReadBackupOptions } from './backup-reader';
export { encryptToParts, type PartSink, type EncryptPartsOptions } from './parts-writer';
export { openVerifiedPayload, type PartSource, type DecryptPartsOptions } from './parts-reader';
export {
  packArchive,
  unpackArchive,
  extractToDirectory,
  entriesFromDirectory,
  bufferEntry,
  type ArchiveEntry,
  type UnpackedEntry,
} from './archive';
export { signManifest, verifyManifest } from './manifest-signing';
export { manifestSchema, canonicalJson, parseManifestJson, type BackupManifest, type ManifestPart } from './manifest';
export { detectReplays, manifestKey, type ListedManifest, type ReplayFlag, type ReplayReason } from './replay';
export { CompositePartRunner, InlinePartRunner, type PartRunner } from './part-runner';
export { WorkerPartRunner, createPartRunner, defaultWorkerCount } from './worker-pool';
export * from './format';
