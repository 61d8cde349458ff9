/** Restore as main and the renderer see it. Plain data only. */

/** The server half's state file, as read over SSH. */
export interface RestoreServerState {
  /** started, web-stopped, aside, db-restored, files-in-place, web-started, healthy, confirmed, rolling-back, rolled-back, failed */
  readonly phase: string;
  readonly stamp: string;
  /** The backup this swap restores (state files written before this was recorded have none). */
  readonly backupId?: string;
  readonly at: string;
  readonly message: string;
  /** The swap process is still alive. */
  readonly running: boolean;
}

export interface RestoreResult {
  readonly backupId: string;
  readonly stamp: string;
  /** The old database's new name, kept until the user confirms. */
  readonly keptAside: string;
  readonly phase: string;
  /** The server already held this backup (a rerun after the app or the connection was lost): nothing was sent again. */
  readonly adopted?: boolean;
}
