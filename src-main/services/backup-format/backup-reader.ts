import type { Readable } from 'node:stream';
import type { PrivateKey, PublicKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import type { RunOptions } from '../../shared/progress';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackArchive, writeEntryUnder, type UnpackedEntry } from './archive';
import type { ArchiveHeader } from './backup-writer';
import { ARCHIVE_HEADER_NAME } from './format';
import type { BackupManifest } from './manifest';
import { verifyManifest } from './manifest-signing';
import type { PartRunner } from './part-runner';
import { lendVerifiedPayload, type PartSource } from './parts-reader';

/**
 * Reads and verifies a manifest object found at `<…>/<serverId>/<backupId>/manifest.json.pgp`:
 * signature by the pinned key, schema, and that it records the place it was found in
 * (a copied manifest is a replay: BACKUP_REPLAYED).
 */
export async function readBackupManifest(
  bytes: Uint8Array,
  pinnedSigningKey: PublicKey,
  foundAt?: { serverId: string; backupId: string },
): Promise<BackupManifest> {
  const m = await verifyManifest(bytes, pinnedSigningKey);
  if (foundAt && (foundAt.serverId !== m.serverId || foundAt.backupId !== m.backupId)) {
    throw new AppError('BACKUP_REPLAYED', 'This manifest was copied from another backup', {
      foundAt,
      recorded: { serverId: m.serverId, backupId: m.backupId },
    });
  }
  return m;
}

export interface ReadBackupOptions extends RunOptions {
  /** Called with the raw archive header once it matched the manifest. */
  readonly onHeader?: (bytes: Buffer) => void;
  readonly decryptionKey: PrivateKey;
  readonly verificationKey: PublicKey;
  readonly runner: PartRunner;
  readonly tempBase?: string;
}

/**
 * Streams the verified archive's members to `onEntry` (after checking the inner header matches the
 * manifest). Every byte handed out comes from a verified part; see openVerifiedPayload for what
 * "incomplete until the end" means for callers.
 */
export async function readBackup(
  manifest: BackupManifest,
  source: PartSource,
  onEntry: (entry: UnpackedEntry, body: Readable) => Promise<void>,
  opts: ReadBackupOptions,
): Promise<{ entries: number; bytes: number }> {
  const payload = lendVerifiedPayload(manifest, source, opts);
  let first = true;
  const r = await unpackArchive(
    payload,
    async (entry, body) => {
      if (first) {
        first = false;
        opts.onHeader?.(await checkHeader(entry, body, manifest));
        return;
      }
      await onEntry(entry, body);
    },
    opts,
  );
  if (first) throw new AppError('BACKUP_DAMAGED', 'The archive is empty');
  return { entries: r.entries - 1, bytes: r.bytes };
}

/**
 * Restores into an existing empty directory (a staging place: see openVerifiedPayload about
 * failures after earlier parts). The archive header is checked and written too.
 */
export async function restoreToDirectory(
  manifest: BackupManifest,
  source: PartSource,
  dir: string,
  opts: ReadBackupOptions,
): Promise<{ entries: number; bytes: number }> {
  let header: Buffer | undefined;
  const dirs: UnpackedEntry[] = [];
  const r = await readBackup(
    manifest,
    source,
    async (entry, body) => {
      await writeEntryUnder(dir, entry, body);
      if (entry.type === 'directory') dirs.push(entry);
    },
    { ...opts, onHeader: (bytes) => void (header = bytes) },
  );
  // Directories get their archived times last (creating their members changed them), deepest first.
  for (const d of dirs.reverse()) await utimes(join(dir, ...d.name.split('/')), d.mtime, d.mtime);
  if (header) await writeFile(join(dir, ARCHIVE_HEADER_NAME), header, { flag: 'wx', mode: 0o644 });
  return r;
}

/** Full read check (restore drill): every part verified, the archive decompressed and parsed, nothing kept. */
export async function verifyBackup(
  manifest: BackupManifest,
  source: PartSource,
  opts: ReadBackupOptions,
): Promise<{ entries: number; bytes: number }> {
  return readBackup(manifest, source, async (_e, body) => void (await drain(body)), opts);
}

async function checkHeader(entry: UnpackedEntry, body: Readable, manifest: BackupManifest): Promise<Buffer> {
  if (entry.name !== ARCHIVE_HEADER_NAME || entry.size > 64 * 1024)
    throw new AppError('BACKUP_DAMAGED', 'The archive does not start with its header');
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  let h: ArchiveHeader;
  const raw = Buffer.concat(chunks);
  try {
    h = JSON.parse(raw.toString('utf8')) as ArchiveHeader;
  } catch (e) {
    throw new AppError('BACKUP_DAMAGED', 'The archive header is not JSON', undefined, { cause: e });
  }
  if (h.serverId !== manifest.serverId || h.backupId !== manifest.backupId || h.sequence !== manifest.sequence) {
    throw new AppError('BACKUP_DAMAGED', 'The archive belongs to another backup than its manifest');
  }
  return raw;
}

async function drain(body: Readable): Promise<void> {
  for await (const _ of body) void _;
}
