import type { Readable } from 'node:stream';
import type { PrivateKey } from 'openpgp';
import { readBackup } from '../backup-format/backup-reader';
import { InlinePartRunner } from '../backup-format/part-runner';
import type { PartSource } from '../backup-format/parts-reader';
import type { BackupManifest } from '../backup-format/manifest';
import type { BackupState, RestoreDrillRecord, VerifyRecord } from '../../shared/backups';
import { AppError, isAppError, type ErrorCode } from '../../shared/errors';
import type { JobContext } from '../jobs/job-runner';
import type { Keyring } from '../pgp/keyring';
import type { SshSession } from '../ssh/ssh-session';
import { openObject, type BackupCatalog } from './backup-catalog';
import {
  compareRowCounts,
  findLocalPgRestore,
  localDumpChecker,
  postgresMajor,
  serverDumpChecker,
  serverRestoreDrill,
  type DumpChecker,
  type RestoreDrill,
} from './dump-check';

export interface VerifyDeps {
  readonly catalog: BackupCatalog;
  readonly keyring: Keyring;
  /** Opens SSH to the profile's server (only when this computer has no pg_restore of the dump's major). */
  readonly openSession: (profileId: string, ctx: JobContext) => Promise<SshSession>;
  /** Finds a local pg_restore of a major version; injectable so tests can force the server path. */
  readonly findPgRestore?: (major: number) => Promise<string | undefined>;
  /** The restore drill for a major version over a session; injectable for tests. */
  readonly restoreDrill?: (session: SshSession, major: number) => RestoreDrill;
  /** Where the private temp directories for decrypted parts go (default: the OS temp dir). */
  readonly tempBase?: string;
  readonly now?: () => Date;
}

/** The error code a flagged list entry is refused with. */
export function codeForState(state: BackupState): ErrorCode {
  switch (state) {
    case 'unsigned':
      return 'BACKUP_UNSIGNED';
    case 'forged':
      return 'BACKUP_SIGNATURE_INVALID';
    case 'replayed':
      return 'BACKUP_REPLAYED';
    case 'incomplete':
    case 'in-progress':
      return 'BACKUP_INCOMPLETE';
    default:
      return 'BACKUP_DAMAGED';
  }
}

/** Codes that say something about the backup itself (stored as its verify result). */
const BACKUP_VERDICTS = new Set<string>([
  'BACKUP_DAMAGED',
  'BACKUP_SIGNATURE_INVALID',
  'BACKUP_UNSIGNED',
  'BACKUP_REPLAYED',
  'BACKUP_INCOMPLETE',
  'BACKUP_DUMP_UNREADABLE',
  'BACKUP_RESTORE_DRILL_FAILED',
  'BACKUP_ROW_COUNT_MISMATCH',
  'KEY_NOT_RECIPIENT',
]);

export interface VerifyOptions {
  /**
   * Also restore the database dump into a throwaway database on the server (instead of only
   * reading it) and compare every table's rows with the manifest's counts.
   */
  readonly restoreDrill?: boolean;
}

/** How many mismatching tables a result keeps. */
const MAX_MISMATCHES = 50;

/**
 * The restore drill's verdict from the manifest's counts and the restored ones: a record, and
 * BACKUP_ROW_COUNT_MISMATCH (with the record) when a table differs. A manifest without counts
 * (made before they were recorded) gives a record that says it was restored, not compared.
 */
export function judgeRestoreDrill(
  expected: Readonly<Record<string, number>> | undefined,
  actual: Readonly<Record<string, number>>,
): { record: RestoreDrillRecord; error?: AppError } {
  const values = Object.values(actual);
  const base = { tables: values.length, rows: values.reduce((a, b) => a + b, 0) };
  if (!expected) return { record: { ...base, compared: false, mismatches: [] } };
  const all = compareRowCounts(expected, actual);
  const record: RestoreDrillRecord = { ...base, compared: true, mismatches: all.slice(0, MAX_MISMATCHES) };
  if (all.length === 0) return { record };
  const shown = all
    .slice(0, 5)
    .map((m) => `${m.table}: ${m.expected} in the manifest, ${m.actual ?? 'missing'} restored`)
    .join('; ');
  return {
    record,
    error: new AppError(
      'BACKUP_ROW_COUNT_MISMATCH',
      `${all.length} table(s) restored with other row counts than the manifest names: ${shown}`,
      {
        mismatches: record.mismatches,
        count: all.length,
      },
    ),
  };
}

