import { EventEmitter, getMaxListeners, setMaxListeners } from 'node:events';
import { lstat, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { KenvError, toErrorInfo } from '../errors.js';
import type { ArrivalResult, EncryptOnArrival } from './arrival.js';
import { endpointWarning, probeEndpoint } from './endpoint-probe.js';
import { SYNC_DIR, indexPath, readIndex, writeFileAtomic } from './index-store.js';
import { inspectFile } from '../inspect.js';
import { lockVault } from './lock.js';
import { pathsNeedingRemoteHash, planSync } from './plan.js';
import { ByteBudget, forEachLimit } from './pool.js';
import { LIST_RANGES, headRemote, listRemote, toSyncError } from './remote.js';
import { parseS3Url } from './s3-client.js';
import { foldName } from './names.js';
import { isLocalNameTaken, scanVault, type ScanResult } from './scan.js';
import {
  PART_MEMORY_BUDGET,
  abortUpload,
  deleteRemote,
  downloadObject,
  headCurrent,
  taggedPath,
  trashLocal,
  uploadFile,
  type TransferContext,
} from './transfer.js';
import {
  SMUDGED_MTIME,
  type IndexEntry,
  type RemoteObject,
  type SyncActionKind,
  type SyncEventMap,
  type SyncFailure,
  type SyncIndex,
  type SkippedFile,
  type SyncPlan,
  type SyncReport,
  type SyncStatus,
} from './types.js';
import { watchVault, type SyncWatcher, type WatchOptions } from './watch.js';

export interface VaultSyncOptions {
  /** The vault folder. */
  vaultDir: string;
  /** `s3://bucket/prefix`. */
  remote: string;
  s3: S3Client;
  /**
   * Files transferred at once (default 10, as `aws s3`); also the parts of one large file in flight at once (all
   * part buffers of a sync share PART_MEMORY_BUDGET), and the files encrypted on arrival at once (default 4).
   */
  concurrency?: number;
  /**
   * Decides whether a `.kenv` file is a valid message that may be uploaded or placed in the vault (default: its
   * header parses, checked on the bytes the scan reads anyway).
   */
  isKenv?: (absolutePath: string) => Promise<boolean>;
  /**
   * Encrypt on arrival: plaintext files placed in the vault are encrypted with these keys to `name.kenv`, which
   * is verified by decrypting it, then the plaintext is moved to `.kenv-trash/` and the `.kenv` synced. Off by
   * default (plaintext is skipped). Dry runs encrypt nothing.
   */
  encryptOnArrival?: EncryptOnArrival;
  /**
   * The mass-deletion guard: a sync that would delete more than this percentage of one side's files (and more
   * than 5 of them), because they disappeared from the other side, stops before changing anything with
   * SYNC_MASS_DELETE. Default 50; 100 lets every deletion through (rclone bisync's `--max-delete`).
   */
  maxDeletePercent?: number;
  now?: () => Date;
}

/** A remote object whose name is one file with `owner` on macOS and Windows (see `caseTwins`). */
interface CaseTwin {
  path: string;
  owner: string;
  remote: RemoteObject;
}

/** The mass-deletion guard's default percentage, and the count it never stops at or under. */
export const DEFAULT_MAX_DELETE_PERCENT = 50;
const MASS_DELETE_FLOOR = 5;

/**
 * Does the plan delete too much of one side? Counts deletions on each side against the files that side holds
 * now: remote deletions followed locally against the vault's files, local deletions followed on S3 against the
 * objects under the prefix. Undefined when the plan may run.
 */
export function massDeletion(
  plan: SyncPlan,
  localCount: number,
  remoteCount: number,
  maxDeletePercent: number,
): { side: 'local' | 'remote'; count: number; of: number } | undefined {
  for (const [side, count, of] of [
    ['local', plan.deleteLocal.length, localCount],
    ['remote', plan.deleteRemote.length, remoteCount],
  ] as const) {
    if (count > MASS_DELETE_FLOOR && count * 100 > maxDeletePercent * of) return { side, count, of };
  }
  return undefined;
}

/** Does the file's header parse as a Kenv message? Only those are ever uploaded: plaintext never leaves. */
async function isKenvMessage(path: string): Promise<boolean> {
  try {
    await inspectFile(path);
    return true;
  } catch {
    return false;
  }
}

/** Transfers in flight at once by default: `aws s3`'s max_concurrent_requests. Small files are latency-bound. */
export const DEFAULT_SYNC_CONCURRENCY = 10;

/** HEAD requests at once when the plan needs the SHA-256 of objects the index does not know. */
const HASH_LOOKUPS = 8;
/** Plaintext files encrypted on arrival at once by default (each one a KMS call). */
const DEFAULT_ARRIVAL_CONCURRENCY = 4;

/** How often the index is written during a long sync (besides at the end and when a multipart upload starts). */
const INDEX_SAVE_EVERY = 500;
const PROGRESS_STEP = 8 * 1024 * 1024;

/**
 * Two-way sync of one vault folder with one S3 prefix.
 *
 * Each run scans the folder, lists the prefix, plans from the index of the last sync (see `planSync`) and
 * executes the plan with conditional writes, verified downloads and parallel transfers. The index is written
 * atomically as the run goes, so a run that dies half-way resumes where it stopped. One run at a time.
 */
export class VaultSync {
  readonly vaultDir: string;
  readonly remote: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly s3: S3Client;
  private readonly concurrency: number;
  private readonly arrivalConcurrency: number;
  private readonly isKenv: (absolutePath: string) => Promise<boolean>;
  /** The scan's own check: undefined when the header is checked on the bytes it reads (see scanVault). */
  private readonly scanCheck: ((absolutePath: string) => Promise<boolean>) | undefined;
  private readonly encryptOnArrival: EncryptOnArrival | undefined;
  private readonly now: () => Date;
  private readonly maxDeletePercent: number;
  private readonly emitter = new EventEmitter<SyncEventMap>();
  private current: SyncStatus = { state: 'idle', toUpload: 0, toDownload: 0, conflicts: 0, errors: [] };
  private running: { dryRun: boolean; report: Promise<SyncReport> } | undefined;

  constructor(opts: VaultSyncOptions) {
    this.vaultDir = opts.vaultDir;
    const { bucket, prefix } = parseS3Url(opts.remote);
    this.bucket = bucket;
    this.prefix = prefix;
    this.remote = `s3://${bucket}/${prefix}`;
    this.s3 = opts.s3;
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULT_SYNC_CONCURRENCY);
    this.arrivalConcurrency = Math.max(1, opts.concurrency ?? DEFAULT_ARRIVAL_CONCURRENCY);
    this.isKenv = opts.isKenv ?? isKenvMessage;
    this.scanCheck = opts.isKenv;
    this.encryptOnArrival = opts.encryptOnArrival;
    this.now = opts.now ?? (() => new Date());
    this.maxDeletePercent = opts.maxDeletePercent ?? DEFAULT_MAX_DELETE_PERCENT;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof SyncEventMap>(event: K, listener: (...args: SyncEventMap[K]) => void): () => void {
    // EventEmitter's generic signature does not narrow through K; the map above is the contract.
    const l = listener as (...args: unknown[]) => void;
    (this.emitter as EventEmitter).on(event, l);
    return () => (this.emitter as EventEmitter).off(event, l);
  }

  get status(): SyncStatus {
    return this.current;
  }

  private setStatus(patch: Partial<SyncStatus>): void {
    this.current = { ...this.current, ...patch };
    this.emitter.emit('status', this.current);
  }

  /** Scans, lists and plans without changing anything. */
  async plan(signal?: AbortSignal): Promise<SyncReport> {
    return this.sync({ dryRun: true, signal });
  }

  /**
   * One full sync (or, with `dryRun`, the plan only).
   *
   * A call during a run shares that run's report, except a real sync asked for during a dry run: it starts
   * when the dry run ends.
   */
  sync(opts: { dryRun?: boolean; signal?: AbortSignal; maxDeletePercent?: number } = {}): Promise<SyncReport> {
    const dryRun = opts.dryRun ?? false;
    if (this.running && (dryRun || !this.running.dryRun)) return this.running.report;
    if (this.running) return this.running.report.catch(() => undefined).then(() => this.sync(opts));
    const report = this.run(dryRun, opts.signal, opts.maxDeletePercent ?? this.maxDeletePercent).finally(() => {
      this.running = undefined;
    });
    this.running = { dryRun, report };
    return report;
  }

  /** Syncs on file-system events (debounced) and on a periodic remote poll, backing off after errors. */
  watch(opts: WatchOptions = {}): SyncWatcher {
    return watchVault(this, opts);
  }

  private async run(dryRun: boolean, signal: AbortSignal | undefined, maxDeletePercent: number): Promise<SyncReport> {
    this.setStatus({ state: 'scanning', errors: [] });
    // Every request in flight listens to the signal (transfers, their parts, the listing's ranges): more than Node's
    // default of 10 is expected here, not a leak, and must not print a warning to the user.
    // At most: every file at once, each with every part at once, the listing's ranges and the hash look-ups; each
    // request adds two listeners (the SDK's retry and its HTTP handler).
    const listeners = 2 * (this.concurrency * (this.concurrency + 1) + LIST_RANGES + HASH_LOOKUPS) + 1;
    if (signal) setMaxListeners(Math.max(getMaxListeners(signal), listeners), signal);
    try {
      const report = await this.runInner(dryRun, signal, maxDeletePercent);
      const errors = report.failed;
      this.setStatus({
        state: errors.length ? 'error' : 'idle',
        toUpload: dryRun ? report.plan.upload.length : 0,
        toDownload: dryRun ? report.plan.download.length : 0,
        conflicts: report.conflicts.length + (dryRun ? report.plan.conflict.length : 0),
        errors,
        ...(errors.length || dryRun ? {} : { lastSyncAt: this.now().toISOString() }),
      });
      this.emitter.emit('report', report);
      return report;
    } catch (e) {
      const failure: SyncFailure = { path: '', ...toErrorInfo(toSyncError(e, this.remote)) };
      this.emitter.emit('failure', failure);
      this.setStatus({ state: 'error', errors: [failure] });
      throw toSyncError(e, this.remote);
    }
  }

  private async runInner(dryRun: boolean, signal: AbortSignal | undefined, maxDeletePercent: number): Promise<SyncReport> {
    if (dryRun) return this.scanAndPlan(true, signal, maxDeletePercent);
    const unlock = await lockVault(this.vaultDir);
    try {
      // Left by a run that died mid-download; nothing else writes there while the lock is held.
      await rm(join(this.vaultDir, SYNC_DIR, 'tmp'), { recursive: true, force: true });
      return await this.scanAndPlan(false, signal, maxDeletePercent);
    } finally {
      await unlock();
    }
  }

  private async scanAndPlan(dryRun: boolean, signal: AbortSignal | undefined, maxDeletePercent: number): Promise<SyncReport> {
    const { index, text: indexText } = await readIndex(this.vaultDir, this.remote);
    if (index.endpoint && !this.current.endpointWarning) this.setStatus({ endpointWarning: endpointWarning(index.endpoint) });
    // The listing first: its requests go out before the scan keeps the event loop busy. What the last sync saw there
    // lets it list ranges of the prefix at once (see listRemote).
    const [listing, firstScan] = await Promise.all([
      listRemote(this.s3, this.bucket, this.prefix, signal, Object.keys(index.entries)).catch((e: unknown) => {
        throw toSyncError(e, `listing ${this.remote}`);
      }),
      scanVault(this.vaultDir, index.entries, this.scanCheck, this.prefix),
    ]);
    let scan = firstScan;
    let arrivals: ArrivalResult = { encrypted: [], skipped: [], failed: [] };
    if (this.encryptOnArrival && !dryRun) {
      const plaintext = scan.skipped.filter((s) => s.reason === 'not-kenv').map((s) => s.path);
      // Loaded only here: encrypting needs the codecs, which a sync of .kenv files never uses.
      const { encryptArrivals } = await import('./arrival.js');
      arrivals = await encryptArrivals(this.vaultDir, plaintext, this.encryptOnArrival, this.arrivalConcurrency, this.now);
      // The new .kenv files are synced in this same run.
      if (arrivals.encrypted.length) scan = await scanVault(this.vaultDir, index.entries, this.scanCheck, this.prefix);
      const leftAlone = new Set(arrivals.skipped.map((s) => s.path));
      scan.skipped = [...scan.skipped.filter((s) => !leftAlone.has(s.path)), ...arrivals.skipped].sort((a, b) => a.path.localeCompare(b.path));
      for (const f of arrivals.failed) this.emitter.emit('failure', f);
    }
    // Paths sync leaves alone this run: their local name is held by something sync does not manage (a link, a
    // folder, an unreadable or invalid file), or the object was already found not to be a .kenv message. They are
    // kept out of the plan entirely, so their index entries stay and nothing is downloaded, trashed or deleted.
    const leftAlone: SkippedFile[] = [];
    const aliases = this.caseTwins(scan, listing.objects, index.entries, leftAlone);
    const rejected = index.rejected ?? {};
    for (const [path, o] of listing.objects) {
      const taken = isLocalNameTaken(scan, path);
      if (taken !== undefined) {
        leftAlone.push({ path, reason: 'local-name-taken', detail: taken === path ? 'it is not a .kenv file sync manages' : `${taken} is not a folder sync manages` });
      } else if (rejected[path] === o.etag) {
        leftAlone.push({ path, reason: 'invalid-remote-kenv' });
      } else continue;
      listing.objects.delete(path);
    }
    for (const path of Object.keys(rejected)) if (listing.objects.has(path) || !leftAlone.some((s) => s.path === path)) delete rejected[path];
    for (const path of Object.keys(rejected)) scan.files.delete(path);
    const planned: Record<string, IndexEntry> = {};
    for (const [path, entry] of Object.entries(index.entries)) {
      if (isLocalNameTaken(scan, path) === undefined && rejected[path] === undefined && !aliases.some((a) => a.path === path)) planned[path] = entry;
    }
    await forEachLimit(pathsNeedingRemoteHash(scan.files, listing.objects, planned), HASH_LOOKUPS, async (path) => {
      const head = await headRemote(this.s3, this.bucket, this.prefix + path, signal).catch((e: unknown) => {
        throw toSyncError(e, path);
      });
      const o = listing.objects.get(path);
      if (o && head.etag === o.etag && head.sha256) o.sha256 = head.sha256;
    });
    const plan = planSync(scan.files, listing.objects, planned);
    const massive = dryRun ? undefined : massDeletion(plan, scan.files.size, listing.objects.size, maxDeletePercent);
    if (massive) {
      const gone = massive.side === 'local' ? 'disappeared from S3' : 'disappeared from the vault folder';
      const where = massive.side === 'local' ? `the vault folder's ${massive.of} files` : `the ${massive.of} objects under ${this.remote}`;
      throw new KenvError(
        'SYNC_MASS_DELETE',
        `This sync would delete ${massive.count} of ${where}, because they ${gone}; it stopped before changing anything. ` +
          `If that is intended, sync again with --max-delete 100 (in the app: Allow these deletions once); if not, ` +
          `check the ${massive.side === 'local' ? 's3:// location and the bucket' : 'vault folder'}.`,
      );
    }
    // After the guard: a plan that will not run is not announced.
    this.emitter.emit('plan', plan);
    const report: SyncReport = {
      dryRun,
      plan,
      uploaded: [],
      downloaded: [],
      deletedLocal: [],
      deletedRemote: [],
      conflicts: [],
      unchanged: plan.unchanged.length,
      skipped: [...scan.skipped, ...listing.skipped, ...leftAlone],
      encrypted: arrivals.encrypted,
      failed: [...scan.unreadable, ...arrivals.failed],
      bytesUploaded: 0,
      bytesDownloaded: 0,
    };
    for (const f of scan.unreadable) this.emitter.emit('failure', f);
    this.setStatus({
      state: dryRun ? 'idle' : 'syncing',
      toUpload: plan.upload.length + plan.conflict.length,
      toDownload: plan.download.length + plan.conflict.length,
      conflicts: plan.conflict.length,
    });
    if (dryRun) return report;
    // Once per binding: what the endpoint really enforces decides how much each write is checked afterwards.
    index.endpoint ??= await probeEndpoint(this.s3, this.bucket, this.prefix, this.now(), signal).catch((e: unknown) => {
      throw toSyncError(e, `checking ${this.remote}`);
    });
    const warning = endpointWarning(index.endpoint);
    if (warning !== this.current.endpointWarning) this.setStatus({ endpointWarning: warning });
    await this.execute(plan, index, indexText, report, signal, aliases);
    // Transfers finish in any order; reports read the same every time.
    for (const list of [report.uploaded, report.downloaded, report.deletedLocal, report.deletedRemote]) list.sort();
    report.conflicts.sort((x, y) => x.path.localeCompare(y.path));
    report.failed.sort((x, y) => x.path.localeCompare(y.path));
    return report;
  }

  /**
   * Names that are one file on macOS and Windows (`Report.kenv` and `report.kenv`, or é composed and
   * decomposed) would make each sync there land one more conflict copy. One name of each such group owns it: the
   * one the index records, else the one in the folder, else the first in code-point order. A local twin is never
   * uploaded (reported as `unsafe-name`); a remote twin is returned, to be kept once as a conflict copy of the
   * owner (downloaded, uploaded under that name) and then removed from S3 with If-Match, so the group converges
   * to two names every file system can hold.
   */
  private caseTwins(
    scan: ScanResult,
    remote: Map<string, RemoteObject>,
    index: Readonly<Record<string, IndexEntry>>,
    skipped: SkippedFile[],
  ): CaseTwin[] {
    const rank = (p: string) => (index[p] ? 0 : scan.files.has(p) || scan.occupied.has(p) ? 1 : 2);
    const names = [...new Set([...scan.files.keys(), ...remote.keys()])].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    // Each name folded once (normalizing is most of this step's cost in a big vault).
    const folded = new Map<string, string>();
    const fold = (p: string) => {
      let f = folded.get(p);
      if (f === undefined) folded.set(p, (f = foldName(p)));
      return f;
    };
    const owners = new Map<string, string>();
    for (const p of names) if (!owners.has(fold(p))) owners.set(fold(p), p);
    for (const p of scan.files.keys()) {
      const owner = owners.get(fold(p))!;
      if (owner === p) continue;
      scan.files.delete(p);
      scan.occupied.add(p);
      skipped.push({ path: p, reason: 'unsafe-name', detail: `it differs from ${owner} only in case or Unicode form, one name on macOS and Windows` });
    }
    const twins: CaseTwin[] = [];
    for (const [p, o] of remote) {
      const owner = owners.get(fold(p))!;
      if (owner === p || isLocalNameTaken(scan, p) !== undefined) continue;
      twins.push({ path: p, owner, remote: o });
      remote.delete(p);
    }
    return twins;
  }

  /**
   * Fails with SYNC_REMOTE_CHANGED unless the object at `path` is gone from S3 now. A listing can leave an object out
   * (a server whose listing ends early or lies, a page lost), and an object missing from it is no proof that it was
   * deleted: its local file is moved to the trash only once S3 answers that it is not there.
   */
  private async confirmRemoteGone(ctx: TransferContext, path: string): Promise<void> {
    if (await headCurrent(ctx, this.prefix + path)) {
      throw new KenvError(
        'SYNC_REMOTE_CHANGED',
        `${path} is on S3 although its listing left it out; the local file was kept. Sync again; if this repeats, the server does not list every object it holds.`,
      );
    }
  }

  /**
   * Fails with SYNC_LOCAL_CHANGED when something is at `path` in the vault folder again. The scan's view is as old as
   * the scan: a file moved away and back (an editor saving by rename, a folder renamed and renamed back) may have been
   * missed, and its object is deleted from S3 only while its local name is still empty.
   */
  private async confirmLocalGone(path: string): Promise<void> {
    const abs = join(this.vaultDir, path);
    // On a case-insensitive file system lstat also finds `Report.kenv` for `report.kenv` (a rename of the case only,
    // which is the deletion to follow): only the name itself in its folder counts.
    const there = await lstat(abs).then(
      async () => (await readdir(dirname(abs))).includes(basename(abs)),
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return false;
        throw e;
      },
    );
    if (there) {
      throw new KenvError(
        'SYNC_LOCAL_CHANGED',
        `${path} is in the vault folder again (it was missing when the folder was scanned); its object on S3 was kept. Sync again.`,
      );
    }
  }

  private async execute(
    plan: SyncPlan,
    index: SyncIndex,
    indexText: string | undefined,
    report: SyncReport,
    signal: AbortSignal | undefined,
    twins: CaseTwin[] = [],
  ): Promise<void> {
    let saving = Promise.resolve();
    // What the file says once the writes queued so far land. A sync that changed nothing finds the file already
    // saying it (written and fsynced by an earlier sync) and writes nothing: a no-op costs no fsync.
    let onDisk = indexText;
    const persist = () => {
      const text = JSON.stringify(index);
      if (text === onDisk) return saving;
      onDisk = text;
      saving = saving.then(() =>
        writeFileAtomic(indexPath(this.vaultDir), text).catch((e: unknown) => {
          onDisk = undefined;
          throw e;
        }),
      );
      return saving;
    };
    let sinceSave = 0;
    const record = async (entry: IndexEntry | undefined, path: string) => {
      if (entry) index.entries[entry.path] = entry;
      else delete index.entries[path];
      if (++sinceSave >= INDEX_SAVE_EVERY) {
        sinceSave = 0;
        await persist();
      }
    };
    for (const u of plan.unchanged) index.entries[u.path] = u.entry;
    for (const p of plan.forget) delete index.entries[p];

    const transferred = new Map<string, number>();
    const sizes = new Map<string, number>();
    const kinds = new Map<string, SyncActionKind>();
    const expect = (path: string, kind: SyncActionKind, size: number) => {
      sizes.set(path, size);
      kinds.set(path, kind);
    };
    for (const a of plan.upload) expect(a.path, 'upload', a.local.size);
    for (const a of plan.download) expect(a.path, 'download', a.remote.size);
    for (const a of plan.conflict) expect(a.path, 'conflict', a.local.size);
    const ctx: TransferContext = {
      s3: this.s3,
      bucket: this.bucket,
      prefix: this.prefix,
      vaultDir: this.vaultDir,
      index,
      saveIndex: persist,
      partConcurrency: this.concurrency,
      partMemory: new ByteBudget(PART_MEMORY_BUDGET),
      isKenv: this.isKenv,
      now: this.now,
      signal,
      ...(index.endpoint ? { endpoint: index.endpoint } : {}),
      onRestored: (path, conflictCopy) => report.conflicts.push({ path, conflictCopy }),
      onBytes: (path, bytes) => {
        const before = transferred.get(path) ?? 0;
        transferred.set(path, before + bytes);
        // Large transfers report as they go, every 8 MiB (a part), not on every chunk.
        const total = sizes.get(path);
        if (total !== undefined && Math.floor((before + bytes) / PROGRESS_STEP) > Math.floor(before / PROGRESS_STEP)) {
          this.emitter.emit('progress', { kind: kinds.get(path) ?? 'upload', path, bytesDone: before + bytes, bytesTotal: total, done: false });
        }
      },
    };
    const remoteEtags = new Map([...plan.download, ...plan.conflict].map((a) => [a.path, a.remote.etag]));
    let toUpload = plan.upload.length + plan.conflict.length;
    let toDownload = plan.download.length + plan.conflict.length;
    const progress = (kind: SyncActionKind, path: string, total: number) =>
      this.emitter.emit('progress', { kind, path, bytesDone: transferred.get(path) ?? 0, bytesTotal: total, done: true });
    const fail = (path: string, e: unknown) => {
      if (e instanceof KenvError && e.code === 'NOT_KENV' && remoteEtags.has(path)) {
        // Not placed, left on S3, and not fetched again until it changes there.
        (index.rejected ??= {})[path] = remoteEtags.get(path)!;
        report.skipped.push({ path, reason: 'invalid-remote-kenv' });
        return;
      }
      const failure: SyncFailure = { path, ...toErrorInfo(toSyncError(e, path)) };
      report.failed.push(failure);
      this.emitter.emit('failure', failure);
    };

    type Job = { path: string; run: () => Promise<void> };
    const job = (path: string, run: () => Promise<void>): Job => ({ path, run });
    const jobs: Job[] = [];
    for (const a of plan.upload) {
      jobs.push(job(a.path, async () => {
        const entry = await uploadFile(ctx, a.local, a.ifMatch);
        await record(entry, a.path);
        report.uploaded.push(a.path);
        report.bytesUploaded += a.local.size;
        this.setStatus({ toUpload: --toUpload });
        progress('upload', a.path, a.local.size);
      }));
    }
    for (const a of plan.download) {
      jobs.push(job(a.path, async () => {
        const landed = await downloadObject(ctx, a.remote, a.replaces);
        report.bytesDownloaded += a.remote.size;
        this.setStatus({ toDownload: --toDownload });
        if (landed.path === a.path) {
          await record(landed.entry, a.path);
          report.downloaded.push(a.path);
        } else {
          // The local file changed under us: the remote version was kept beside it, to be uploaded next time.
          report.conflicts.push({ path: a.path, conflictCopy: landed.path });
        }
        progress('download', a.path, a.remote.size);
      }));
    }
    for (const a of plan.conflict) {
      jobs.push(job(a.path, async () => {
        const copy = await taggedPath(this.vaultDir, a.path, 'conflict', this.now());
        const landed = await downloadObject(ctx, a.remote, undefined, copy);
        report.bytesDownloaded += a.remote.size;
        report.conflicts.push({ path: a.path, conflictCopy: landed.path });
        this.setStatus({ toDownload: --toDownload });
        // From here the remote version is safe locally: record it as the base, so that a failure below is
        // retried as a plain upload of the local edit, never as a second conflict.
        await record({ ...landed.entry, path: a.path, mtimeMs: SMUDGED_MTIME }, a.path);
        const copyLocal = { path: landed.path, size: landed.entry.size, mtimeMs: landed.entry.mtimeMs, sha256: landed.entry.sha256 };
        await record(await uploadFile(ctx, copyLocal, undefined), landed.path);
        await record(await uploadFile(ctx, a.local, landed.entry.etag), a.path);
        report.bytesUploaded += a.local.size + landed.entry.size;
        this.setStatus({ toUpload: --toUpload });
        progress('conflict', a.path, a.local.size);
      }));
    }

    for (const t of twins) {
      jobs.push(job(t.path, async () => {
        const copy = await taggedPath(this.vaultDir, t.owner, 'conflict', this.now());
        const landed = await downloadObject(ctx, t.remote, undefined, copy);
        report.bytesDownloaded += t.remote.size;
        report.conflicts.push({ path: t.owner, conflictCopy: landed.path });
        const copyLocal = { path: landed.path, size: landed.entry.size, mtimeMs: landed.entry.mtimeMs, sha256: landed.entry.sha256 };
        await record(await uploadFile(ctx, copyLocal, undefined), landed.path);
        report.bytesUploaded += landed.entry.size;
        // Kept on both sides under the copy's name: the twin's key goes, only if nobody changed it meanwhile.
        await deleteRemote(ctx, t.remote);
        await record(undefined, t.path);
        progress('conflict', t.path, t.remote.size);
      }));
    }

    // Deletions run after every transfer: an interrupted rename leaves both names, never neither.
    const deletions: Job[] = [];
    for (const a of plan.deleteRemote) {
      deletions.push(job(a.path, async () => {
        await this.confirmLocalGone(a.path);
        await deleteRemote(ctx, a.remote);
        await record(undefined, a.path);
        report.deletedRemote.push(a.path);
        progress('deleteRemote', a.path, 0);
      }));
    }
    for (const a of plan.deleteLocal) {
      deletions.push(job(a.path, async () => {
        await this.confirmRemoteGone(ctx, a.path);
        await trashLocal(ctx, a.local);
        await record(undefined, a.path);
        report.deletedLocal.push(a.path);
        progress('deleteLocal', a.path, 0);
      }));
    }
    const runAll = (list: Job[]) =>
      forEachLimit(list, this.concurrency, async (job) => {
        try {
          await job.run();
        } catch (e) {
          fail(job.path, e);
        }
      });
    try {
      await runAll(jobs);
      await runAll(deletions);
      // A multipart upload kept for resuming is dropped once its file no longer needs uploading (deleted,
      // or synced another way), so S3 does not keep its parts forever.
      const wanted = new Set([...plan.upload, ...plan.conflict].map((a) => a.path));
      for (const pending of Object.values(index.uploads)) {
        if (!wanted.has(pending.path)) {
          await abortUpload(ctx, pending);
          delete index.uploads[pending.path];
        }
      }
    } finally {
      await persist();
    }
  }
}
