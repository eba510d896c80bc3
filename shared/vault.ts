/**
 * The vault panel's shapes: which folder is bound to which S3 prefix, and what the sync of that binding is doing.
 * Plain TS and zod, no Node: both the IPC contract and the renderer import it.
 */
import { z } from 'zod';
import { s3LocationProblem } from './s3-location.js';
import type { SyncStatus } from './sync.js';

export { s3LocationProblem } from './s3-location.js';

/** S3 bucket names: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const S3_URL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/[^\0]*)?$/;

/** `s3://bucket/prefix`, as the engine's `parseS3Url` reads it (the form a saved binding is read back in). */
const SavedS3Remote = z.string().trim().max(1100).regex(S3_URL, 'Write the S3 location as s3://bucket/prefix.');

/** `s3://bucket/prefix` with a bucket name S3 accepts: what a new binding must name. */
export const S3Remote = SavedS3Remote
  .superRefine((url, ctx) => {
    const problem = s3LocationProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A KMS key for SSE-KMS: key id, key ARN, alias name or alias ARN (as `kenv sync --sse-kms-key` takes). */
export const SseKmsKey = z.string().trim().max(2048).regex(
  /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|(?:mrk-)?[0-9a-f-]{32,36})$/i,
  'Name the KMS key for server-side encryption by alias (alias/name), key id or ARN.',
);

/** What `vault:bind` asks for: a local folder and the S3 prefix it syncs with, optionally as a profile in a Region. */
export const VaultBindRequest = z.object({
  folder: z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'A path may not contain NUL.'),
  remote: S3Remote,
  profile: z.string().trim().min(1).max(256).optional(),
  region: z.string().trim().regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'Write the Region like eu-west-1.').optional(),
  /** Upload with SSE-KMS under this key as well (ciphertext of ciphertext in the bucket). */
  sseKmsKeyId: SseKmsKey.optional(),
}).strict();
export type VaultBindRequest = z.infer<typeof VaultBindRequest>;

/** The persisted binding (in the settings file): the request plus whether watch mode is paused. */
export const VaultBinding = z.object({
  folder: VaultBindRequest.shape.folder,
  remote: SavedS3Remote,
  profile: z.string().min(1).max(256).nullable(),
  region: z.string().min(1).max(64).nullable(),
  paused: z.boolean(),
  /** SSE-KMS key for uploads; absent or null: the bucket's default encryption. */
  sseKmsKeyId: z.string().min(1).max(2048).nullable().optional(),
}).strict();
export type VaultBinding = z.infer<typeof VaultBinding>;

/** One side of a conflict as it is on disk now. */
export interface ConflictVersion {
  size: number;
  /** When the file was last written on this computer (for the other version: when it arrived). */
  modifiedAt: string;
}

/** A conflict the engine resolved by keeping both versions: `path` is the local one, `conflictCopy` the remote one. */
export interface VaultConflict {
  path: string;
  conflictCopy: string;
  /** Both versions side by side (absent when a file could not be read). */
  local?: ConflictVersion | undefined;
  other?: ConflictVersion | undefined;
}

/**
 * A file of the vault folder (or of the bucket) as the panel lists it.
 *
 * `synced`: the same on both sides. `upload` / `download`: waiting for (or in) the next sync. `conflict`: one of the
 * two versions a conflict kept. `plaintext`: not a .kenv, so never uploaded (*Encrypt them*). `skipped`: left alone
 * for another reason (`detail` says which). `failed`: the last sync could not handle it (`detail`).
 */
export type VaultFileState = 'synced' | 'upload' | 'download' | 'conflict' | 'plaintext' | 'skipped' | 'failed';

export interface VaultFile {
  path: string;
  state: VaultFileState;
  size: number | null;
  detail?: string | undefined;
}

/** The vault's files, problems first; `total` counts them all when the list is cut at the first few hundred. */
export interface VaultFiles {
  files: VaultFile[];
  total: number;
}

/** What the vault panel shows; `vault:get` returns it and `vault:status` sends it on every change. */
export interface VaultState {
  binding: VaultBinding | null;
  /** The engine's status: state, counts to upload and download, errors, last sync time. */
  status: SyncStatus;
  /** Conflicts whose remote copy is still in the folder: the user decides which version to keep. */
  conflicts: VaultConflict[];
  /** The files as of the last scan (a sync, or the listing before binding); absent before the first. */
  files?: VaultFiles | undefined;
  /** The AWS profile the binding uses now: its own, or the identity bar's when it has none. */
  profileInUse?: string | null | undefined;
}
