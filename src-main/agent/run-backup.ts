import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { readKeys, readPrivateKey, readMessage, verify, type PublicKey } from 'openpgp';
import { AppError } from '../shared/errors';
import { CHUNK_SIZE, MANIFEST_NAME, type ArchiveEntry, type PartRunner, writeBackup } from '../services/backup-format';
import { BACKUP_ID_PATTERN, backupIdFor } from '../services/backup-format/format';
import { DumpRowCounter, type RowCountResult } from '../services/pgdump/row-counter';
import { createStorageClient } from '../services/storage/storage-service';
import type { JobConfig, JobResult } from '../services/backup-job/job-layout';
import { foldersFromKeys, planRetention, type ListedFolder } from './retention';
import { S3BackupStore } from './s3-backup-store';

/** Everything one run needs, resolved by the entry point (paths inside the job's container). */
export interface RunBackupInput {
  readonly config: JobConfig;
  readonly recipientsArmored: string;
  readonly signingKeyArmored: string;
  /** The stack directory (or its read-only snapshot): `files/`, `.config/`, `compose.yml` are read. */
  readonly sourceDir: string;
  /** Extra config files to archive under `config/` (e.g. the Caddyfile), when present. */
  readonly extraConfig: readonly { name: string; path: string }[];
  /** The database dump (pg_dump -Fc output) with its size and SHA-256 as the runner measured them. */
  readonly dump: { readonly stream: Readable; readonly size: number; readonly sha256: string };
  readonly versions: { misskey?: string; postgres?: string; redis?: string };
  /** Highest sequence used before on this server (state file); the listing may raise it. */
  readonly lastSequence: number;
  /** Persists the sequence number before anything is uploaded, so a killed run never reuses it. */
  readonly saveSequence: (n: number) => Promise<void>;
  readonly runner: PartRunner;
  readonly signal: AbortSignal;
  readonly print: (line: string) => void;
  readonly now?: () => Date;
  /** Per-request timeout of the S3 client (ms). */
  readonly requestTimeoutMs?: number;
}

/** Top-level names of the stack directory that go into `config/` (secrets included: the backup is encrypted). */
const STACK_CONFIG = ['.config', 'compose.yml', 'docker-compose.yml', '.env'];

/**
 * One backup run inside the job container: stale multipart uploads aborted, sequence reserved,
 * archive (dump, config, files) → zstd → signed+encrypted parts streamed to S3, manifest last,
 * then retention by listing. The result is always returned or thrown as an AppError; the caller
 * records it.
 */
