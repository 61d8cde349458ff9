import { drillDueAt, type DrillSettings } from '../../shared/backups';
import { AppError } from '../../shared/errors';
import type { JobRunner } from '../jobs/job-runner';
import type { BackupCatalog } from './backup-catalog';
import type { BackupVerifier } from './backup-verify';

export interface DrillDeps {
  readonly catalog: BackupCatalog;
  readonly verifier: BackupVerifier;
  readonly jobs: JobRunner;
  readonly profileIds: () => Promise<readonly string[]>;
  /** Injectable so tests move time instead of waiting. */
  readonly now?: () => Date;
}

/** How often a running app looks whether a drill is due. */
export const DRILL_CHECK_MS = 60 * 60 * 1000;

/**
 * The weekly restore drill (reliability G30): while the app runs, the newest genuine backup of
 * each server whose drill is on is verified end to end once a week, as an ordinary verify job (it
 * asks for the key's passphrase when the key is locked). With `restoreDrill` on, that verify also
 * restores the database into a throwaway container on the server and compares row counts with the
 * manifest's. The schedule lives in the catalog state.
 */
export class BackupDrill {
  private readonly running = new Set<string>();
  constructor(private readonly deps: DrillDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async get(profileId: string): Promise<DrillSettings> {
    const d = (await this.deps.catalog.store.read(profileId)).drill;
    const enabled = d?.enabled ?? false;
    return {
      enabled,
      restoreDrill: d?.restoreDrill ?? false,
      ...(d?.lastRunAt ? { lastRunAt: d.lastRunAt } : {}),
      ...(enabled ? { nextDueAt: drillDueAt(d?.lastRunAt, this.now()).toISOString() } : {}),
    };
  }

  /** Turns the drill on or off; `restoreDrill` (when given) turns its restore into a throwaway database on or off. */
  async set(profileId: string, enabled: boolean, restoreDrill?: boolean): Promise<DrillSettings> {
    await this.deps.catalog.store.update(profileId, (s) => {
      s.drill = { ...(s.drill ?? {}), enabled, ...(restoreDrill !== undefined ? { restoreDrill } : {}) };
    });
    return this.get(profileId);
  }

  /** Starts the drills that are due; returns their job ids. Called hourly and at start-up. */
  async tick(): Promise<string[]> {
    const started: string[] = [];
    const now = this.now();
    for (const profileId of await this.deps.profileIds()) {
      if (this.running.has(profileId)) continue;
      const d = (await this.deps.catalog.store.read(profileId)).drill;
      if (!d?.enabled || drillDueAt(d.lastRunAt, now) > now) continue;
      // Recorded at start: a drill waiting for a passphrase or failing does not restart every hour.
      await this.deps.catalog.store.update(profileId, (s) => {
        s.drill = { ...(s.drill ?? {}), enabled: true, lastRunAt: now.toISOString() };
      });
      const restoreDrill = d.restoreDrill ?? false;
      this.running.add(profileId);
      const job = this.deps.jobs.start(
        'backup-drill',
        'jobs.kinds.backupDrill',
        async (ctx) => {
          try {
            const listing = await this.deps.catalog.list(profileId, { signal: ctx.signal });
            const latest = listing.latestGenuine;
            if (!latest) throw new AppError('NOT_FOUND', 'There is no genuine backup to verify', { missing: 'genuine-backup' });
            ctx.log(`drill: ${latest}${restoreDrill ? ' (with a restore into a throwaway database on the server)' : ''}`);
            return { backupId: latest, ...(await this.deps.verifier.verify(profileId, latest, ctx, { restoreDrill })) };
          } finally {
            this.running.delete(profileId);
          }
        },
        profileId,
      );
      started.push(job.id);
    }
    return started;
  }

  /** Checks now and then every DRILL_CHECK_MS; returns a stop function. */
  schedule(intervalMs = DRILL_CHECK_MS): () => void {
    const run = (): void => void this.tick().catch(() => undefined);
    const first = setTimeout(run, 30_000);
    const timer = setInterval(run, intervalMs);
    first.unref?.();
    timer.unref?.();
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }
}
