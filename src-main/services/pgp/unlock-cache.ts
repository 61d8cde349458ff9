import type { PrivateKey } from 'openpgp';
import { AppError } from '../../shared/errors';
import { lockKey } from './key-protect';

/** Timer functions, injectable so tests can drive idle expiry without waiting. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Default idle time before an unlocked key is wiped: a few minutes, enough for one job's prompts. */
export const DEFAULT_IDLE_MS = 5 * 60_000;

/**
 * Holds the unlocked private key in main only while it is needed. Each use (and each running job,
 * via {@link UnlockCache.use}) keeps it alive; after `idleMs` with no use and no job holding it,
 * the key's secret material is wiped. The passphrase itself is never kept.
 */
export class UnlockCache {
  private key: PrivateKey | undefined;
  private timer: unknown;
  private holders = 0;
  private readonly listeners = new Set<(locked: boolean) => void>();

  constructor(
    private readonly idleMs: number = DEFAULT_IDLE_MS,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Puts an unlocked key in the cache (replacing and wiping any previous one). */
  set(unlocked: PrivateKey): void {
    if (!unlocked.isDecrypted()) throw new AppError('INVALID_ARGUMENT', 'UnlockCache.set needs an unlocked key');
    if (this.key && this.key !== unlocked) lockKey(this.key);
    this.key = unlocked;
    this.touch();
    this.emit(false);
  }

  isUnlocked(): boolean {
    return this.key !== undefined;
  }

  /** The unlocked key, refreshing the idle timer; VAULT_LOCKED-like KEY error when locked. */
  get(): PrivateKey {
    if (!this.key) throw new AppError('KEY_WRONG_PASSPHRASE', 'The private key is locked; enter its passphrase', { locked: true });
    this.touch();
    return this.key;
  }

  /**
   * Runs `fn` with the unlocked key; the key cannot expire while `fn` runs (a long restore), and
   * the idle timer restarts when it ends.
   */
  async use<T>(fn: (key: PrivateKey) => Promise<T>): Promise<T> {
    const key = this.get();
    this.holders++;
    this.clearTimer();
    try {
      return await fn(key);
    } finally {
      this.holders--;
      this.touch();
    }
  }

  /** Wipes the key now (user pressed "lock", app quitting, key removed). */
  lock(): void {
    this.clearTimer();
    if (!this.key) return;
    lockKey(this.key);
    this.key = undefined;
    this.emit(true);
  }

  /** Notified with `true` when the key gets locked, `false` when unlocked. */
  onChange(fn: (locked: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private touch(): void {
    this.clearTimer();
    if (!this.key || this.holders > 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.holders === 0) this.lock();
    }, this.idleMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private emit(locked: boolean): void {
    for (const l of this.listeners) l(locked);
  }
}
