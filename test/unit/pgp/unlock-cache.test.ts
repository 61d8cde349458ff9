import { generateKey } from 'openpgp';
import { describe, expect, it } from 'vitest';
import { UnlockCache, type Clock } from '../../../src-main/services/pgp/unlock-cache';

/** A manual clock: timers fire only when the test advances time. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (h) => void (timers = timers.filter((t) => t.id !== h)),
  };
  const advance = (ms: number) => {
    now += ms;
    const due = timers.filter((t) => t.at <= now);
    timers = timers.filter((t) => t.at > now);
    due.forEach((t) => t.fn());
  };
  return { clock, advance };
}

const unlockedKey = async () => (await generateKey({ userIDs: [{ name: 't' }], format: 'object' })).privateKey;

describe('UnlockCache', () => {
  it('locks (and wipes) the key after the idle time, and each use restarts the timer', async () => {
    const { clock, advance } = fakeClock();
    const cache = new UnlockCache(60_000, clock);
    const key = await unlockedKey();
    const locked: boolean[] = [];
    cache.onChange((l) => locked.push(l));
    cache.set(key);
    advance(59_000);
    expect(cache.get()).toBe(key);
    advance(59_000);
    expect(cache.isUnlocked()).toBe(true);
    advance(2_000);
    expect(cache.isUnlocked()).toBe(false);
    expect(key.isDecrypted()).toBe(false); // secret material wiped
    expect(() => cache.get()).toThrow(expect.objectContaining({ code: 'KEY_WRONG_PASSPHRASE' }));
    expect(locked).toEqual([false, true]);
  });

  it('never expires while a job uses the key', async () => {
    const { clock, advance } = fakeClock();
    const cache = new UnlockCache(1_000, clock);
    cache.set(await unlockedKey());
    let release!: () => void;
    const job = cache.use(() => new Promise<void>((r) => (release = r)));
    advance(10_000);
    expect(cache.isUnlocked()).toBe(true);
    release();
    await job;
    advance(999);
    expect(cache.isUnlocked()).toBe(true);
    advance(1);
    expect(cache.isUnlocked()).toBe(false);
  });

  it('refuses a locked key', async () => {
    const cache = new UnlockCache();
    const { privateKey } = await generateKey({ userIDs: [{ name: 't' }], passphrase: 'abc def ghi jkl', format: 'object' });
    expect(() => cache.set(privateKey)).toThrow();
  });
});
