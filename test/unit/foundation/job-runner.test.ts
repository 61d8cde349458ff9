import { closeSync, openSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/shared/errors';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import { JobRunner } from '../../../src-main/services/jobs/job-runner';

function recorder() {
  const updates: JobSnapshot[] = [];
  return { updates, runner: new JobRunner({ onUpdate: (j) => updates.push(j), concurrency: 1 }) };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not reached');
};

describe('job runner', () => {
  it('goes queued → running → done with progress, step, bytes and a result', async () => {
    const { runner, updates } = recorder();
    const job = runner.start('t', 'jobs.kinds.t', async (ctx) => {
      ctx.progress({ step: 'a', fraction: 0.5, bytesDone: 5, bytesTotal: 10 });
      ctx.log('halfway');
      return 42;
    });
    const end = await runner.wait(job.id);
    expect(end).toMatchObject({ state: 'done', progress: 1, result: 42, step: 'a', bytesDone: 5, bytesTotal: 10, log: ['halfway'] });
    expect(updates.map((u) => u.state)).toEqual(expect.arrayContaining(['queued', 'running', 'done']));
    expect(updates.some((u) => u.progress === 0.5)).toBe(true);
  });

  it('clamps progress into 0–1', async () => {
    const { runner } = recorder();
    const seen: number[] = [];
    const r2 = new JobRunner({ onUpdate: (j) => seen.push(j.progress) });
    const j = r2.start('t', 't', async (ctx) => {
      ctx.progress({ step: 's', fraction: 7 });
      ctx.progress({ step: 's', fraction: -3 });
    });
    await r2.wait(j.id);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(0);
    expect(runner.list()).toEqual([]);
  });

  it('records an AppError code, DISK_FULL for a full disk, and INTERNAL for anything else', async () => {
    const { runner } = recorder();
    const a = runner.start('t', 't', async () => {
      throw new AppError('DISK_FULL', 'full');
    });
    const b = runner.start('t', 't', async () => {
      throw new TypeError('x is undefined');
    });
    // a real ENOSPC from the kernel (/dev/full), as a restore writing its files would get it
    const c = runner.start('t', 't', async () => {
      const fd = openSync('/dev/full', 'w');
      try {
        writeSync(fd, Buffer.alloc(4096));
      } finally {
        closeSync(fd);
      }
    });
    expect(await runner.wait(a.id)).toMatchObject({ state: 'failed', error: { code: 'DISK_FULL' } });
    expect(await runner.wait(b.id)).toMatchObject({ state: 'failed', error: { code: 'INTERNAL' } });
    expect(await runner.wait(c.id)).toMatchObject({ state: 'failed', error: { code: 'DISK_FULL', message: 'The disk is full' } });
  });

  it('cancels a running job through its signal', async () => {
    const { runner } = recorder();
    const job = runner.start(
      't',
      't',
      (ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new AppError('CANCELLED', 'c')))),
    );
    await until(() => runner.get(job.id).state === 'running');
    runner.cancel(job.id);
    expect(await runner.wait(job.id)).toMatchObject({ state: 'cancelled' });
  });

  it('cancels a queued job before it starts', async () => {
    const { runner } = recorder();
    let release!: () => void;
    const first = runner.start('t', 't', () => new Promise<void>((r) => (release = r)));
    let ran = false;
    const second = runner.start('t', 't', async () => {
      ran = true;
    });
    expect(runner.get(second.id).state).toBe('queued');
    runner.cancel(second.id);
    release();
    await runner.wait(first.id);
    expect(await runner.wait(second.id)).toMatchObject({ state: 'cancelled' });
    expect(ran).toBe(false);
  });

  it('asks, waits for input, and resumes with the answer', async () => {
    const { runner } = recorder();
    const job = runner.start('t', 't', async (ctx) => {
      const a = await ctx.ask({ kind: 'secret', messageKey: 'k' });
      return a.value;
    });
    await until(() => runner.get(job.id).state === 'waiting-for-input');
    const prompt = runner.get(job.id).prompt!;
    expect(prompt).toMatchObject({ kind: 'secret', messageKey: 'k' });
    expect(() => runner.answer(job.id, 'wrong-id', { accepted: true })).toThrow(AppError);
    expect(runner.answer(job.id, prompt.id, { accepted: true, value: 'v' }).state).toBe('running');
    const end = await runner.wait(job.id);
    expect(end).toMatchObject({ state: 'done', result: 'v' });
    expect(end.prompt).toBeUndefined();
    expect(() => runner.answer(job.id, prompt.id, { accepted: true })).toThrow(AppError);
  });

  it('cancelling while waiting for input rejects the question and ends cancelled', async () => {
    const { runner } = recorder();
    const job = runner.start('t', 't', async (ctx) => {
      await ctx.ask({ kind: 'confirm', messageKey: 'k' });
      return 'should not get here';
    });
    await until(() => runner.get(job.id).state === 'waiting-for-input');
    runner.cancel(job.id);
    expect(await runner.wait(job.id)).toMatchObject({ state: 'cancelled' });
  });

  it('lists jobs for a reloaded window, and dismisses only finished ones', async () => {
    const { runner } = recorder();
    let release!: () => void;
    const running = runner.start('t', 't', () => new Promise<void>((r) => (release = r)));
    await until(() => runner.get(running.id).state === 'running');
    expect(runner.list().map((j) => j.id)).toEqual([running.id]);
    expect(runner.dismiss(running.id)).toBe(false);
    release();
    await runner.wait(running.id);
    expect(runner.dismiss(running.id)).toBe(true);
    expect(runner.list()).toEqual([]);
  });

  it('keeps only the newest log lines', async () => {
    const r = new JobRunner({ maxLogLines: 3 });
    const j = r.start('t', 't', async (ctx) => {
      for (let i = 0; i < 10; i++) ctx.log(`line ${i}`);
    });
    expect((await r.wait(j.id)).log).toEqual(['line 7', 'line 8', 'line 9']);
  });
});
