/**
 * Progress reported by long-running services. Services take an `onProgress` callback and an
 * `AbortSignal`; the job runner turns these into job updates for the UI.
 */
export interface Progress {
  /** i18n key of the current step, e.g. `steps.encrypt`; the UI translates it. */
  readonly step: string;
  /** 0–1 when known. */
  readonly fraction?: number;
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
}

export type ProgressFn = (p: Progress) => void;

/** Options every long service call accepts. */
export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
}