export async function runBackup(input: RunBackupInput, result: { -readonly [K in keyof JobResult]: JobResult[K] }): Promise<void> {
  const { config, signal, print } = input;
  const base = `${normalizePrefix(config.storage.prefix)}${config.serverId}/`;
  const { client } = createStorageClient(
    config.storage,
    { accessKeyId: config.storage.accessKeyId, secretAccessKey: config.storage.secretAccessKey },
    input.requestTimeoutMs ?? 120_000,
  );
  const store = new S3BackupStore(client, config.storage.bucket, base);
  try {
    const recipients = await readKeys({ armoredKeys: input.recipientsArmored });
    const signingKey = await readPrivateKey({ armoredKey: input.signingKeyArmored });
    if (recipients.length === 0) throw new AppError('KEY_INVALID', 'No recipient keys are installed');

    print('@stage prepare');
    // A put-only server key may not list: then the bucket's lifecycle rule cleans killed uploads,
    // the local counter alone numbers backups, and retention is left to the desktop.
    result.abortedUploads = await store.abortStaleUploads(signal).catch((e: unknown) => {
      if (!isAccessDenied(e)) throw e;
      print('stale uploads: this server may not list them (least privilege); the lifecycle rule removes them');
      return 0;
    });
    const listed = await store.listKeys(signal).catch((e: unknown) => {
      if (!isAccessDenied(e)) throw e;
      print('listing: this server may not list the bucket (least privilege)');
      return [] as string[];
    });
    const highestListed = Math.max(0, ...foldersFromKeys(base, listed).map((f) => sequenceOf(f.backupId)));
    // The local counter rules; the listing only seeds it when the state is gone (a fresh server
    // restored from a backup, a lost /var/lib): anyone who can write to the bucket can list big
    // numbers, so they must not steer a server that knows where it is.
    const sequence = (input.lastSequence > 0 ? input.lastSequence : highestListed) + 1;
    await input.saveSequence(sequence);
    // The server's public signing key beside its backups, for recovery with stock gpg (docs/backup-format.md).
    if (!listed.includes(`${base}signing-key.asc`))
      await store.putSmall(`${base}signing-key.asc`, new TextEncoder().encode(signingKey.toPublic().armor()), signal);
    result.sequence = sequence;

    const config_ = await configEntries(input.sourceDir, input.extraConfig);
    const files = await fileEntries(join(input.sourceDir, 'files'), 'files', print);
    const total = input.dump.size + sumSizes(config_) + sumSizes(files);
    result.dumpBytes = input.dump.size;
    result.files = files.filter((f) => f.type !== 'directory').length;

    let uploaded = 0;
    let lastPrint = 0;
    const report = (done: number) => {
      const t = Date.now();
      if (t - lastPrint < 250 && done < total) return;
      lastPrint = t;
      print(`@bytes ${done} ${total}`);
    };
    // Row counts for the manifest, taken from the dump on its way into the archive (no second read).
    const counter = new DumpRowCounter();
    let counted: RowCountResult | undefined;
    const dumpEntry: ArchiveEntry = {
      name: `db/${config.stack.dbName}.dump`,
      size: input.dump.size,
      mode: 0o600,
      open: () =>
        input.dump.stream.pipe(
          checkedStream(input.dump.size, input.dump.sha256, {
            chunk: (c) => counter.push(c),
            end: () => (counted = counter.finish()),
          }),
        ),
    };
    const tables = (): Record<string, number> | undefined => {
      if (!counted) print('warning: no row counts in the manifest: the dump was not read to its end');
      else if (!counted.ok) print(`warning: no row counts in the manifest: ${counted.reason}`);
      else {
        result.tables = Object.keys(counted.tables).length;
        return counted.tables;
      }
      return undefined;
    };
    print('@stage upload');
    // The writer takes its start time from the first `now()`; the folder name must be known before
    // the first part is stored, so that first call returns the time the id is made from.
    const clock = input.now ?? (() => new Date());
    const startedAt = clock();
    const backupId = backupIdFor(startedAt, sequence);
    let first = true;
    const { manifest } = await writeBackup({
      serverId: config.serverId,
      sequence,
      versions: input.versions,
      entries: [dumpEntry, ...config_, ...files],
      recipients,
      signingKey,
      runner: input.runner,
      signal,
      tables,
      ...(config.partSize ? { partSize: config.partSize } : {}),
      now: () => (first ? ((first = false), startedAt) : clock()),
      onProgress: (p) => {
        if (p.bytesDone !== undefined) report(p.bytesDone);
      },
      sink: {
        writePart: (name, body, index) => store.sink(backupId, { signal, onUploaded: (n) => (uploaded += n) }).writePart(name, body, index),
        writeManifest: async (name, bytes) => {
          // The last moment to notice that the runner died (SIGKILL): no manifest for a killed run.
          signal.throwIfAborted();
          await store.sink(backupId, { signal, onUploaded: (n) => (uploaded += n) }).writeManifest(name, bytes);
        },
      },
    });
    if (manifest.backupId !== backupId) throw new AppError('INTERNAL', 'The backup id changed while writing');
    result.backupId = manifest.backupId;
    result.parts = manifest.parts.length;
    result.archiveBytes = total;
    result.uploadedBytes = uploaded;
    print(`@bytes ${total} ${total}`);

    print('@stage retention');
    result.retention = await applyRetention(store, base, manifest.backupId, config.retention.keep, signingKey.toPublic(), signal, print);
    print(`@done ${manifest.backupId}`);
  } finally {
    client.destroy();
  }
}

