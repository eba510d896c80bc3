import { access, lstat, realpath, rename, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SyncFailure, SyncStatus } from '../../../shared/sync.js';
import type { ConflictVersion, VaultBindRequest, VaultBinding, VaultConflict, VaultFile, VaultFiles, VaultState } from '../../../shared/vault.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { VaultSync } from '../sync/engine.js';
import { lockVault } from '../sync/lock.js';
import { createS3Client, parseS3Url } from '../sync/s3-client.js';
import { useSseKms } from '../sync/sse-kms.js';
import type { SkippedFile, SyncPlan, SyncReport } from '../sync/types.js';
import type { SyncWatcher, WatchOptions } from '../sync/watch.js';
import type { EventSink } from './services.js';
import type { SettingsStore } from './settings-store.js';

/** Builds the S3 client for a binding (the default reads the profile and the environment like the CLI does). */
export type S3ClientFactory = (opts: { profile?: string; region?: string }) => Promise<S3Client>;

export interface VaultSyncServiceOptions {
  settings: SettingsStore;
  events: EventSink;
  s3Client?: S3ClientFactory;
  watch?: WatchOptions;
  /**
   * Asks the person, outside the page, whether the deletions the mass-deletion guard held back may go ahead
   * (the app shows a native dialog with the guard's sentence). Without it, the panel's button is the consent.
   */
  confirmDeletions?: (message: string) => Promise<boolean>;
  /** The identity bar's profile: a binding without a profile of its own uses it, and follows it when it changes. */
  identityProfile?: () => Promise<string | null>;
  /** Moves a file to the OS trash (resolving a conflict); without it, conflicts cannot be resolved in the app. */
  trash?: (path: string) => Promise<void>;
}

/** The most files the panel is sent; `VaultFiles.total` counts the rest. Problems come first, so none is cut. */
export const MAX_LISTED_FILES = 500;

const IDLE: SyncStatus = { state: 'idle', toUpload: 0, toDownload: 0, conflicts: 0, errors: [] };

/** The one binding's engine and everything registered on it, released together. */
interface Running {
  binding: VaultBinding;
  sync: VaultSync;
  s3: S3Client;
  /** The profile its S3 client was made with (the binding's own, or the identity bar's then). */
  profileInUse: string | null;
  unsubscribe: (() => void)[];
  watcher: SyncWatcher | undefined;
}

/**
 * The vault panel's service: one folder bound to one S3 prefix, kept in sync by watch mode unless paused.
 *
 * The binding lives in the settings file, so it survives a restart (`start`). The service owns exactly one
 * `VaultSync` for it, forwards its status as `vault:status` with the conflicts still waiting for the user, and
 * releases the engine, its watcher and its S3 client on unbind and on `dispose` (quit).
 */
export class VaultSyncService {
  private readonly settings: SettingsStore;
  private readonly events: EventSink;
  private readonly s3Client: S3ClientFactory;
  private readonly watchOptions: WatchOptions;
  private readonly confirmDeletions: ((message: string) => Promise<boolean>) | undefined;
  private readonly identityProfile: () => Promise<string | null>;
  private readonly trash: ((path: string) => Promise<void>) | undefined;
  private running: Running | undefined;
  /** The files as of the last scan, by path. */
  private files: Map<string, VaultFile> | undefined;
  /** A saved binding whose engine could not be built (a profile that no longer exists): shown as an error. */
  private broken: { binding: VaultBinding; error: SyncFailure } | undefined;
  private conflicts: VaultConflict[] = [];
  /** Binding changes run one at a time, so a quick unbind after bind never leaves an engine behind. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: VaultSyncServiceOptions) {
    this.settings = opts.settings;
    this.events = opts.events;
    this.s3Client = opts.s3Client ?? ((o) => createS3Client(o));
    this.watchOptions = opts.watch ?? {};
    this.confirmDeletions = opts.confirmDeletions;
    this.identityProfile = opts.identityProfile ?? (async () => null);
    this.trash = opts.trash;
  }

  /** Resumes the binding saved in the settings, if any. */
  start(): Promise<VaultState> {
    return this.serial(async () => {
      const saved = (await this.settings.get()).vaultBinding;
      if (saved && !this.running) await this.reopen(saved);
      return this.state();
    });
  }

  current(): Promise<VaultState> {
    return Promise.resolve(this.state());
  }

