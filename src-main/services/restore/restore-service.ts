import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, pipeline as pipeStreams, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PrivateKey } from 'openpgp';
import tar from 'tar-stream';
import { scratchDir } from '../files/scratch-dir';
import { AppError } from '../../shared/errors';
import type { RestoreResult, RestoreServerState } from '../../shared/restore';
import type { ServerProfile } from '../../shared/domain';
import { createPartRunner, readBackupManifest, restoreToDirectory, type BackupManifest } from '../backup-format';
import { MANIFEST_NAME, backupFolder, BACKUP_ID_PATTERN } from '../backup-format/format';
import type { BackupCatalog } from '../backups/backup-catalog';
import { codeForState } from '../backups/backup-verify';
import type { SigningKeyPins } from '../backups/signing-pins';
import { serverIdFor } from '../backups/signing-pins';
import type { JobContext } from '../jobs/job-runner';
import type { Keyring } from '../pgp/keyring';
import { composeCommand } from '../setup/apply-stack';
import { openProfileSession } from '../setup/open-session';
import { gatherServerFacts } from '../setup/server-facts';
import type { HostKeyStore } from '../ssh/host-key-store';
import { readRemoteFile, writeRemoteFile } from '../ssh/remote-files';
import type { SshSession } from '../ssh/ssh-session';
import { parseExistingConfig, sameOrigin } from '../stack/misskey-config';
import { composeArgv } from '../stack/systemd-unit';
import type { StorageService } from '../storage/storage-service';
import type { SecretStore } from '../vault/secret-store';
import { RESTORE_PATHS, renderRestoreScript } from './swap-script';

export interface RestoreServiceOptions {
  readonly dataDir: string;
  readonly secrets: SecretStore;
  readonly hostKeys: HostKeyStore;
  readonly profile: (id: string) => Promise<ServerProfile>;
  readonly storage: StorageService;
  readonly keyring: Keyring;
  readonly pins: SigningKeyPins;
  /** The backup list: only a backup it shows genuine is restored. */
  readonly catalog: Pick<BackupCatalog, 'list'>;
  /** How often the server's restore state is polled (ms). */
  readonly pollMs?: number;
}

export interface RestoreRequest {
  /** The server profile whose bucket and pinned key the backup belongs to. */
  readonly sourceProfileId: string;
  readonly backupId: string;
  /** Where to restore (the same profile, or a fresh server already set up under the same domain). */
  readonly targetProfileId: string;
  /** Restore even though the backup's url/id differ from the target's (moving an instance). */
  readonly migrate?: boolean;
  /** Stop after the upload (the restore bench measures the desktop half; nothing is swapped). */
  readonly stopAfterUpload?: boolean;
}

const END_PHASES = ['healthy', 'confirmed', 'rolled-back', 'failed'];
const isEnd = (phase: string) => END_PHASES.includes(phase);

const majorOf = (v: string | undefined) => (v ? Number(/^(\d+)/.exec(v)?.[1]) : NaN);

/**
 * Restore (issue #8 part 3, reliability G1/G2/G22/G23): the backup is downloaded, verified and
 * decrypted in full on this computer first, into a private staging folder — no byte reaches the
 * server before every part and signature checked out. Then the url/id and PostgreSQL checks, the
 * upload over SFTP (resumable: files already there with the right SHA-256 are kept), and the swap,
 * which runs detached on the server (ohitori-restore) so a lost connection cannot stop it halfway.
 */
export class RestoreService {
  constructor(private readonly opts: RestoreServiceOptions) {}

  private session(profile: ServerProfile, ctx: JobContext): Promise<SshSession> {
    return openProfileSession(profile, this.opts.secrets, this.opts.hostKeys, ctx);
  }

