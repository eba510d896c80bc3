/**
 * Vault sync shapes that cross IPC: what the engine reports and the UI shows. Plain types, no Node.
 */
import type { ErrorCode } from './errors.js';

/** One file (or, with an empty path, the whole sync) that failed, with a code the UI can act on. */
export interface SyncFailure {
  path: string;
  code: ErrorCode;
  message: string;
}

export type SyncActionKind = 'upload' | 'download' | 'deleteLocal' | 'deleteRemote' | 'conflict';

export type SyncState = 'idle' | 'scanning' | 'syncing' | 'error';

/** What the UI and the CLI show: the engine emits it on every change. */
export interface SyncStatus {
  state: SyncState;
  toUpload: number;
  toDownload: number;
  conflicts: number;
  errors: SyncFailure[];
  /** ISO time of the last sync that finished without failures. */
  lastSyncAt?: string;
  /** Set when the S3 endpoint ignores conditional writes Kenv relies on: what that means and what to do. */
  endpointWarning?: string;
}

/** A finished action of a running sync. */
export interface SyncProgress {
  kind: SyncActionKind;
  path: string;
  bytesDone: number;
  bytesTotal: number;
  done: boolean;
}
