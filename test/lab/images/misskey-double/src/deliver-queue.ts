/**
 * The deliver queue as the app can observe it. Misskey keeps jobs in Redis (BullMQ); the double
 * keeps them in memory, so they survive neither a restart nor a backup (neither is part of the
 * app's backup anyway). Nothing is ever sent: with federation allowed a job fails to resolve the
 * offline host and waits for a retry (`delayed`, misskey.md §10 row 26); with federation "none"
 * or a blocked host it completes as "skip (blocked)" (row 19).
 */
import { isHostBlocked, toPuny } from './hosts';
import { genId } from './ids';
import { logger } from './log';
import type { Deps, StoredSettings } from './state';

const log = logger('queue:deliver');
const delayed: { host: string; at: number }[] = [];

/** Whether Misskey would deliver to `host` under these settings. */
export function deliveryAllowed(s: Pick<StoredSettings, 'federation' | 'federationHosts' | 'blockedHosts'>, host: string): boolean {
  if (isHostBlocked(s.blockedHosts, host)) return false;
  if (s.federation === 'none') return false;
  return s.federation === 'all' || s.federationHosts.includes(host);
}

/**
 * Queues one activity for `inbox`. A host we try to deliver to gets an `instance` row marked not
 * responding, as Misskey registers it on the first failed attempt.
 */
export async function enqueueDelivery(deps: Deps, settings: StoredSettings, inbox: string): Promise<void> {
  const host = toPuny(new URL(inbox).host);
  if (!deliveryAllowed(settings, host)) {
    log.info(`skip (blocked): ${inbox}`);
    return;
  }
  delayed.push({ host, at: Date.now() });
  log.warn(`failed(offline lab, nothing is sent) to ${inbox}; delayed for retry`);
  await deps.pool.query(
    `INSERT INTO "instance" ("id", "firstRetrievedAt", "host", "isNotResponding") VALUES ($1, now(), $2, true) ON CONFLICT ("host") DO UPDATE SET "isNotResponding" = true`,
    [genId(deps.cfg.id), host],
  );
}

/** `[host, count]` pairs, most jobs first (admin/queue/deliver-delayed). */
export function delayedByHost(): [string, number][] {
  const counts = new Map<string, number>();
  for (const j of delayed) counts.set(j.host, (counts.get(j.host) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

export function delayedCount(): number {
  return delayed.length;
}

/** admin/queue/clear for the deliver queue (other queues are always empty here). */
export function clearDelayed(): void {
  delayed.length = 0;
}
