/** The shapes the sync engine works with. Paths are vault-relative, '/'-separated, and end in `.kenv`. */
import type { SyncFailure, SyncProgress, SyncStatus } from '../../../shared/sync.js';
import type { EndpointTraits } from './endpoint-probe.js';

export type { SyncActionKind, SyncFailure, SyncProgress, SyncState, SyncStatus } from '../../../shared/sync.js';

/** A `.kenv` file in the vault folder, as scanned. */
export interface LocalFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** SHA-256 (hex) of the file's bytes: the ciphertext. */
  sha256: string;
  /**
   * Modified so shortly before the scan looked at it that its size and time cannot vouch for a later write (see
   * `racyWindowMs`): the index records it with SMUDGED_MTIME, so that the next scan reads it again.
   */
  racy?: true;
}

/**
 * The modification time an index entry holds when its size and time must not be trusted: no file has it, so the next
 * scan reads the file and compares its SHA-256 (the same bytes are then recorded with their real time).
 */
export const SMUDGED_MTIME = -1;

/** The modification time the index records for a scanned file (see `LocalFile.racy`). */
export function recordedMtime(local: LocalFile): number {
  return local.racy ? SMUDGED_MTIME : local.mtimeMs;
}

/** An object under the vault's prefix, as listed. */
export interface RemoteObject {
  path: string;
  size: number;
  /** Without quotes. */
  etag: string;
  /** From the object's `kenv-sha256` metadata, when it was fetched (listings do not carry metadata). */
  sha256?: string;
}

/** What both sides held after the last sync that touched this path. */
export interface IndexEntry {
  path: string;
  size: number;
  mtimeMs: number;
  etag: string;
  sha256: string;
}

/** A multipart upload in flight, kept so that a restarted sync resumes it instead of starting over. */
export interface PendingUpload {
  path: string;
  key: string;
  uploadId: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  partSize: number;
  /**
   * The checksum its parts carry, declared when the upload was created (S3 refuses a part whose checksum the upload
   * did not declare, and a completion that leaves out a declared part checksum). Absent in uploads recorded before
   * Kenv declared one: those are started again rather than resumed.
   */
  checksum?: 'CRC32';
}

/** `<vault>/.kenv-sync/index.json`. */
export interface SyncIndex {
  version: 1;
  /** The `s3://bucket/prefix` this index describes; an index for another remote is ignored. */
  remote: string;
  entries: Record<string, IndexEntry>;
  uploads: Record<string, PendingUpload>;
  /** What the endpoint enforces, probed on the first sync (see endpoint-probe.ts). */
  endpoint?: EndpointTraits;
  /** Objects found not to be valid .kenv messages, by path: the ETag they had. Not fetched again until it changes. */
  rejected?: Record<string, string>;
}

export interface UploadAction {
  path: string;
  local: LocalFile;
  /** The ETag the remote object must still have (`If-Match`); absent: it must not exist (`If-None-Match: *`). */
  ifMatch?: string;
}

export interface DownloadAction {
  path: string;
  remote: RemoteObject;
  /** The local file the download replaces; absent: no local file is expected at `path`. */
  replaces?: LocalFile;
}

export interface ConflictAction {
  path: string;
  local: LocalFile;
  remote: RemoteObject;
}

/** What one sync will do, decided from the local scan, the remote listing and the index alone. */
export interface SyncPlan {
  upload: UploadAction[];
  download: DownloadAction[];
  /** Moved to `.kenv-trash/`, never unlinked. */
  deleteLocal: { path: string; local: LocalFile }[];
  deleteRemote: { path: string; remote: RemoteObject }[];
  /** Both sides changed: the remote version lands next to the local one, and both are kept on both sides. */
  conflict: ConflictAction[];
  /** In sync; `entry` is what the index records (it may refresh a touched mtime or adopt identical files). */
  unchanged: { path: string; entry: IndexEntry }[];
  /** Gone on both sides: dropped from the index. */
  forget: string[];
}

/** A file in the vault folder (or an object under the prefix) that sync leaves alone. */
export interface SkippedFile {
  path: string;
  /**
   * `arrival-kenv-exists`: encrypt on arrival left a plaintext alone because `name.kenv` exists already.
   * `unsafe-name`: a local name the remote side could not carry back (see `vaultNameProblem`), never uploaded.
   * `symlink` / `not-a-file`: never uploaded nor followed. `local-name-taken`: a remote object whose local name
   * (or a folder on its way) is held by something sync does not manage; nothing is written there.
   * `invalid-remote-kenv`: an object that is not a valid .kenv message; not placed in the vault, left on S3.
   */
  reason:
    | 'not-kenv'
    | 'invalid-kenv'
    | 'unsafe-remote-key'
    | 'arrival-kenv-exists'
    | 'unsafe-name'
    | 'symlink'
    | 'not-a-file'
    | 'local-name-taken'
    | 'invalid-remote-kenv';
  /** Why, when the reason alone does not say (which rule a name breaks, what holds a name). */
  detail?: string;
}

export interface SyncReport {
  dryRun: boolean;
  plan: SyncPlan;
  uploaded: string[];
  downloaded: string[];
  deletedLocal: string[];
  deletedRemote: string[];
  /** Each conflict: the path, and where the remote version was kept. */
  conflicts: { path: string; conflictCopy: string }[];
  unchanged: number;
  skipped: SkippedFile[];
  /** Plaintext files encrypted on arrival: each now sits in `.kenv-trash/`, its verified `.kenv` beside where it was. */
  encrypted: { path: string; kenvPath: string }[];
  failed: SyncFailure[];
  bytesUploaded: number;
  bytesDownloaded: number;
}

/** The engine's events, for `VaultSync.on`. */
export interface SyncEventMap {
  status: [SyncStatus];
  plan: [SyncPlan];
  progress: [SyncProgress];
  failure: [SyncFailure];
  report: [SyncReport];
}
