import { access, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SyncFailure, SyncStatus } from '../../../shared/sync.js';
import type { VaultBindRequest, VaultBinding, VaultConflict, VaultState } from '../../../shared/vault.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { VaultSync } from '../sync/engine.js';
import { createS3Client, parseS3Url } from '../sync/s3-client.js';
import type { SyncReport } from '../sync/types.js';
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
}

const IDLE: SyncStatus = { state: 'idle', toUpload: 0, toDownload: 0, conflicts: 0, errors: [] };

/** The one binding's engine and everything registered on it, released together. */
interface Running {
  binding: VaultBinding;
  sync: VaultSync;
  s3: S3Client;
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
  private running: Running | undefined;
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
      };
      const s3 = await this.connect(binding);
      await this.close();
      this.conflicts = [];
      try {
        await this.settings.update({ vaultBinding: binding });
      } catch (error) {
        s3.destroy();
        throw error;
      }
      this.broken = undefined;
      this.attach(binding, s3);
      return this.state();
    });
  }

  /** Stops syncing, forgets the binding and releases the engine. The folder and the bucket are left as they are. */
  unbind(): Promise<VaultState> {
    return this.serial(async () => {
      await this.close();
      this.broken = undefined;
      this.conflicts = [];
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

  private connect(binding: VaultBinding): Promise<S3Client> {
    return this.s3Client({
      ...(binding.profile ? { profile: binding.profile } : {}),
      ...(binding.region ? { region: binding.region } : {}),
    });
  }

  /** Builds the engine for a saved binding; when that fails the binding stays, shown with the error. */
  private async reopen(binding: VaultBinding): Promise<void> {
    if (this.running) return;
    try {
      this.attach(binding, await this.connect(binding));
      this.broken = undefined;
    } catch (error) {
      this.broken = { binding, error: { path: '', ...toErrorInfo(error) } };
      this.emit();
    }
  }

  private attach(binding: VaultBinding, s3: S3Client): void {
    const sync = new VaultSync({ vaultDir: binding.folder, remote: binding.remote, s3 });
    const running: Running = { binding, sync, s3, unsubscribe: [], watcher: undefined };
    this.running = running;
    running.unsubscribe.push(
      sync.on('status', () => this.emit()),
      sync.on('report', (report) => void this.onReport(running, report)),
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

  private async onReport(running: Running, report: SyncReport): Promise<void> {
    if (this.running !== running) return;
    for (const c of report.conflicts) {
      if (!this.conflicts.some((k) => k.path === c.path && k.conflictCopy === c.conflictCopy)) this.conflicts.push({ ...c });
    }
    await this.refreshConflicts();
  }

  /** Drops the conflicts the user has resolved, by deleting or renaming the kept remote copy. */
  private async refreshConflicts(): Promise<void> {
    const running = this.running;
    if (!running) return;
    const before = this.conflicts.length;
    const present = await Promise.all(this.conflicts.map((c) => access(join(running.binding.folder, c.conflictCopy)).then(() => true, () => false)));
    this.conflicts = this.conflicts.filter((_, i) => present[i]);
    if (this.conflicts.length !== before || before > 0) this.emit();
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