  async run(req: RestoreRequest, ctx: JobContext): Promise<RestoreResult> {
    if (!BACKUP_ID_PATTERN.test(req.backupId)) throw new AppError('INVALID_ARGUMENT', 'Bad backup id');
    const source = await this.opts.profile(req.sourceProfileId);
    const target = await this.opts.profile(req.targetProfileId);
    const staging = join(scratchDir(this.opts.dataDir), `restore-${req.backupId}`);
    const { client, bucket, prefix } = await this.opts.storage.desktopClient(source.id);
    try {
      // 1. The list must show the backup genuine (G3: replayed, forged, damaged … are refused), then
      //    the manifest, signed by a pinned key of the source server, found where it says it belongs.
      ctx.progress({ step: 'restore.steps.manifest' });
      await this.checkListed(req, source.id, ctx);
      const serverId = (await this.opts.pins.current(source.id))?.serverId ?? serverIdFor(source.domain);
      const folder = backupFolder(prefix, serverId, req.backupId);
      const manifestBytes = await getBytes(client, bucket, folder + MANIFEST_NAME, ctx.signal);
      const { manifest, key: verificationKey } = await this.verifiedManifest(source.id, manifestBytes, serverId, req.backupId);
      const desktop = (await this.opts.keyring.list()).find((r) => r.role === 'desktop');
      if (!desktop) throw new AppError('KEY_INVALID', 'There is no desktop key to decrypt with');
      if (!manifest.recipients.includes(desktop.info.fingerprint.toUpperCase()))
        throw new AppError('KEY_NOT_RECIPIENT', 'This backup was not encrypted to this computer’s key');

      // 2. Everything decrypted and verified here, before the server sees a byte.
      await this.unlock(ctx);
      await rm(staging, { recursive: true, force: true });
      await mkdir(join(staging, 'out'), { recursive: true, mode: 0o700 });
      const total = manifest.parts.reduce((n, p) => n + p.size, 0);
      let downloaded = 0;
      const runner = createPartRunner();
      try {
        await this.opts.keyring.withUnlockedKey((decryptionKey: PrivateKey) =>
          restoreToDirectory(
            manifest,
            {
              openPart: async (name, _i, signal) => {
                const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: folder + name }), {
                  abortSignal: signal ?? ctx.signal,
                });
                // Counted on the way through (a 'data' listener on the body itself would start it flowing early).
                const counted = new Transform({
                  transform(c: Buffer, _e, cb) {
                    downloaded += c.length;
                    ctx.progress({
                      step: 'restore.steps.verify',
                      bytesDone: downloaded,
                      bytesTotal: total,
                      fraction: downloaded / Math.max(1, total),
                    });
                    cb(null, c);
                  },
                });
                // pipeline, not pipe: a body that fails (dropped connection, abort) fails `counted` too,
                // instead of leaving its reader waiting for an end that never comes
                return pipeStreams(r.Body as Readable, counted, () => undefined);
              },
            },
            join(staging, 'out'),
            { decryptionKey, verificationKey, runner, signal: ctx.signal, tempBase: staging },
          ),
        );
      } finally {
        await runner.close();
      }
      const dumpPath = join(staging, 'out', 'db', `${(await this.dumpName(staging)) ?? 'misskey.dump'}`);
      await stat(dumpPath).catch(() => {
        throw new AppError('BACKUP_DAMAGED', 'The backup holds no database dump');
      });

      // 3. Is it this instance, and can the target's PostgreSQL read it?
      ctx.progress({ step: 'restore.steps.checks' });
      const session = await this.session(target, ctx);
      try {
        const facts = await gatherServerFacts(session, target.stackDir, target.domain, ctx.signal);
        const compose = await composeCommand(session, facts);
        const liveYml = await readRemoteFile(session, `${target.stackDir}/.config/default.yml`, true);
        if (!liveYml) throw new AppError('NOT_FOUND', `No Misskey stack in ${target.stackDir} on the target: run the setup there first`);
        const live = parseExistingConfig(liveYml.toString('utf8'));
        const savedYml = await readFile(join(staging, 'out', 'config', '.config', 'default.yml'), 'utf8').catch(() => undefined);
        if (savedYml && !req.migrate) {
          const saved = parseExistingConfig(savedYml);
          if (!sameOrigin(saved.url, live.url) || saved.id !== live.id)
            throw new AppError('RESTORE_IDENTITY_MISMATCH', 'The backup was made by another instance', {
              backup: { url: saved.url, id: saved.id },
              target: { url: live.url, id: live.id },
            });
        }
        const pgLive = await session.exec([...composeArgv(compose, target.stackDir), 'exec', '-T', 'db', 'postgres', '--version'], {
          sudo: true,
        });
        const liveMajor = majorOf(/(\d+(?:\.\d+)*)/.exec(pgLive.stdout)?.[1]);
        const backupMajor = majorOf(manifest.versions.postgres);
        if (!Number.isFinite(liveMajor)) throw new AppError('REMOTE_COMMAND_FAILED', 'The target database is not running');
        if (Number.isFinite(backupMajor) && liveMajor < backupMajor)
          throw new AppError('RESTORE_PG_TOO_OLD', `The target runs PostgreSQL ${liveMajor}, the backup needs ${backupMajor} or newer`, {
            target: liveMajor,
            backup: backupMajor,
          });

        // 4. What the server is doing: a rerun of this same restore picks up its swap (waits for it,
        //    or finds it done and waiting for confirmation); another restore's swap blocks; a swap
        //    whose process died is rolled back first (ohitori-restore recover).
        // (Not for the bench's upload-only run: it swaps nothing.)
        if (!req.stopAfterUpload) {
          await writeRemoteFile(
            session,
            RESTORE_PATHS.script,
            renderRestoreScript({ stackDir: target.stackDir, compose, dbName: live.dbName, dbUser: live.dbUser }),
            {
              mode: '755',
              sudo: true,
              owner: 'root:root',
            },
          );
          const before = await this.serverState(session);
          const ours = before?.backupId === req.backupId;
          if (before && ours && (before.phase === 'healthy' || (before.running && !isEnd(before.phase)))) {
            ctx.log(`the server is already restoring this backup (${before.phase}): carrying on from there`);
            return await this.finish(session, req.backupId, before.stamp, live.dbName, ctx, true);
          }
          if (before && before.running && !isEnd(before.phase))
            throw new AppError('RESTORE_IN_PROGRESS', 'A restore is already running on this server', { backupId: before.backupId });
          if (before && before.phase === 'healthy')
            throw new AppError('RESTORE_IN_PROGRESS', 'The previous restore waits for confirmation: confirm or roll it back first', {
              backupId: before.backupId,
            });
          if (before && !before.running && !['healthy', 'confirmed', 'rolled-back'].includes(before.phase)) {
            ctx.log(`an interrupted restore was found (${before.phase}): putting the kept-aside data back first`);
            await session.check([RESTORE_PATHS.script, 'recover'], { sudo: true });
          }
        }

        // 5. Upload (resumable) into a private folder of the SSH user, then the swap, detached, as root.
        const filesTar = join(staging, 'files.tar');
        await packDirectory(join(staging, 'out', 'files'), filesTar);
        const remoteDir = `.ohitori-restore/${req.backupId}`;
        await session.check(['sh', '-c', 'umask 077 && mkdir -p "$1"', 'x', remoteDir]);
        const home = (await session.check(['sh', '-c', 'cd && pwd'])).stdout.trim();
        const absDir = `${home}/${remoteDir}`;
        const uploads = [
          { local: dumpPath, name: 'db.dump', ...(await hashBlocks(dumpPath)) },
          { local: filesTar, name: 'files.tar', ...(await hashBlocks(filesTar)) },
        ];
        const uploadTotal = uploads.reduce((n, u) => n + u.size, 0);
        let uploaded = 0;
        for (const u of uploads) {
          const remote = `${absDir}/${u.name}`;
          const from = await resumeOffset(session, remote, u);
          if (from === u.size) {
            uploaded += u.size;
            ctx.log(`${u.name}: already on the server`);
            continue;
          }
          if (from > 0) ctx.log(`${u.name}: resuming at ${from} of ${u.size} bytes (the start is already on the server)`);
          const base = uploaded;
          ctx.progress({ step: 'restore.steps.upload', bytesDone: base + from, bytesTotal: uploadTotal });
          await putFrom(session, u.local, remote, from, ctx.signal, (n) =>
            ctx.progress({
              step: 'restore.steps.upload',
              bytesDone: base + n,
              bytesTotal: uploadTotal,
              fraction: (base + n) / uploadTotal,
            }),
          );
          uploaded += u.size;
        }
        if (ctx.signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
        if (req.stopAfterUpload) {
          await session.exec(['rm', '-rf', absDir]);
          return { backupId: req.backupId, stamp: '', keptAside: '', phase: 'uploaded' };
        }

        // 6. The swap: detached on the server, polled here.
        ctx.progress({ step: 'restore.steps.swap' });
        const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15).replace('T', 't');
        await session.check(['setsid', '-f', RESTORE_PATHS.script, 'swap', absDir, uploads[0]!.sha, uploads[1]!.sha, stamp, req.backupId], {
          sudo: true,
        });
        return await this.finish(session, req.backupId, stamp, live.dbName, ctx, false);
      } finally {
        session.close();
      }
    } finally {
      client.destroy();
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Waits for the swap `stamp` to end; a healthy end is the result (the old data kept aside until confirmed). */
  private async finish(
    session: SshSession,
    backupId: string,
    stamp: string,
    dbName: string,
    ctx: JobContext,
    adopted: boolean,
  ): Promise<RestoreResult> {
    const end = await this.waitForSwap(session, stamp, ctx);
    if (end.phase === 'rolled-back') throw new AppError('RESTORE_ROLLED_BACK', end.message || 'The restore failed and was rolled back');
    if (end.phase !== 'healthy')
      throw new AppError('REMOTE_COMMAND_FAILED', end.message || 'The restore failed on the server', { phase: end.phase });
    await session.exec(['rm', '-rf', `.ohitori-restore/${backupId}`]);
    return { backupId, stamp, keptAside: `${dbName}_pre_${stamp}`, phase: end.phase, ...(adopted ? { adopted: true } : {}) };
  }

  /** The backup list must show the backup genuine. */
  private async checkListed(req: RestoreRequest, profileId: string, ctx: JobContext): Promise<void> {
    const listing = await this.opts.catalog.list(profileId, { signal: ctx.signal });
    const entry = listing.entries.find((e) => e.backupId === req.backupId);
    if (!entry) throw new AppError('NOT_FOUND', 'This backup is not in the bucket', { backupId: req.backupId });
    if (entry.state !== 'genuine')
      throw new AppError(codeForState(entry.state), `The list flags this backup as ${entry.state}`, {
        state: entry.state,
        reasons: entry.reasons,
      });
  }

  private async dumpName(staging: string): Promise<string | undefined> {
    return (await readdir(join(staging, 'out', 'db')).catch(() => [])).find((n) => n.endsWith('.dump'));
  }

  private async verifiedManifest(profileId: string, bytes: Uint8Array, serverId: string, backupId: string) {
    const keys = await this.opts.pins.publicKeys(profileId);
    if (keys.length === 0) throw new AppError('BACKUP_SIGNATURE_INVALID', 'No server signing key is pinned for this server');
    let last: unknown;
    for (const key of keys) {
      try {
        const manifest: BackupManifest = await readBackupManifest(bytes, key, { serverId, backupId });
        return { manifest, key };
      } catch (e) {
        last = e;
        if (e instanceof AppError && e.code !== 'BACKUP_SIGNATURE_INVALID') throw e;
      }
    }
    throw last;
  }

  private async unlock(ctx: JobContext): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.opts.keyring.withUnlockedKey(async () => undefined);
        return;
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== 'KEY_WRONG_PASSPHRASE') throw e;
      }
      const a = await ctx.ask({
        kind: 'secret',
        messageKey: attempt === 0 ? 'restore.prompts.passphrase' : 'restore.prompts.passphraseAgain',
      });
      if (!a.accepted || !a.value) throw new AppError('CANCELLED', 'Cancelled');
      await this.opts.keyring.unlock(a.value).catch((e: unknown) => {
        if (!(e instanceof AppError) || e.code !== 'KEY_WRONG_PASSPHRASE') throw e;
      });
    }
    await this.opts.keyring.withUnlockedKey(async () => undefined);
  }

  private async serverState(session: SshSession): Promise<RestoreServerState | undefined> {
    const raw = await readRemoteFile(session, RESTORE_PATHS.state, true);
    if (!raw) return undefined;
    const s = JSON.parse(raw.toString('utf8')) as {
      phase: string;
      stamp: string;
      backup?: string;
      pid: number;
      at: string;
      message: string;
    };
    const alive = (await session.exec(['kill', '-0', String(s.pid)], { sudo: true })).code === 0;
    return { phase: s.phase, stamp: s.stamp, ...(s.backup ? { backupId: s.backup } : {}), at: s.at, message: s.message, running: alive };
  }

  private async waitForSwap(session: SshSession, stamp: string, ctx: JobContext): Promise<RestoreServerState> {
    const poll = this.opts.pollMs ?? 1000;
    let lastPhase = '';
    for (;;) {
      const s = await this.serverState(session);
      if (s && s.stamp === stamp) {
        if (s.phase !== lastPhase) {
          lastPhase = s.phase;
          ctx.progress({ step: `restore.phases.${s.phase}` });
          ctx.log(`server: ${s.phase}${s.message ? ` — ${s.message}` : ''}`);
        }
        if (isEnd(s.phase)) return s;
        if (!s.running)
          return { ...s, phase: 'failed', message: 'the restore process on the server stopped; run the restore again to recover' };
      }
      // Cancelling here does not stop the swap (it finishes or rolls back by itself on the server);
      // it only stops waiting. Running the restore again picks the swap up.
      if (ctx.signal.aborted) throw new AppError('CANCELLED', 'Cancelled: the restore goes on on the server');
      await new Promise((r) => setTimeout(r, poll));
    }
  }

  /** The server's restore state (for the UI and for a desktop that reconnects). */
  async status(profileId: string, ctx: JobContext): Promise<RestoreServerState | null> {
    const session = await this.session(await this.opts.profile(profileId), ctx);
    try {
      return (await this.serverState(session)) ?? null;
    } finally {
      session.close();
    }
  }

  /** The user checked the restored instance: the kept-aside database and files are removed. */
  async confirm(profileId: string, ctx: JobContext): Promise<RestoreServerState | null> {
    const session = await this.session(await this.opts.profile(profileId), ctx);
    try {
      const r = await session.exec([RESTORE_PATHS.script, 'confirm'], { sudo: true });
      if (r.code !== 0) throw new AppError('NOT_FOUND', r.stdout.trim() || 'No restore waits for confirmation');
      return (await this.serverState(session)) ?? null;
    } finally {
      session.close();
    }
  }
}