/** A database dump inside the archive (the job writes `db/<name>.dump`, pg_dump's custom format). */
const isDump = (name: string): boolean => name.startsWith('db/') && name.endsWith('.dump');

/**
 * Verify one backup end to end, as a job (docs/architecture.md#verify): the list must show it
 * genuine (signature, place, sequence, parts present); the manifest is fetched and checked again;
 * every part is downloaded, hashed, decrypted and signature-checked into a private temp file by the
 * format library; the whole archive is read; the database dump is read whole by pg_restore of the
 * dump's major version, here or in a throwaway container on the server. The outcome is stored:
 * failures that say something about the backup (BACKUP_*, KEY_NOT_RECIPIENT) mark it failed; a
 * network error or a cancel leave the previous result alone.
 */
export class BackupVerifier {
  constructor(private readonly deps: VerifyDeps) {}

  async verify(profileId: string, backupId: string, ctx: JobContext, opts: VerifyOptions = {}): Promise<VerifyRecord> {
    const now = () => (this.deps.now?.() ?? new Date()).toISOString();
    let dumpCheck: VerifyRecord['dumpCheck'] = 'none';
    let drillRecord: RestoreDrillRecord | undefined;
    try {
      const listing = await this.deps.catalog.list(profileId, {
        signal: ctx.signal,
        onProgress: (p) => ctx.progress({ ...p, fraction: 0 }),
      });
      const entry = listing.entries.find((e) => e.backupId === backupId);
      if (!entry) throw new AppError('NOT_FOUND', 'This backup is no longer in the bucket', { backupId });
      if (entry.state !== 'genuine')
        throw new AppError(codeForState(entry.state), `The list flags this backup as ${entry.state}`, {
          state: entry.state,
          reasons: entry.reasons,
        });
      const t = await this.deps.catalog.target(profileId);
      let session: SshSession | undefined;
      try {
        ctx.progress({ step: 'backupList.steps.manifest', fraction: 0 });
        const { manifest, signer } = await this.deps.catalog.freshManifest(t, backupId, ctx.signal);
        await this.unlockedKey(ctx);
        const checker = await this.dumpChecker(
          profileId,
          manifest,
          ctx,
          (s) => (session = s),
          (w) => (dumpCheck = w),
        );
        const restored: Record<string, number> = {};
        let drill: RestoreDrill | undefined;
        const restoreDrill = async (): Promise<RestoreDrill> => {
          if (drill) return drill;
          const major = postgresMajor(manifest.versions.postgres);
          if (major === undefined)
            throw new AppError('BACKUP_DAMAGED', 'The backup holds a database dump but does not say which PostgreSQL made it');
          ctx.log(`restore drill: restoring the dump into a throwaway postgres:${major}-alpine container on the server`);
          session ??= await this.deps.openSession(profileId, ctx);
          dumpCheck = 'server';
          return (drill = (this.deps.restoreDrill ?? serverRestoreDrill)(session, major));
        };
        const source: PartSource = { openPart: (name, _i, signal) => openObject(t, `${t.serverFolder}${backupId}/${name}`, signal) };
        const runner = new InlinePartRunner(2);
        let sawDump = false;
        await this.deps.keyring.withUnlockedKey(async (unlocked: PrivateKey) => {
          await readBackup(
            manifest,
            source,
            async (e, body: Readable) => {
              if (e.type === 'file' && isDump(e.name)) {
                sawDump = true;
                ctx.log(`pg_restore: ${e.name}`);
                if (opts.restoreDrill) Object.assign(restored, await (await restoreDrill())(body, ctx.signal));
                else await (await checker())(body, ctx.signal);
              } else for await (const _ of body) void _;
            },
            {
              decryptionKey: unlocked,
              verificationKey: signer,
              runner,
              signal: ctx.signal,
              ...(this.deps.tempBase ? { tempBase: this.deps.tempBase } : {}),
              onProgress: (p) => {
                if (p.step === 'steps.decrypt') ctx.progress({ ...p, step: 'backupList.steps.verify' });
              },
            },
          );
        });
        if (!sawDump) dumpCheck = 'none';
        if (opts.restoreDrill && sawDump) {
          const verdict = judgeRestoreDrill(manifest.tables, restored);
          drillRecord = verdict.record;
          ctx.log(
            verdict.record.compared
              ? `restore drill: ${verdict.record.tables} tables, ${verdict.record.rows} rows; ${Number(verdict.error?.details?.count ?? 0)} differ from the manifest`
              : `restore drill: ${verdict.record.tables} tables, ${verdict.record.rows} rows restored; the manifest names no row counts to compare`,
          );
          if (verdict.error) throw verdict.error;
        }
      } finally {
        t.client.destroy();
        (session as SshSession | undefined)?.close();
      }
      const record: VerifyRecord = { at: now(), ok: true, dumpCheck, ...(drillRecord ? { restoreDrill: drillRecord } : {}) };
      await this.deps.catalog.recordVerify(profileId, backupId, record);
      ctx.progress({ step: 'backupList.steps.verified', fraction: 1 });
      return record;
    } catch (e) {
      if (ctx.signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
      if (isAppError(e) && BACKUP_VERDICTS.has(e.code))
        await this.deps.catalog.recordVerify(profileId, backupId, {
          at: now(),
          ok: false,
          code: e.code,
          ...(drillRecord ? { restoreDrill: drillRecord } : {}),
        });
      throw e;
    }
  }

  /** The desktop key, unlocked: from the cache, or by asking the passphrase in the job (three tries). */
  private async unlockedKey(ctx: JobContext): Promise<void> {
    if (this.deps.keyring.cache.isUnlocked()) return;
    if (!(await this.deps.keyring.desktopKey()))
      throw new AppError('NOT_FOUND', 'This computer has no backup key yet', { missing: 'desktop-key' });
    for (let attempt = 0; ; attempt++) {
      const a = await ctx.ask({ kind: 'secret', messageKey: attempt ? 'backupList.unlockAgain' : 'backupList.unlockPrompt' });
      if (!a.accepted || !a.value) throw new AppError('CANCELLED', 'Cancelled');
      try {
        await this.deps.keyring.unlock(a.value);
        return;
      } catch (e) {
        if (!isAppError(e) || e.code !== 'KEY_WRONG_PASSPHRASE' || attempt >= 2) throw e;
      }
    }
  }

  /**
   * Chooses where the dump is read, lazily (a backup without a dump needs neither): a local
   * pg_restore of the manifest's PostgreSQL major, else the server over SSH.
   */
  private async dumpChecker(
    profileId: string,
    manifest: BackupManifest,
    ctx: JobContext,
    keepSession: (s: SshSession) => void,
    where: (w: 'local' | 'server') => void,
  ): Promise<() => Promise<DumpChecker>> {
    let chosen: DumpChecker | undefined;
    return async () => {
      if (chosen) return chosen;
      const major = postgresMajor(manifest.versions.postgres);
      if (major === undefined)
        throw new AppError('BACKUP_DAMAGED', 'The backup holds a database dump but does not say which PostgreSQL made it');
      const local = await (this.deps.findPgRestore ?? findLocalPgRestore)(major);
      if (local) {
        where('local');
        ctx.log(`pg_restore ${major} on this computer: ${local}`);
        return (chosen = localDumpChecker(local));
      }
      ctx.log(`no pg_restore ${major} on this computer: reading the dump in postgres:${major}-alpine on the server`);
      const session = await this.deps.openSession(profileId, ctx);
      keepSession(session);
      where('server');
      return (chosen = serverDumpChecker(session, major));
    };
  }
}
