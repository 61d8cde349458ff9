import type { PrivateKey, PublicKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import type { RunOptions } from '../../shared/progress';
import { bufferEntry, packArchive, type ArchiveEntry } from './archive';
import {
  ARCHIVE_HEADER_NAME,
  DEFAULT_PART_SIZE,
  FORMAT_NAME,
  FORMAT_VERSION,
  MANIFEST_NAME,
  SERVER_ID_PATTERN,
  backupIdFor,
} from './format';
import { canonicalJson, type BackupManifest } from './manifest';
import { signManifest } from './manifest-signing';
import type { PartRunner } from './part-runner';
import { encryptToParts, type PartSink } from './parts-writer';

/** A part sink that can also store the manifest, which it must write LAST and atomically. */
export interface BackupSink extends PartSink {
  writeManifest(name: string, bytes: Uint8Array): Promise<void>;
}

export interface WriteBackupOptions extends RunOptions {
  readonly serverId: string;
  /** Next sequence number (the job keeps it in its state file; strictly increasing). */
  readonly sequence: number;
  readonly versions: BackupManifest['versions'];
  readonly entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>;
  readonly recipients: readonly PublicKey[];
  readonly signingKey: PrivateKey;
  readonly sink: BackupSink;
  readonly runner: PartRunner;
  readonly partSize?: number;
  /**
   * Rows per table of the database dump (manifest `tables`), asked for once every part is written,
   * so a job can count them while the dump streams through the archive.
   */
  readonly tables?: () => Readonly<Record<string, number>> | undefined;
  /** For tests; defaults to now. */
  readonly now?: () => Date;
}

/** Contents of the archive's first member, binding the payload to its manifest. */
export interface ArchiveHeader {
  readonly format: typeof FORMAT_NAME;
  readonly formatVersion: number;
  readonly serverId: string;
  readonly backupId: string;
  readonly sequence: number;
  readonly startedAt: string;
  readonly versions: BackupManifest['versions'];
}

/**
 * Makes one backup: archive (inner header first, then the entries) → zstd → parts signed and
 * encrypted to every recipient → the signed manifest, written last so that a killed run never
 * looks like a backup. Used by the server job (sink = S3) and by tests (sink = files).
 */
export async function writeBackup(opts: WriteBackupOptions): Promise<{ manifest: BackupManifest; manifestBytes: Uint8Array }> {
  if (!SERVER_ID_PATTERN.test(opts.serverId)) throw new AppError('INVALID_ARGUMENT', 'Bad server id', { serverId: opts.serverId });
  if (!Number.isInteger(opts.sequence) || opts.sequence < 1) throw new AppError('INVALID_ARGUMENT', 'Bad sequence number');
  const now = opts.now ?? (() => new Date());
  const started = now();
  const backupId = backupIdFor(started, opts.sequence);
  const header: ArchiveHeader = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    serverId: opts.serverId,
    backupId,
    sequence: opts.sequence,
    startedAt: started.toISOString(),
    versions: opts.versions,
  };
  const contents = new Set<string>();
  const entries = opts.entries;
  const all = (async function* () {
    yield bufferEntry(ARCHIVE_HEADER_NAME, canonicalJson(header) + '\n', started);
    for await (const e of entries) {
      contents.add(e.name.split('/')[0]!);
      yield e;
    }
  })();
  const payload = packArchive(all, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  let parts;
  try {
    parts = await encryptToParts(payload, {
      recipients: opts.recipients,
      signingKey: opts.signingKey,
      sink: opts.sink,
      runner: opts.runner,
      partSize: opts.partSize ?? DEFAULT_PART_SIZE,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  } finally {
    payload.destroy();
  }
  const tables = opts.tables?.();
  const manifest: BackupManifest = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    serverId: opts.serverId,
    backupId,
    sequence: opts.sequence,
    startedAt: header.startedAt,
    finishedAt: now().toISOString(),
    versions: opts.versions,
    contents: [...contents].sort(),
    recipients: opts.recipients.map((k) => k.getFingerprint().toUpperCase()),
    signingKey: opts.signingKey.getFingerprint().toUpperCase(),
    archive: 'tar',
    compression: 'zstd',
    encryption: 'openpgp-seipdv1',
    partSize: opts.partSize ?? DEFAULT_PART_SIZE,
    parts,
    ...(tables ? { tables: { ...tables } } : {}),
  };
  const manifestBytes = await signManifest(manifest, opts.signingKey);
  await opts.sink.writeManifest(MANIFEST_NAME, manifestBytes);
  return { manifest, manifestBytes };
}