async function getBytes(client: S3Client, bucket: string, key: string, signal: AbortSignal): Promise<Uint8Array> {
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return await r.Body!.transformToByteArray();
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey') throw new AppError('BACKUP_INCOMPLETE', 'The backup has no manifest');
    throw e;
  }
}

/** Uploads are compared with what is already on the server in blocks of this size (resume). */
const RESUME_BLOCK = 4 * 1024 * 1024;

interface Hashed {
  readonly size: number;
  /** SHA-256 of the whole file (hex). */
  readonly sha: string;
  /** SHA-256 of each whole RESUME_BLOCK (a shorter last block is not listed). */
  readonly blocks: readonly string[];
}

/** One read: the file's SHA-256 and that of each whole block. */
async function hashBlocks(path: string): Promise<Hashed> {
  const all = createHash('sha256');
  const blocks: string[] = [];
  let block = createHash('sha256');
  let inBlock = 0;
  let size = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    let buf = c as Buffer;
    all.update(buf);
    size += buf.length;
    while (buf.length > 0) {
      const take = Math.min(buf.length, RESUME_BLOCK - inBlock);
      block.update(buf.subarray(0, take));
      inBlock += take;
      buf = buf.subarray(take);
      if (inBlock === RESUME_BLOCK) {
        blocks.push(block.digest('hex'));
        block = createHash('sha256');
        inBlock = 0;
      }
    }
  }
  return { size, sha: all.digest('hex'), blocks };
}

