import { useShallow } from 'zustand/react/shallow';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import { useStore } from '../../stores/store';

/** The newest job of a kind about a subject: how a reloaded wizard finds where it was. */
export function useLatestJob(kind: string, subject: string): JobSnapshot | undefined {
  return useStore(
    useShallow((s) =>
      Object.values(s.jobs)
        .filter((j) => j.kind === kind && j.subject === subject)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
        .slice(0, 1),
    ),
  )[0];
}

/** The subject (a profile id) of the newest job of a kind, whatever it is about. */
export function useLatestJobSubject(kind: string): string | undefined {
  return useStore((s) => {
    let newest: JobSnapshot | undefined;
    for (const j of Object.values(s.jobs)) if (j.kind === kind && (!newest || j.createdAt > newest.createdAt)) newest = j;
    return newest?.subject;
  });
}
