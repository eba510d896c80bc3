/**
 * The vault panel's shapes: which folder is bound to which S3 prefix, and what the sync of that binding is doing.
 * Plain TS and zod, no Node: both the IPC contract and the renderer import it.
 */
import { z } from 'zod';
import type { SyncStatus } from './sync.js';

/** S3 bucket names: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const S3_URL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/[^\0]*)?$/;

/** `s3://bucket/prefix`, as the engine's `parseS3Url` reads it. */
export const S3Remote = z.string().trim().max(1100).regex(S3_URL, 'Write the S3 location as s3://bucket/prefix.');

/** What `vault:bind` asks for: a local folder and the S3 prefix it syncs with, optionally as a profile in a Region. */
export const VaultBindRequest = z.object({
  folder: z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'A path may not contain NUL.'),
  remote: S3Remote,
  profile: z.string().trim().min(1).max(256).optional(),
  region: z.string().trim().regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'Write the Region like eu-west-1.').optional(),
}).strict();
export type VaultBindRequest = z.infer<typeof VaultBindRequest>;

/** The persisted binding (in the settings file): the request plus whether watch mode is paused. */
export const VaultBinding = z.object({
  folder: VaultBindRequest.shape.folder,
  remote: S3Remote,
  profile: z.string().min(1).max(256).nullable(),
  region: z.string().min(1).max(64).nullable(),
  paused: z.boolean(),
}).strict();
export type VaultBinding = z.infer<typeof VaultBinding>;

/** A conflict the engine resolved by keeping both versions: `path` is the local one, `conflictCopy` the remote one. */
export interface VaultConflict {
  path: string;
  conflictCopy: string;
}

/** What the vault panel shows; `vault:get` returns it and `vault:status` sends it on every change. */
export interface VaultState {
  binding: VaultBinding | null;
  /** The engine's status: state, counts to upload and download, errors, last sync time. */
  status: SyncStatus;
  /** Conflicts whose remote copy is still in the folder: the user decides which version to keep. */
  conflicts: VaultConflict[];
}
