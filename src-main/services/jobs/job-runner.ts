import { randomUUID } from 'node:crypto';
import { AppError, isAppError, isDiskFullError } from '../../shared/errors';
import type { JobPrompt, JobSnapshot, JobState, PromptAnswer } from '../../shared/jobs';
import { TERMINAL_JOB_STATES } from '../../shared/jobs';
import type { Progress } from '../../shared/progress';

type PromptRequest = JobPrompt extends infer P ? (P extends JobPrompt ? Omit<P, 'id'> : never) : never;

/** What a job's body gets: its signal, progress and log reporting, and a way to ask the user. */
export interface JobContext {
  readonly id: string;
  readonly signal: AbortSignal;
  progress(p: Progress): void;
  log(line: string): void;
  /** Asks the user; resolves with the answer, rejects with CANCELLED when the job is cancelled. */
  ask(prompt: PromptRequest): Promise<PromptAnswer>;
}

export type JobBody<T> = (ctx: JobContext) => Promise<T>;

interface Entry {
  snap: JobSnapshot;
  readonly controller: AbortController;
  pending?: { readonly promptId: string; resolve(a: PromptAnswer): void; reject(e: Error): void };
  readonly done: Promise<JobSnapshot>;
  finish?: (s: JobSnapshot) => void;
}

export interface JobRunnerOptions {
  readonly onUpdate?: (job: JobSnapshot) => void;
  /** How many jobs run at once; the rest wait in `queued`. */
  readonly concurrency?: number;
  readonly maxLogLines?: number;
}

/**
 * Runs long work as jobs with a state machine: queued → running ⇄ waiting-for-input →
 * done | failed | cancelled. Every change is pushed through `onUpdate`; `list()` lets a
 * reloaded window carry on.
 */
export class JobRunner {
  private readonly jobs = new Map<string, Entry>();
  private readonly queue: Array<() => void> = [];
  private running = 0;
  private readonly concurrency: number;
  private readonly maxLog: number;

  constructor(private readonly opts: JobRunnerOptions = {}) {
    this.concurrency = opts.concurrency ?? 2;
    this.maxLog = opts.maxLogLines ?? 500;
  }

