import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src-main/shared/errors';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import { JobRunner } from '../../../src-main/services/jobs/job-runner';

describe('a failed job keeps its AppError details', () => {
  it('so the storage test can show how far it got', async () => {
    const updates: JobSnapshot[] = [];
    const jobs = new JobRunner({ onUpdate: (j) => updates.push(j) });
    const steps = [{ step: 'head-bucket', outcome: 'failed', code: 'STORAGE_BUCKET_MISSING' }];
    const job = jobs.start('storage-test', 'jobs.kinds.storageTest', async () => {
      throw new AppError('STORAGE_BUCKET_MISSING', 'The bucket does not exist', { steps });
    });
    await expect.poll(() => updates.filter((u) => u.id === job.id).at(-1)?.state).toBe('failed');
    const last = updates.filter((u) => u.id === job.id).at(-1)!;
    expect(last.error).toEqual({ code: 'STORAGE_BUCKET_MISSING', message: 'The bucket does not exist', details: { steps } });
  });
});
