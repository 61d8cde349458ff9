import type { StateCreator } from 'zustand';
import type { AppErrorData } from '../../src-main/shared/errors';
import type { JobSnapshot } from '../../src-main/shared/jobs';
import { call } from '../api/client';
import type { Store } from './store';

export interface JobsSlice {
  jobs: Readonly<Record<string, JobSnapshot>>;
  jobsError?: AppErrorData;
  loadJobs(): Promise<void>;
  upsertJob(job: JobSnapshot): void;
  cancelJob(id: string): Promise<void>;
  answerJob(id: string, promptId: string, accepted: boolean, value?: string): Promise<void>;
  dismissJob(id: string): Promise<void>;
  startSelfCheck(askFirst: boolean): Promise<void>;
}

/** Jobs as main reports them; events keep it current, `loadJobs` resyncs after a reload. */
export const createJobsSlice: StateCreator<Store, [], [], JobsSlice> = (set, get) => {
  const report = (r: { ok: true } | { ok: false; error: AppErrorData }): void => set({ jobsError: r.ok ? undefined : r.error });
  const apply = (r: Awaited<ReturnType<typeof call<'jobs:cancel'>>>): void => {
    if (r.ok) get().upsertJob(r.value);
    report(r);
  };
  return {
    jobs: {},
    async loadJobs() {
      const r = await call('jobs:list', {});
      if (r.ok) set({ jobs: Object.fromEntries(r.value.map((j) => [j.id, j])) });
      report(r);
    },
    upsertJob(job) {
      const prev = get().jobs[job.id];
      if (prev && prev.updatedAt > job.updatedAt) return;
      set({ jobs: { ...get().jobs, [job.id]: job } });
    },
    async cancelJob(id) {
      apply(await call('jobs:cancel', { id }));
    },
    async answerJob(id, promptId, accepted, value) {
      apply(await call('jobs:answer', value === undefined ? { id, promptId, accepted } : { id, promptId, accepted, value }));
    },
    async dismissJob(id) {
      const r = await call('jobs:dismiss', { id });
      if (r.ok) {
        const { [id]: _gone, ...rest } = get().jobs;
        set({ jobs: rest });
      }
      report(r);
    },
    async startSelfCheck(askFirst) {
      apply(await call('diagnostics:self-check', { askFirst }));
    },
  };
};