/**
 * Where an upload starts: the file's size when the server already has it whole; else the end of
 * the leading whole blocks the server's copy (left by an interrupted upload) has right; else 0.
 * Parallel writes can leave holes, so every block is compared, not just the length.
 */
async function resumeOffset(session: SshSession, remote: string, local: Hashed): Promise<number> {
  const r = await session.exec([
    'sh',
    '-c',
    // A whole copy ends it at once; only a partial one is read block by block (once).
    '[ -f "$1" ] || exit 0; s=$(stat -c %s "$1"); ' +
      'if [ "$s" = "$3" ] && [ "$(sha256sum <"$1" | cut -c1-64)" = "$4" ]; then echo whole; exit 0; fi; ' +
      'n=$((s / $2)); i=0; while [ $i -lt $n ]; do echo "block $(dd if="$1" bs=$2 skip=$i count=1 iflag=fullblock status=none | sha256sum | cut -c1-64)"; i=$((i + 1)); done',
    'x',
    remote,
    String(RESUME_BLOCK),
    String(local.size),
    local.sha,
  ]);
  if (r.code !== 0) return 0;
  const lines = r.stdout.split('\n');
  if (lines.includes('whole')) return local.size;
  const there = lines.filter((l) => l.startsWith('block ')).map((l) => l.slice(6));
  let n = 0;
  while (n < there.length && n < local.blocks.length && there[n] === local.blocks[n]) n++;
  return Math.min(n * RESUME_BLOCK, local.size);
}

