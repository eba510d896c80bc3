/**
 * The IPC contract between the renderer and the Node side.
 *
 * One map of channel → request schema (zod) and response type. Every call returns a `Result<T>`: nothing is thrown
 * across `invoke`, because Electron keeps only an error's `message`. The same map serves Electron's ipcMain wrapper
 * and the WebSocket bridge the end-to-end tests use, so both validate exactly the same payloads.
 */
import { z } from 'zod';
import type { ErrorInfo, Result } from './errors.js';
import { EVENT_NAMES } from './ipc-names.js';
import type { SyncProgress } from './sync.js';
import { VaultBinding, VaultBindRequest, type VaultState } from './vault.js';

const filePath = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'A path may not contain NUL.');
const keyId = z.string().min(1).max(2048);
const contextPairs = z.array(z.object({ key: z.string().min(1).max(256), value: z.string().max(4096) }).strict()).max(64);
const empty = z.object({}).strict();
/** A path inside the bound vault folder, '/'-separated, relative to it ('' is the folder itself). */
const vaultPath = z.string().max(4096).refine((p) => !p.includes('\0'), 'A path may not contain NUL.');

export const Direction = z.enum(['encrypt', 'decrypt']);
export type Direction = z.infer<typeof Direction>;

export const OutputLocation = z.enum(['next-to-file', 'vault-folder', 'ask']);
export type OutputLocation = z.infer<typeof OutputLocation>;

/** Everything the settings screen edits, persisted in the user-data folder. */
export const Settings = z.object({
  outputLocation: OutputLocation,
  vaultFolder: filePath.nullable(),
  deletePlaintextAfterEncrypt: z.boolean(),
  context: contextPairs,
  cache: z.object({
    maxAgeSeconds: z.number().int().min(0).max(86_400),
    maxMessages: z.number().int().min(0).max(1_000_000),
    maxBytes: z.number().int().min(0).max(2 ** 50),
  }).strict(),
  defaultKeyIds: z.array(keyId).max(16),
  lastKeyId: keyId.nullable(),
  /** Put a random kenv:file-id audit id in each new file's encryption context (absent: on). */
  fileId: z.boolean().optional(),
  /** The vault folder bound to an S3 prefix (the vault panel); absent when none is bound. */
  vaultBinding: VaultBinding.nullable().optional(),
  /** Files with more encrypted data keys are refused before any KMS call (the ESDK's maximum; 65535: no limit). */
  maxDataKeys: z.number().int().min(1).max(65_535),
  /** Accounts besides the identity's own whose KMS keys decrypting may call (the ESDK discovery filter). */
  trustedAccounts: z.array(z.string().regex(/^\d{12}$/)).max(100).optional(),
}).strict();
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = {
  outputLocation: 'next-to-file',
  vaultFolder: null,
  deletePlaintextAfterEncrypt: false,
  context: [],
  cache: { maxAgeSeconds: 300, maxMessages: 1000, maxBytes: 2 ** 32 },
  defaultKeyIds: [],
  lastKeyId: null,
  maxDataKeys: 10,
};

/** Who the app acts as. `status` drives the identity panel and the expired-session banner. */
export interface Identity {
  profile: string | null;
  profiles: { name: string; sso: boolean }[];
  region: string | null;
  account: string | null;
  arn: string | null;
  role: string | null;
  sso: boolean;
  status: 'signed-in' | 'expired' | 'no-credentials' | 'error';
  error: ErrorInfo | null;
}

/** One KMS key the identity can use, as the key picker shows it. */
export interface KeySummary {
  keyId: string;
  arn: string;
  aliases: string[];
  description: string;
  enabled: boolean;
  region: string;
  /** RSA_2048/3072/4096 for an RSA key: not picked to encrypt, offered "for people without AWS" (recipient file). */
  keySpec?: string;
}

/** A dropped or chosen file once folders are expanded: what the app will do with it. */
export interface PlannedFile {
  path: string;
  name: string;
  size: number;
  direction: Direction;
}

/** What a `.kenv` file says about itself (its header only; no KMS call). */
export interface FileDetails {
  path: string;
  name: string;
  size: number;
  suiteId: number;
  suiteName: string;
  signed: boolean;
  messageId: string;
  encryptionContext: Record<string, string>;
  keys: { providerId: string; keyArn?: string | undefined; keyName?: string | undefined }[];
  frameLength: number;
}