  start<T>(kind: string, titleKey: string, body: JobBody<T>, subject?: string): JobSnapshot {
    const now = new Date().toISOString();
    const id = randomUUID();
    let finish!: (s: JobSnapshot) => void;
    const done = new Promise<JobSnapshot>((r) => (finish = r));
    const entry: Entry = {
      snap: { id, kind, titleKey, ...(subject ? { subject } : {}), state: 'queued', progress: 0, log: [], createdAt: now, updatedAt: now },
      controller: new AbortController(),
      done,
      finish,
    };
    this.jobs.set(id, entry);
    this.emit(entry);
    this.queue.push(() => void this.run(entry, body));
    this.pump();
    return entry.snap;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      this.running++;
      this.queue.shift()!();
    }
  }

  private async run<T>(entry: Entry, body: JobBody<T>): Promise<void> {
    const { signal } = entry.controller;
    if (signal.aborted) {
      this.settle(entry, 'cancelled');
      return;
    }
    this.update(entry, { state: 'running' });
    const ctx: JobContext = {
      id: entry.snap.id,
      signal,
      progress: (p) => {
        if (this.isTerminal(entry)) return;
        this.update(entry, {
          step: p.step,
          ...(p.fraction !== undefined ? { progress: Math.min(1, Math.max(0, p.fraction)) } : {}),
          ...(p.bytesDone !== undefined ? { bytesDone: p.bytesDone } : {}),
          ...(p.bytesTotal !== undefined ? { bytesTotal: p.bytesTotal } : {}),
        });
      },
      log: (line) => {
        if (this.isTerminal(entry)) return;
        const log = [...entry.snap.log, line].slice(-this.maxLog);
        this.update(entry, { log });
      },
      ask: (request) => this.ask(entry, request),
    };
    try {
      const result = await body(ctx);
      if (signal.aborted) this.settle(entry, 'cancelled');
      else this.settle(entry, 'done', { result, progress: 1 });
    } catch (e) {
      if (signal.aborted || (isAppError(e) && e.code === 'CANCELLED')) this.settle(entry, 'cancelled');
      else {
        const error = isAppError(e)
          ? { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) }
          : isDiskFullError(e)
            ? { code: 'DISK_FULL' as const, message: 'The disk is full' }
            : { code: 'INTERNAL' as const, message: (e as Error)?.message ?? String(e) };
        // An unexpected error is a bug: keep its stack in the main process's log.
        if (!isAppError(e) && !isDiskFullError(e)) console.error(`[ohitori] job ${entry.snap.kind} failed:`, e);
        this.settle(entry, 'failed', { error });
      }
    } finally {
      this.running--;
      this.pump();
    }
  }

  private ask(entry: Entry, request: PromptRequest): Promise<PromptAnswer> {
    if (entry.controller.signal.aborted) return Promise.reject(new AppError('CANCELLED', 'Cancelled'));
    const prompt = { ...request, id: randomUUID() } as JobPrompt;
    return new Promise<PromptAnswer>((resolve, reject) => {
      entry.pending = { promptId: prompt.id, resolve, reject };
      this.update(entry, { state: 'waiting-for-input', prompt });
    });
  }

  private isTerminal(entry: Entry): boolean {
    return TERMINAL_JOB_STATES.includes(entry.snap.state);
  }

  private settle(entry: Entry, state: JobState, extra: Partial<JobSnapshot> = {}): void {
    if (this.isTerminal(entry)) return;
    const { prompt: _drop, ...rest } = entry.snap;
    entry.snap = { ...rest, ...extra, state, updatedAt: new Date().toISOString() };
    this.emit(entry);
    entry.finish?.(entry.snap);
  }

  private update(entry: Entry, patch: Partial<JobSnapshot>): void {
    entry.snap = { ...entry.snap, ...patch, updatedAt: new Date().toISOString() };
    this.emit(entry);
  }

  private emit(entry: Entry): void {
    this.opts.onUpdate?.(entry.snap);
  }

  private entry(id: string): Entry {
    const e = this.jobs.get(id);
    if (!e) throw new AppError('NOT_FOUND', `No job ${id}`);
    return e;
  }

  list(): JobSnapshot[] {
    return [...this.jobs.values()].map((e) => e.snap);
  }

  get(id: string): JobSnapshot {
    return this.entry(id).snap;
  }

  /** Resolves when the job reaches a terminal state. */
  wait(id: string): Promise<JobSnapshot> {
    return this.entry(id).done;
  }

  cancel(id: string): JobSnapshot {
    const e = this.entry(id);
    if (this.isTerminal(e)) return e.snap;
    e.controller.abort();
    if (e.pending) {
      e.pending.reject(new AppError('CANCELLED', 'Cancelled'));
      e.pending = undefined;
    }
    if (e.snap.state === 'queued') this.settle(e, 'cancelled');
    return e.snap;
  }

  answer(id: string, promptId: string, answer: PromptAnswer): JobSnapshot {
    const e = this.entry(id);
    if (!e.pending || e.pending.promptId !== promptId) throw new AppError('NOT_FOUND', 'This question was already answered');
    const { resolve } = e.pending;
    e.pending = undefined;
    const { prompt: _drop, ...rest } = e.snap;
    e.snap = { ...rest, state: 'running', updatedAt: new Date().toISOString() };
    this.emit(e);
    resolve(answer);
    return e.snap;
  }

  /** Removes a finished job from the list. */
  dismiss(id: string): boolean {
    const e = this.jobs.get(id);
    if (!e || !this.isTerminal(e)) return false;
    return this.jobs.delete(id);
  }
}