  /** Binds `folder` to `remote`, replacing any previous binding, saves it, and starts watch mode. */
  bind(request: VaultBindRequest): Promise<VaultState> {
    return this.serial(async () => {
      const folder = resolve(request.folder);
      const isDir = await stat(folder).then((s) => s.isDirectory(), () => false);
      if (!isDir) {
        throw new KenvError('INPUT_NOT_FOUND', `The folder ${folder} does not exist. Choose an existing folder for the vault.`);
      }
      parseS3Url(request.remote);
      const binding: VaultBinding = {
        folder, remote: request.remote.trim(), profile: request.profile ?? null, region: request.region ?? null, paused: false,
        ...(request.sseKmsKeyId ? { sseKmsKeyId: request.sseKmsKeyId } : {}),
      };
      const { s3, profileInUse } = await this.connect(binding);
      // The first listing, before anything is saved: a bucket that does not exist, a listing S3 denies or a folder
      // that cannot be read is refused here with its reason, not bound to fail later.
      const sync = new VaultSync({ vaultDir: binding.folder, remote: binding.remote, s3 });
      let first: SyncReport;
      try {
        first = await sync.plan();
      } catch (error) {
        s3.destroy();
        const info = toErrorInfo(error);
        throw new KenvError(info.code, `The folder was not bound: ${info.message}`, { cause: error });
      }
      await this.close();
      this.conflicts = [];
      try {
        await this.settings.update({ vaultBinding: binding });
      } catch (error) {
        s3.destroy();
        throw error;
      }
      this.broken = undefined;
      this.files = filesOf(first, new Map());
      this.attach(binding, s3, profileInUse, sync);
      return this.state();
    });
  }

  /** Stops syncing, forgets the binding and releases the engine. The folder and the bucket are left as they are. */
  unbind(): Promise<VaultState> {
    return this.serial(async () => {
      await this.close();
      this.broken = undefined;
      this.conflicts = [];
      this.files = undefined;
      await this.settings.update({ vaultBinding: null });
      this.emit();
      return this.state();
    });
  }

  /** Runs one sync now (or joins the one running) and returns the state after it; failures are in the status. */
  async syncNow(): Promise<VaultState> {
    const broken = this.broken;
    if (broken) await this.serial(() => this.reopen(broken.binding));
    const running = this.requireBinding();
    await running.sync.sync().catch(() => undefined);
    await this.refreshConflicts();
    return this.state();
  }

  /**
   * After the mass-deletion guard stopped the last sync (SYNC_MASS_DELETE in the status), runs one sync that lets
   * the deletions through, once the person confirmed. Refused when nothing is held back, so a page cannot use it
   * to skip the guard in advance.
   */
  async allowDeletions(): Promise<VaultState> {
    const running = this.requireBinding();
    const held = running.sync.status.errors.find((e) => e.code === 'SYNC_MASS_DELETE');
    if (!held) throw new KenvError('NOT_ALLOWED', 'No deletions are held back: the last sync did not stop for them.');
    if (this.confirmDeletions && !(await this.confirmDeletions(held.message))) return this.state();
    await running.sync.sync({ maxDeletePercent: 100 }).catch(() => undefined);
    await this.refreshConflicts();
    return this.state();
  }

  /** Stops watch mode (a sync in progress finishes first); "Sync now" still works. */
  pause(): Promise<VaultState> {
    return this.serial(async () => {
      const running = this.requireBinding();
      await this.setPaused(running, true);
      const watcher = running.watcher;
      running.watcher = undefined;
      await watcher?.stop();
      this.emit();
      return this.state();
    });
  }

  resume(): Promise<VaultState> {
    return this.serial(async () => {
      const running = this.requireBinding();
      await this.setPaused(running, false);
      running.watcher ??= running.sync.watch(this.watchOptions);
      this.emit();
      return this.state();
    });
  }

  /**
   * The identity bar switched profile (or signed in again): a binding without a profile of its own reconnects
   * with the new one. A binding with its own profile keeps it.
   */
  followIdentity(): Promise<VaultState> {
    return this.serial(async () => {
      const running = this.running;
      const binding = running?.binding ?? this.broken?.binding;
      if (!binding || binding.profile !== null) return this.state();
      if (running && running.profileInUse === (await this.identityProfile())) return this.state();
      await this.close();
      await this.reopen(binding);
      return this.state();
    });
  }

