/**
 * Job records as the UI sees them. Anything that can take over a second runs as a job in main;
 * a reloaded window asks `jobs:list` and keeps following `job` events.
 */
export const JOB_STATES = ['queued', 'running', 'waiting-for-input', 'done', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_JOB_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

/** A question a job asks mid-run; the answer resumes it. */
export type JobPrompt =
  | {
      readonly id: string;
      readonly kind: 'confirm';
      /** i18n key of the question, with values for interpolation. */
      readonly messageKey: string;
      readonly values?: Readonly<Record<string, string>>;
    }
  | {
      readonly id: string;
      readonly kind: 'host-key';
      readonly messageKey: string;
      readonly values: Readonly<{ host: string; fingerprint: string; algorithm: string }>;
    }
  | {
      readonly id: string;
      readonly kind: 'secret';
      readonly messageKey: string;
      readonly values?: Readonly<Record<string, string>>;
    };

export type PromptAnswer = { readonly accepted: boolean; readonly value?: string };

export interface JobSnapshot {
  readonly id: string;
  readonly kind: string;
  /** i18n key of a short title, e.g. `jobs.kinds.self-check`. */
  readonly titleKey: string;
  /** What the job is about (e.g. a server profile id), so a reloaded screen finds its jobs. */
  readonly subject?: string;
  readonly state: JobState;
  readonly progress: number;
  readonly step?: string;
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  readonly prompt?: JobPrompt;
  readonly error?: { readonly code: string; readonly message: string; readonly details?: Readonly<Record<string, unknown>> };
  readonly result?: unknown;
  readonly log: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Events pushed from main to every window. */
export type AppEvent = { readonly type: 'job'; readonly job: JobSnapshot } | { readonly type: 'vault'; readonly unlocked: boolean };
