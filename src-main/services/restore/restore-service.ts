import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PrivateKey } from 'openpgp';
import tar from 'tar-stream';
import { AppError } from '../../shared/errors';
import type { RestoreResult, RestoreServerState } from '../../shared/restore';
import type { ServerProfile } from '../../shared/domain';
import { createPartRunner, readBackupManifest, restoreToDirectory, type BackupManifest } from '../backup-format';
import { MANIFEST_NAME, backupFolder, BACKUP_ID_PATTERN } from '../backup-format/format';
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
    const staging = join(this.opts.dataDir, 'restore', req.backupId);
    const { client, bucket, prefix } = await this.opts.storage.desktopClient(source.id);
    try {
      // 1. The manifest, signed by a pinned key of the source server, found where it says it belongs.
      ctx.progress({ step: 'restore.steps.manifest' });
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
                return (r.Body as Readable).pipe(counted);
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

        // 4. Upload (resumable) into a private folder of the SSH user, then the swap, detached, as root.
        const filesTar = join(staging, 'files.tar');
        await packDirectory(join(staging, 'out', 'files'), filesTar);
        const dumpSha = await sha256File(dumpPath);
        const filesSha = await sha256File(filesTar);
        const remoteDir = `.ohitori-restore/${req.backupId}`;
        await session.check(['sh', '-c', 'umask 077 && mkdir -p "$1"', 'x', remoteDir]);
        const home = (await session.check(['sh', '-c', 'cd && pwd'])).stdout.trim();
        const absDir = `${home}/${remoteDir}`;
        const uploadTotal = (await stat(dumpPath)).size + (await stat(filesTar)).size;
        let uploaded = 0;
        for (const [local, name, sha] of [
          [dumpPath, 'db.dump', dumpSha],
          [filesTar, 'files.tar', filesSha],
        ] as const) {
          const there = await session.exec(['sh', '-c', 'sha256sum < "$1" 2>/dev/null | cut -d" " -f1', 'x', `${absDir}/${name}`]);
          const size = (await stat(local)).size;
          if (there.stdout.trim() === sha) {
            uploaded += size;
            ctx.log(`${name}: already on the server`);
            continue;
          }
          ctx.progress({ step: 'restore.steps.upload', bytesDone: uploaded, bytesTotal: uploadTotal });
          const base = uploaded;
          await fastPut(session, local, `${absDir}/${name}`, (n) =>
            ctx.progress({
              step: 'restore.steps.upload',
              bytesDone: base + n,
              bytesTotal: uploadTotal,
              fraction: (base + n) / uploadTotal,
            }),
          );
          uploaded += size;
        }
        ctx.signal.throwIfAborted();
        if (req.stopAfterUpload) {
          await session.exec(['rm', '-rf', absDir]);
          return { backupId: req.backupId, stamp: '', keptAside: '', phase: 'uploaded' };
        }

        // 5. The swap: detached on the server, polled here.
        ctx.progress({ step: 'restore.steps.swap' });
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
        if (before && !['healthy', 'confirmed', 'rolled-back', 'failed'].includes(before.phase) && before.running)
          throw new AppError('RESTORE_IN_PROGRESS', 'A restore is already running on this server');
        if (before && before.phase === 'healthy')
          throw new AppError('RESTORE_IN_PROGRESS', 'The previous restore waits for confirmation: confirm or roll it back first');
        if (before && !before.running && !['healthy', 'confirmed', 'rolled-back', 'failed'].includes(before.phase)) {
          ctx.log('an interrupted restore was found: putting the kept-aside data back first');
          await session.check([RESTORE_PATHS.script, 'recover'], { sudo: true });
        }
        const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15).replace('T', 't');
        await session.check(['setsid', '-f', RESTORE_PATHS.script, 'swap', absDir, dumpSha, filesSha, stamp], { sudo: true });
        const end = await this.waitForSwap(session, stamp, ctx);
        if (end.phase === 'rolled-back') throw new AppError('RESTORE_ROLLED_BACK', end.message || 'The restore failed and was rolled back');
        if (end.phase !== 'healthy')
          throw new AppError('REMOTE_COMMAND_FAILED', end.message || 'The restore failed on the server', { phase: end.phase });
        await session.exec(['rm', '-rf', absDir]);
        return { backupId: req.backupId, stamp, keptAside: `${live.dbName}_pre_${stamp}`, phase: end.phase };
      } finally {
        session.close();
      }
    } finally {
      client.destroy();
      await rm(staging, { recursive: true, force: true });
    }
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
    const s = JSON.parse(raw.toString('utf8')) as { phase: string; stamp: string; pid: number; at: string; message: string };
    const alive = (await session.exec(['kill', '-0', String(s.pid)], { sudo: true })).code === 0;
    return { phase: s.phase, stamp: s.stamp, at: s.at, message: s.message, running: alive };
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
        if (['healthy', 'rolled-back', 'failed', 'confirmed'].includes(s.phase)) return s;
        if (!s.running)
          return { ...s, phase: 'failed', message: 'the restore process on the server stopped; run the restore again to recover' };
      }
      // Cancelling here does not stop the swap: it is the one step that must finish or roll back by itself.
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

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(c as Buffer);
  return h.digest('hex');
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

/** SFTP upload tuned as docs/performance §4 measured (255 KiB chunks, 8 in flight). */
async function fastPut(session: SshSession, local: string, remote: string, onBytes: (n: number) => void): Promise<void> {
  const sftp = await session.sftp();
  await new Promise<void>((resolve, reject) =>
    sftp.fastPut(local, remote, { concurrency: 8, chunkSize: 255 * 1024, mode: 0o600, step: (done) => onBytes(done) }, (err) =>
      err ? reject(new AppError('CONNECTION_LOST', `Upload failed: ${err.message}`)) : resolve(),
    ),
  );
}