  /**
   * The absolute path of `path` (relative to the bound folder, '' for the folder itself), after checking that it
   * stays inside the folder without following a link out of it. For *Reveal in folder*.
   */
  async locate(path: string): Promise<string> {
    const folder = this.requireBinding().binding.folder;
    return path === '' ? realpath(folder) : insideVault(folder, path);
  }

  /** Absolute paths of the plaintext files the last scan found in the folder (each checked to be inside it). */
  async plaintextFiles(): Promise<string[]> {
    const folder = this.requireBinding().binding.folder;
    const plain = [...(this.files?.values() ?? [])].filter((f) => f.state === 'plaintext').map((f) => f.path);
    const out: string[] = [];
    for (const path of plain) {
      const abs = await insideVault(folder, path).catch(() => undefined);
      if (abs !== undefined) out.push(abs);
    }
    return out;
  }

  /** The conflict whose local version is `path`, as the panel lists it; NOT_ALLOWED for anything else. */
  conflict(path: string): VaultConflict {
    this.requireBinding();
    const found = this.conflicts.find((c) => c.path === path);
    if (!found) throw new KenvError('NOT_ALLOWED', `${path} is not a conflict Kenv kept in the vault folder; nothing was changed.`);
    return { ...found };
  }

  /**
   * Keeps one version of a conflict: `this` keeps the file of this computer and moves the other version to the
   * trash; `other` moves this computer's file to the trash and puts the other version in its place. Holds the
   * vault's sync lock meanwhile, so no sync sees half of it; then syncs (unless paused) so the bucket follows.
   */
  async resolveConflict(path: string, keep: 'this' | 'other'): Promise<VaultState> {
    const running = this.requireBinding();
    const conflict = this.conflict(path);
    if (!this.trash) throw new KenvError('NOT_ALLOWED', 'This build cannot move files to the trash, so it cannot resolve conflicts.');
    const folder = running.binding.folder;
    const local = await insideVault(folder, conflict.path);
    const other = await insideVault(folder, conflict.conflictCopy);
    await syncIdle(running.sync);
    let unlock: () => Promise<void>;
    try {
      unlock = await lockVault(folder);
    } catch (error) {
      const info = toErrorInfo(error);
      throw new KenvError(info.code, `Nothing was changed: ${info.message} Try again when it has finished.`, { cause: error });
    }
    try {
      if (keep === 'this') {
        await this.trash(other);
      } else {
        await this.trash(local);
        await rename(other, local);
      }
    } finally {
      await unlock();
    }
    this.conflicts = this.conflicts.filter((c) => c.path !== conflict.path);
    this.files?.delete(conflict.conflictCopy);
    const kept = this.files?.get(conflict.path);
    if (kept) this.files?.set(conflict.path, { ...kept, state: 'upload', size: (await lstat(local).catch(() => undefined))?.size ?? kept.size });
    this.emit();
    this.afterChange(running);
    return this.state();
  }

  /** After files changed outside a sync (encrypted plaintext, a resolved conflict): sync, or when paused rescan. */
  refresh(): void {
    const running = this.running;
    if (running) this.afterChange(running);
  }

  /** Releases the engine without forgetting the binding (quitting the app). */
  dispose(): Promise<void> {
    return this.serial(() => this.close());
  }

  private state(): VaultState {
    if (!this.running && this.broken) {
      return { binding: { ...this.broken.binding }, status: { ...IDLE, state: 'error', errors: [{ ...this.broken.error }] }, conflicts: [] };
    }
    return {
      binding: this.running ? { ...this.running.binding } : null,
      status: this.running ? { ...this.running.sync.status, errors: [...this.running.sync.status.errors] } : { ...IDLE, errors: [] },
      conflicts: this.conflicts.map((c) => ({ ...c })),
      ...(this.running && this.files ? { files: listed(this.files, this.conflicts) } : {}),
      ...(this.running ? { profileInUse: this.running.profileInUse } : {}),
    };
  }

  private emit(): void {
    this.events.emit('vault:status', this.state());
  }

  private requireBinding(): Running {
    if (!this.running && this.broken) throw new KenvError(this.broken.error.code, this.broken.error.message);
    if (!this.running) throw new KenvError('INVALID_ARGUMENT', 'No vault folder is bound. Bind a folder to an S3 location first.');
    return this.running;
  }

  private async setPaused(running: Running, paused: boolean): Promise<void> {
    running.binding = { ...running.binding, paused };
    await this.settings.update({ vaultBinding: running.binding });
  }