/** Whether this identity can open a .kenv file, found out before decrypting (KMS Decrypt with DryRun; no key returned). */
export interface OpenCheck {
  canOpen: boolean;
  /** Each data key tried, in order, until one would open. */
  keys: { key: string; ok: boolean; code?: string | undefined; reason?: string | undefined }[];
}

/** One file of a vault check (`vault:verify`): authenticated end to end without writing plaintext, or why not. */
export interface VerifiedFile {
  path: string;
  ok: boolean;
  error: ErrorInfo | null;
}

/** A recipient file (an RSA KMS key's public key) as the app shows it before encrypting for it. */
export interface RecipientInfo {
  /** The recipient file (granted: chosen in the dialog or dropped). */
  path: string;
  name: string;
  keyArn: string;
  algorithm: 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1';
  /** The RSA modulus length. */
  keyBits: number;
}

/** A .kenv opened for viewing or editing: its plaintext lives in a private temporary folder until closed. */
export interface PrivateFile {
  id: string;
  kenvPath: string;
  name: string;
  plainPath: string;
  /** The plaintext changed since it was opened or last re-encrypted. */
  edited: boolean;
  /** The original names KMS keys, so it can be re-encrypted in place. */
  canReencrypt: boolean;
  /** Set on the last event of a file: it was closed and its folder wiped. */
  closed?: boolean;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** One file's encrypt or decrypt, as the job list shows it. Sent whole on every change. */
export interface Job {
  id: string;
  batchId: string;
  path: string;
  name: string;
  direction: Direction;
  state: JobState;
  bytesDone: number;
  bytesTotal: number | null;
  outputPath: string | null;
  /** The size of what was written (the .kenv, or the decrypted file), once done. */
  outputBytes: number | null;
  /** The KMS keys an encrypt used, primary first (empty for a decrypt). */
  keyIds: string[];
  error: ErrorInfo | null;
  /** A passing condition while running, e.g. "KMS is throttling; retrying in 4 s"; cleared when bytes move again. */
  notice?: string | null;
  /** The plaintext input was deleted after a verified encrypt (the setting). */
  inputDeleted: boolean;
  /** Grows with every change, so a late snapshot never overwrites a newer one. */
  revision: number;
}

/** Channel → request schema. Channel names are namespaced by service. */
export const requestSchemas = {
  'app:takeOpenedFiles': empty,
  'identity:get': empty,
  'identity:useProfile': z.object({ profile: z.string().min(1).max(256) }).strict(),
  'identity:signIn': empty,
  'keys:list': empty,
  'keys:exportRecipient': z.object({ keyArn: keyId }).strict(),
  'files:plan': z.object({ paths: z.array(filePath).min(1).max(10_000) }).strict(),
  'files:inspect': z.object({ path: filePath }).strict(),
  'jobs:start': z.object({
    files: z.array(z.object({ path: filePath, direction: Direction }).strict()).min(1).max(10_000),
    keyIds: z.array(keyId).max(16),
    outDir: filePath.nullable(),
  }).strict(),
  'jobs:cancel': z.union([z.object({ jobId: z.string().min(1).max(64) }).strict(), z.object({ batchId: z.string().min(1).max(64) }).strict()]),
  // After OUTPUT_EXISTS: replace (native confirmation), keep both (a free name picked in the main process), or save
  // into a folder chosen in the dialog. None takes a path from the page.
  'jobs:retry': z.object({ jobId: z.string().min(1).max(64), replace: z.boolean().optional(), keepBoth: z.boolean().optional(), chooseFolder: z.boolean().optional() }).strict(),
  'jobs:clearFinished': empty,
  'jobs:list': empty,
  'private:open': z.object({ path: filePath }).strict(),
  'private:reencrypt': z.object({ id: z.string().min(1).max(64) }).strict(),
  'private:close': z.object({ id: z.string().min(1).max(64) }).strict(),
  'private:list': empty,
  'shell:showInFolder': z.object({ path: filePath }).strict(),
  'shell:openPath': z.object({ path: filePath }).strict(),
  'dialog:chooseFiles': empty,
  'dialog:chooseFolder': empty,
  'settings:get': empty,
  'settings:update': Settings.partial().strict(),
  // The vault panel (issue 5): one folder bound to one S3 prefix.
  'vault:get': empty,
  'vault:bind': VaultBindRequest,
  'vault:unbind': empty,
  'vault:syncNow': empty,
  'vault:pause': empty,
  'vault:resume': empty,
  // After the mass-deletion guard stopped a sync: run it once with the deletions allowed.
  'vault:allowDeletions': empty,
  'files:canOpen': z.object({ path: filePath }).strict(),
  'vault:verify': empty,
  // The vault as a place (issue 14): paths are relative to the bound folder and checked against it in the main process.
  'vault:reveal': z.object({ path: vaultPath }).strict(),
  'vault:resolveConflict': z.object({ path: vaultPath.min(1), keep: z.enum(['this', 'other']) }).strict(),
  'vault:encryptPlaintext': z.object({ keyIds: z.array(keyId).min(1).max(16) }).strict(),
  // Encrypt for a recipient (issue 12): offline, with an RSA KMS key's public key; no sign-in, no KMS call.
  'recipient:choose': empty,
  'recipient:inspect': z.object({ path: filePath }).strict(),
  'recipient:encrypt': z.object({ recipient: filePath, paths: z.array(filePath).min(1).max(10_000), outDir: filePath.nullable() }).strict(),
} as const;

export type Channel = keyof typeof requestSchemas;
export const CHANNELS = Object.keys(requestSchemas) as Channel[];

/** Channel → the value of a successful result. */
export interface ResponseMap {
  'app:takeOpenedFiles': string[];
  'identity:get': Identity;
  'identity:useProfile': Identity;
  'identity:signIn': Identity;
  'keys:list': KeySummary[];
  /** The saved recipient file, or null when the save dialog was cancelled. */
  'keys:exportRecipient': { path: string } | null;
  'files:plan': PlannedFile[];
  'files:inspect': FileDetails;
  'jobs:start': Job[];
  'jobs:cancel': null;
  'jobs:retry': Job;
  'jobs:clearFinished': Job[];
  'jobs:list': Job[];
  'private:open': PrivateFile;
  'private:reencrypt': PrivateFile;
  'private:close': null;
  'private:list': PrivateFile[];
  'shell:showInFolder': null;
  'shell:openPath': null;
  'dialog:chooseFiles': string[];
  'dialog:chooseFolder': string | null;
  'settings:get': Settings;
  'settings:update': Settings;
  // The vault panel (issue 5).
  'vault:get': VaultState;
  'vault:bind': VaultState;
  'vault:unbind': VaultState;
  'vault:syncNow': VaultState;
  'vault:pause': VaultState;
  'vault:resume': VaultState;
  'vault:allowDeletions': VaultState;
  'files:canOpen': OpenCheck;
  'vault:verify': VerifiedFile[];
  'vault:reveal': null;
  'vault:resolveConflict': VaultState;
  /** The encrypt jobs started (none when the confirmation was declined). */
  'vault:encryptPlaintext': Job[];
  /** null when the dialog was cancelled. */
  'recipient:choose': RecipientInfo | null;
  'recipient:inspect': RecipientInfo;
  'recipient:encrypt': Job[];
}

export type Request<C extends Channel> = z.input<(typeof requestSchemas)[C]>;
export type ParsedRequest<C extends Channel> = z.output<(typeof requestSchemas)[C]>;
export type Response<C extends Channel> = ResponseMap[C];

/** Events from the Node side to the renderer. */
export interface EventMap {
  'jobs:changed': Job;
  /** Files the OS asked the app to open (double-click, "Open with", a second launch). */
  'files:opened': string[];
  'identity:changed': Identity;
  /** A privately opened file was edited, re-encrypted or closed. */
  'private:changed': PrivateFile;
  /** The vault panel (issue 5): the binding, its sync status, pending counts and conflicts, on every change. */
  'vault:status': VaultState;
  /** A file the running sync is uploading or downloading: bytes so far; `done` on its last event. */
  'vault:progress': SyncProgress;
}
export type EventName = keyof EventMap;
/** The one IPC channel Electron uses for calls (the contract's channel travels inside) and the one for events. */
export { EVENT_NAMES, IPC_DROP, IPC_EVENT, IPC_INVOKE } from './ipc-names.js';

/** What the preload (or the test bridge) puts on `window.kenv`. */
export interface KenvApi {
  invoke<C extends Channel>(channel: C, request: Request<C>): Promise<Result<Response<C>>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
  /**
   * Hands dropped `File`s to the main process, which grants their paths for this session; resolves to those paths.
   *
   * The preload takes each path from `webUtils.getPathForFile`, so only files the user really dropped (or picked in a
   * file input) count: a `File` the page builds itself has no path and is skipped.
   */
  dropFiles(files: File[]): Promise<Result<string[]>>;
}

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value);
}
