import type { JobSnapshot } from '../../../src-main/shared/jobs';
import { useStore } from '../../stores/store';

/** The newest job of `kind` (about `subject`, when given) among the jobs the window knows. */
function newestJob(jobs: Readonly<Record<string, JobSnapshot>>, kind: string, subject?: string): JobSnapshot | undefined {
  let newest: JobSnapshot | undefined;
  for (const j of Object.values(jobs))
    if (j.kind === kind && (subject === undefined || j.subject === subject) && (!newest || j.createdAt > newest.createdAt)) newest = j;
  return newest;
}

/** The newest job of a kind about a subject: how a reloaded wizard finds where it was. */
export function useLatestJob(kind: string, subject: string): JobSnapshot | undefined {
  return useStore((s) => newestJob(s.jobs, kind, subject));
}

/** The subject (a profile id) of the newest job of a kind, whatever it is about. */
export function useLatestJobSubject(kind: string): string | undefined {
  return useStore((s) => newestJob(s.jobs, kind)?.subject);
}