  private async connect(binding: VaultBinding): Promise<{ s3: S3Client; profileInUse: string | null }> {
    const profileInUse = binding.profile ?? (await this.identityProfile());
    const s3 = await this.s3Client({
      ...(profileInUse ? { profile: profileInUse } : {}),
      ...(binding.region ? { region: binding.region } : {}),
    });
    if (binding.sseKmsKeyId) useSseKms(s3, binding.sseKmsKeyId);
    return { s3, profileInUse };
  }

  private afterChange(running: Running): void {
    if (this.running !== running) return;
    const work = running.binding.paused ? running.sync.plan() : running.sync.sync();
    void work.catch(() => undefined).then(() => this.refreshConflicts());
  }

  /** Builds the engine for a saved binding; when that fails the binding stays, shown with the error. */
  private async reopen(binding: VaultBinding): Promise<void> {
    if (this.running) return;
    try {
      const { s3, profileInUse } = await this.connect(binding);
      this.attach(binding, s3, profileInUse);
      this.broken = undefined;
    } catch (error) {
      this.broken = { binding, error: { path: '', ...toErrorInfo(error) } };
      this.emit();
    }
  }

  private attach(binding: VaultBinding, s3: S3Client, profileInUse: string | null, engine?: VaultSync): void {
    const sync = engine ?? new VaultSync({ vaultDir: binding.folder, remote: binding.remote, s3 });
    const running: Running = { binding, sync, s3, profileInUse, unsubscribe: [], watcher: undefined };
    this.running = running;
    running.unsubscribe.push(
      sync.on('status', () => this.emit()),
      sync.on('report', (report) => void this.onReport(running, report)),
      sync.on('plan', (plan) => this.onPlan(running, plan)),
      sync.on('progress', (progress) => {
        if (this.running === running) this.events.emit('vault:progress', { ...progress });
      }),
    );
    if (!binding.paused) running.watcher = sync.watch(this.watchOptions);
    this.emit();
  }

  private async close(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    await running.watcher?.stop();
    for (const off of running.unsubscribe) off();
    running.s3.destroy();
  }

  /** A sync is about to transfer: its files show as waiting until the report says how each went. */
  private onPlan(running: Running, plan: SyncPlan): void {
    if (this.running !== running || !this.files) return;
    for (const a of plan.upload) this.files.set(a.path, { path: a.path, state: 'upload', size: a.local.size });
    for (const a of plan.download) this.files.set(a.path, { path: a.path, state: 'download', size: a.remote.size });
    for (const a of plan.conflict) this.files.set(a.path, { path: a.path, state: 'conflict', size: a.local.size });
    this.emit();
  }

  private async onReport(running: Running, report: SyncReport): Promise<void> {
    if (this.running !== running) return;
    this.files = filesOf(report, this.files ?? new Map());
    for (const c of report.conflicts) {
      if (!this.conflicts.some((k) => k.path === c.path && k.conflictCopy === c.conflictCopy)) this.conflicts.push({ ...c });
    }
    await this.refreshConflicts();
    // The engine's last status went out before its report: the file list changed after it.
    if (this.running === running) this.emit();
  }