function normalizePrefix(prefix: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/` : '';
}

function sequenceOf(backupId: string): number {
  return BACKUP_ID_PATTERN.test(backupId) ? Number(backupId.slice(-8)) : 0;
}

function sumSizes(entries: readonly ArchiveEntry[]): number {
  return entries.reduce((n, e) => n + (e.type === 'directory' ? 0 : e.size), 0);
}

/**
 * Passes exactly `size` bytes and fails at the end unless their SHA-256 is `sha256` (the dump
 * changed after its check). `watch` sees every chunk, and the end of a dump that checked out.
 */
function checkedStream(size: number, sha256: string, watch: { chunk: (c: Buffer) => void; end: () => void }): Transform {
  const hash = createHash('sha256');
  let n = 0;
  return new Transform({
    highWaterMark: CHUNK_SIZE,
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > size) return cb(new AppError('BACKUP_DUMP_FAILED', 'The database dump is longer than when it was checked'));
      hash.update(chunk);
      watch.chunk(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (n !== size) return cb(new AppError('BACKUP_DUMP_FAILED', `The database dump ended after ${n} of ${size} bytes`));
      if (hash.digest('hex') !== sha256) return cb(new AppError('BACKUP_DUMP_FAILED', 'The database dump changed after it was checked'));
      watch.end();
      cb();
    },
  });
}

async function configEntries(sourceDir: string, extra: readonly { name: string; path: string }[]): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  for (const n of STACK_CONFIG) {
    const full = join(sourceDir, n);
    const st = await lstat(full).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) out.push(...(await fileEntries(full, posix.join('config', n), () => undefined)));
    else if (st.isFile()) out.push(fileEntry(full, posix.join('config', n), st.size, st.mode, st.mtime));
  }
  for (const e of extra) {
    const st = await stat(e.path).catch(() => undefined);
    if (st?.isFile()) out.push(fileEntry(e.path, posix.join('config', e.name), st.size, st.mode, st.mtime));
  }
  return out;
}

function fileEntry(full: string, name: string, size: number, mode: number, mtime: Date): ArchiveEntry {
  return {
    type: 'file',
    name,
    size,
    mode: mode & 0o777,
    mtime,
    // Exactly the size the header announced, even if the file grows meanwhile.
    open: () => (size === 0 ? Readable.from([]) : createReadStream(full, { highWaterMark: CHUNK_SIZE, start: 0, end: size - 1 })),
  };
}

/**
 * Walks a live (or snapshotted) directory: files and directories, sorted; symlinks, sockets and
 * the like are skipped with a log line (Misskey's files/ holds only regular files).
 */
async function fileEntries(dir: string, prefix: string, print: (l: string) => void): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  const walk = async (d: string, p: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(d)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const n of names) {
      const full = join(d, n);
      const name = posix.join(p, n);
      const st = await lstat(full).catch(() => undefined);
      if (!st) continue; // removed meanwhile
      if (st.isDirectory()) {
        out.push({ type: 'directory', name, mode: st.mode & 0o777, mtime: st.mtime });
        await walk(full, name);
      } else if (st.isFile()) out.push(fileEntry(full, name, st.size, st.mode, st.mtime));
      else print(`skipped (not a regular file): ${name}`);
    }
  };
  await walk(dir, prefix);
  return out;
}

/**
 * Retention by listing (G17/G18): refuses on any listing error or when the listing does not show
 * the backup just written; counts only manifests that verify against this server's key (a forged
 * flood cannot push genuine backups out); "left to the desktop" when the server's key may not
 * read or delete (the least-privilege setup).
 */
export async function applyRetention(
  store: S3BackupStore,
  base: string,
  current: string,
  keep: number,
  ownKey: PublicKey,
  signal: AbortSignal,
  print: (l: string) => void,
): Promise<NonNullable<JobResult['retention']>> {
  let folders: ListedFolder[];
  try {
    folders = foldersFromKeys(base, await store.listKeys(signal));
  } catch (e) {
    if (isAccessDenied(e)) {
      print('retention left to the desktop: this server may not list its backups (least privilege)');
      return { state: 'left-to-desktop', deleted: [], reason: 'no-list' };
    }
    print(`retention refused: the listing failed (${(e as Error).message})`);
    return { state: 'refused', deleted: [], reason: 'listing-failed' };
  }
  if (!folders.some((f) => f.backupId === current && f.hasManifest)) {
    print('retention refused: the listing does not show the backup just written');
    return { state: 'refused', deleted: [], reason: 'listing-incomplete' };
  }
  const manifests = folders.filter((f) => f.hasManifest);
  if (manifests.length <= keep && !folders.some((f) => !f.hasManifest && f.backupId < current))
    return { state: 'nothing-to-do', deleted: [] };
  const checked: ListedFolder[] = [];
  for (const f of folders) {
    if (!f.hasManifest) {
      checked.push(f);
      continue;
    }
    try {
      const bytes = await store.getObject(`${base}${f.backupId}/${MANIFEST_NAME}`, signal);
      checked.push({ ...f, genuine: await signedBy(bytes, ownKey) });
    } catch (e) {
      if (isAccessDenied(e)) {
        print('retention left to the desktop: this server may not read its backups (least privilege)');
        return { state: 'left-to-desktop', deleted: [], reason: 'no-read' };
      }
      print(`retention refused: a manifest could not be read (${(e as Error).message})`);
      return { state: 'refused', deleted: [], reason: 'read-failed' };
    }
  }
  const plan = planRetention(checked, { keep, current });
  for (const id of plan.flagged) print(`retention: not counted (signature does not verify): ${id}`);
  const keys = checked.filter((f) => plan.delete.includes(f.backupId)).flatMap((f) => f.keys);
  if (keys.length === 0) return { state: 'nothing-to-do', deleted: [] };
  // Manifests first: a half-deleted backup is then "incomplete", never a backup with missing parts.
  const ordered = [...keys.filter((k) => k.endsWith(`/${MANIFEST_NAME}`)), ...keys.filter((k) => !k.endsWith(`/${MANIFEST_NAME}`))];
  try {
    await store.deleteKeys(ordered, signal);
  } catch (e) {
    if (isAccessDenied(e)) {
      print('retention left to the desktop: this server may not delete (least privilege)');
      return { state: 'left-to-desktop', deleted: [], reason: 'no-delete' };
    }
    throw e;
  }
  for (const id of plan.delete) print(`retention: deleted ${id}`);
  return { state: 'applied', deleted: [...plan.delete] };
}

async function signedBy(bytes: Uint8Array, key: PublicKey): Promise<boolean> {
  try {
    const message = await readMessage({ binaryMessage: bytes });
    const { signatures } = await verify({ message, verificationKeys: key, expectSigned: true, format: 'binary' });
    for (const s of signatures) await s.verified;
    return signatures.length > 0;
  } catch {
    return false;
  }
}

function isAccessDenied(e: unknown): boolean {
  const name = (e as { name?: string; Code?: string } | null)?.name ?? '';
  return name === 'AccessDenied' || (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403;
}