/** A plain tar of a directory's regular files and folders (what `tar -x` on the server unpacks). */
async function packDirectory(dir: string, out: string): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(out, { mode: 0o600 }));
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const n of (await readdir(d).catch(() => [])).sort()) {
      const full = join(d, n);
      const name = rel ? `${rel}/${n}` : n;
      const st = await lstat(full);
      if (st.isDirectory()) {
        await new Promise<void>((res, rej) =>
          pack.entry({ name: name + '/', type: 'directory', mode: st.mode & 0o777, mtime: st.mtime }, (e) => (e ? rej(e) : res())),
        );
        await walk(full, name);
      } else if (st.isFile()) {
        const sink = pack.entry({ name, type: 'file', size: st.size, mode: st.mode & 0o777, mtime: st.mtime });
        await pipeline(createReadStream(full), sink);
      }
    }
  };
  await walk(dir, '');
  pack.finalize();
  await done;
}

/**
 * SFTP upload of `local` from byte `from` on (the bytes before it are already there), tuned as
 * docs/performance §4 measured: 255 KiB writes, 8 in flight. The remote file is cut at `from` first,
 * so what follows is exactly the local file.
 */
async function putFrom(
  session: SshSession,
  local: string,
  remote: string,
  from: number,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<void> {
  const CHUNK = 255 * 1024;
  if (from > 0) await session.check(['truncate', '-s', String(from), remote]);
  const sftp = await session.sftp();
  const lost = (e: unknown) => new AppError('CONNECTION_LOST', `Upload failed: ${(e as Error)?.message ?? String(e)}`);
  // A write in flight when the link is cut may never be answered: every request races the end of
  // the connection and the job's cancel, so a lost link fails the upload instead of hanging it.
  const cut = new Promise<never>((_resolve, reject) => {
    void session.closed().then(() => reject(lost(new Error('the connection closed'))));
    if (signal.aborted) reject(new AppError('CANCELLED', 'Cancelled'));
    signal.addEventListener('abort', () => reject(new AppError('CANCELLED', 'Cancelled')), { once: true });
  });
  cut.catch(() => undefined);
  const request = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
    Promise.race([new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(lost(err)) : resolve(value as T)))), cut]);
  const handle = await request<Buffer>((cb) => sftp.open(remote, from > 0 ? 'r+' : 'w', { mode: 0o600 }, cb));
  const file = await open(local, 'r');
  try {
    const size = (await file.stat()).size;
    let next = from;
    let done = from;
    let stop = false;
    const writer = async (): Promise<void> => {
      const buf = Buffer.allocUnsafe(CHUNK);
      try {
        while (next < size && !stop) {
          if (signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
          const pos = next;
          const len = Math.min(CHUNK, size - pos);
          next += len;
          const { bytesRead } = await file.read(buf, 0, len, pos);
          if (bytesRead !== len) throw new AppError('INTERNAL', `Short read of ${local}`);
          await request<void>((cb) => sftp.write(handle, buf, 0, len, pos, cb));
          done += len;
          onBytes(done);
        }
      } catch (e) {
        stop = true; // the others stop at their next chunk
        throw e;
      }
    };
    // Every writer stops before the file is closed.
    const ends = await Promise.allSettled(Array.from({ length: 8 }, writer));
    const failed = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
    if (failed) throw failed.reason;
    await request<void>((cb) => sftp.close(handle, cb));
  } finally {
    await file.close();
  }
}