  /** Drops the conflicts the user has resolved, by deleting or renaming the kept remote copy. */
  private async refreshConflicts(): Promise<void> {
    const running = this.running;
    if (!running) return;
    const before = this.conflicts.length;
    const present = await Promise.all(this.conflicts.map((c) => access(join(running.binding.folder, c.conflictCopy)).then(() => true, () => false)));
    this.conflicts = this.conflicts.filter((_, i) => present[i]);
    // Both versions side by side: as each file is on disk now.
    this.conflicts = await Promise.all(this.conflicts.map(async (c) => ({
      ...c,
      local: await versionOf(join(running.binding.folder, c.path)),
      other: await versionOf(join(running.binding.folder, c.conflictCopy)),
    })));
    if (this.conflicts.length !== before || before > 0) this.emit();
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Size and time of a conflict's version, or undefined when it is not a plain file any more. */
async function versionOf(path: string): Promise<ConflictVersion | undefined> {
  const info = await lstat(path).catch(() => undefined);
  return info?.isFile() ? { size: info.size, modifiedAt: info.mtime.toISOString() } : undefined;
}

/**
 * The real path of `path` (vault-relative) inside `folder`: refused (NOT_ALLOWED) when it climbs out, is absolute,
 * or leads through a link out of the folder, and when it is not a plain file (a link, a folder).
 */
export async function insideVault(folder: string, path: string): Promise<string> {
  const refuse = () => new KenvError('NOT_ALLOWED', `${path} is not a file inside the vault folder; nothing was done.`);
  if (path === '' || isAbsolute(path) || /^[A-Za-z]:/.test(path) || path.split(/[\\/]/).some((part) => part === '..')) throw refuse();
  const root = await realpath(folder);
  const target = resolve(root, path);
  if (!target.startsWith(root + sep)) throw refuse();
  const parent = await realpath(dirname(target)).catch(() => undefined);
  if (parent === undefined) throw new KenvError('INPUT_NOT_FOUND', `${path} is no longer in the vault folder.`);
  if (parent !== root && !parent.startsWith(root + sep)) throw refuse();
  const real = join(parent, basename(target));
  const info = await lstat(real).catch(() => undefined);
  if (!info) throw new KenvError('INPUT_NOT_FOUND', `${path} is no longer in the vault folder.`);
  if (!info.isFile()) throw refuse();
  return real;
}

/** Waits until no sync of `sync` is scanning or transferring. */
function syncIdle(sync: VaultSync): Promise<void> {
  const busy = (state: string) => state === 'scanning' || state === 'syncing';
  if (!busy(sync.status.state)) return Promise.resolve();
  return new Promise((resolve) => {
    const off = sync.on('status', (status) => {
      if (busy(status.state)) return;
      off();
      resolve();
    });
  });
}

const SKIP_REASONS: Record<SkippedFile['reason'], string> = {
  'not-kenv': 'not a .kenv file',
  'invalid-kenv': 'named .kenv but not a valid .kenv file',
  'unsafe-remote-key': 'its name on S3 is unsafe here',
  'arrival-kenv-exists': 'a .kenv of that name exists already',
  'unsafe-name': 'its name cannot be carried to other systems',
  symlink: 'a link (never followed)',
  'not-a-file': 'not a regular file',
  'local-name-taken': 'its name is taken here by something sync does not manage',
  'invalid-remote-kenv': 'the object on S3 is not a valid .kenv file',
};

/** The files a sync (or a dry run) saw, each with its state, carrying over what the report does not mention. */
function filesOf(report: SyncReport, previous: Map<string, VaultFile>): Map<string, VaultFile> {
  const files = new Map<string, VaultFile>();
  const set = (path: string, state: VaultFile['state'], size: number | null, detail?: string) => files.set(path, { path, state, size, ...(detail ? { detail } : {}) });
  const { plan } = report;
  for (const u of plan.unchanged) set(u.path, 'synced', u.entry.size);
  const uploaded = new Set(report.uploaded);
  const downloaded = new Set(report.downloaded);
  for (const a of plan.upload) set(a.path, uploaded.has(a.path) ? 'synced' : 'upload', a.local.size);
  for (const a of plan.download) set(a.path, downloaded.has(a.path) ? 'synced' : 'download', a.remote.size);
  for (const a of plan.conflict) set(a.path, 'conflict', a.local.size);
  for (const c of report.conflicts) set(c.conflictCopy, 'conflict', previous.get(c.conflictCopy)?.size ?? null);
  for (const k of report.skipped) {
    if (k.reason === 'not-kenv') set(k.path, 'plaintext', null, 'not encrypted: never uploaded');
    else set(k.path, 'skipped', null, k.detail ? `${SKIP_REASONS[k.reason]}: ${k.detail}` : SKIP_REASONS[k.reason]);
  }
  for (const f of report.failed) if (f.path) set(f.path, 'failed', files.get(f.path)?.size ?? previous.get(f.path)?.size ?? null, f.message);
  return files;
}

const ORDER: VaultFile['state'][] = ['conflict', 'failed', 'plaintext', 'upload', 'download', 'skipped', 'synced'];

/** The panel's list: conflicts of the service first, then problems, pending, and the synced files, by path. */
function listed(files: Map<string, VaultFile>, conflicts: VaultConflict[]): VaultFiles {
  const all = new Map(files);
  for (const c of conflicts) {
    for (const path of [c.path, c.conflictCopy]) all.set(path, { path, state: 'conflict', size: (path === c.path ? c.local : c.other)?.size ?? all.get(path)?.size ?? null });
  }
  const sorted = [...all.values()].sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || a.path.localeCompare(b.path));
  return { files: sorted.slice(0, MAX_LISTED_FILES).map((f) => ({ ...f })), total: sorted.length };
}
