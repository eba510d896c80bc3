import { randomUUID } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { ErrorInfo } from '../../../shared/errors.js';
import type { Direction, Job } from '../../../shared/ipc.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { decryptedName } from '../files.js';
import type { Grants } from './grants.js';
import { describeThrottle, withThrottleScope } from '../kms/throttle.js';
import type { EventSink, RecipientKey, VaultOps } from './services.js';

/** What a job needs to run again on retry. */
export interface JobSpec {
  path: string;
  direction: Direction;
  keyIds: string[];
  context: Record<string, string>;
  outDir: string | undefined;
  deletePlaintext: boolean;
  /** Replace an existing output (set by "Replace" after OUTPUT_EXISTS, once the user confirmed it). */
  replace?: boolean;
  /** Add a kenv:file-id audit id (the setting; absent: on). */
  fileId?: boolean;
  /** Write under this name in the output folder instead of the derived one ("Keep both" after OUTPUT_EXISTS). */
  outputName?: string | undefined;
  /** Encrypt for a recipient file's RSA key (offline) instead of `keyIds`. */
  recipient?: RecipientKey | undefined;
}

/** Finished jobs kept for the activity list (and across renderer reloads); the oldest go first. */
export const MAX_FINISHED_JOBS = 200;

const finished = (job: Job) => job.state === 'done' || job.state === 'failed' || job.state === 'cancelled';

interface JobRecord {
  job: Job;
  spec: JobSpec;
  abort: AbortController | undefined;
  lastEmit: number;
}

/**
 * The queue of encrypt and decrypt jobs the renderer started.
 *
 * Runs a few files at a time, reports each change as a whole `Job` on `jobs:changed` (progress at most every
 * `progressIntervalMs`), and keeps finished jobs so the list survives a renderer reload.
 */
export interface JobQueueOptions {
  concurrency?: number;
  progressIntervalMs?: number;
  /** Each finished job's output is granted here (the shell may then open it). */
  grants?: Grants;
  /**
   * Moves a file to the OS trash (the desktop shell's `trashItem`). "Delete originals after encrypting" uses it and
   * nothing else: plaintext is never unlinked, and without it the setting fails the job instead of deleting.
   */
  trash?: (path: string) => Promise<void>;
}

export class JobQueue {
  private readonly records = new Map<string, JobRecord>();
  private readonly waiting: string[] = [];
  private running = 0;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly vault: VaultOps,
    private readonly events: EventSink,
    private readonly opts: JobQueueOptions = {},
  ) {}

  /** Queues one batch; returns its jobs in the order given. */
  start(specs: JobSpec[]): Job[] {
    const batchId = randomUUID();
    const jobs = specs.map((spec) => {
      const job: Job = {
        id: randomUUID(), batchId, path: spec.path, name: basename(spec.path), direction: spec.direction, state: 'queued',
        bytesDone: 0, bytesTotal: null, outputPath: null, outputBytes: null, error: null, inputDeleted: false,
        keyIds: spec.direction !== 'encrypt' ? [] : spec.recipient ? [spec.recipient.keyArn] : [...spec.keyIds], revision: 0,
      };
      this.records.set(job.id, { job, spec, abort: undefined, lastEmit: 0 });
      this.waiting.push(job.id);
      this.changed(job);
      return { ...job };
    });
    this.pump();
    return jobs;
  }

  list(): Job[] {
    return [...this.records.values()].map((r) => ({ ...r.job }));
  }

  /**
   * The file a retry with `replace` would overwrite: the output a job that failed with OUTPUT_EXISTS found in its way.
   * Undefined for any other job (there is nothing to replace).
   */
  replaceTarget(jobId: string): string | undefined {
    const record = this.records.get(jobId);
    if (!record || record.job.state !== 'failed' || record.job.error?.code !== 'OUTPUT_EXISTS') return undefined;
    const { spec } = record;
    const folder = spec.outDir ?? dirname(spec.path);
    if (spec.outputName) return join(folder, spec.outputName);
    return spec.direction === 'encrypt' ? join(folder, `${basename(spec.path)}.kenv`) : join(folder, decryptedName(spec.path));
  }

  /** Removes every finished job (done, failed, cancelled) from the list; returns what is left. */
  clearFinished(): Job[] {
    for (const [id, record] of this.records) if (finished(record.job)) this.records.delete(id);
    return this.list();
  }

  cancel(target: { jobId: string } | { batchId: string }): void {
    const ids = 'jobId' in target
      ? [target.jobId]
      : [...this.records.values()].filter((r) => r.job.batchId === target.batchId).map((r) => r.job.id);
    if (ids.length === 0 || !ids.every((id) => this.records.has(id))) {
      throw new KenvError('INVALID_ARGUMENT', 'That job is no longer in the list. Refresh the window and try again.');
    }
    for (const id of ids) {
      const record = this.records.get(id)!;
      if (record.job.state === 'queued') {
        this.waiting.splice(this.waiting.indexOf(id), 1);
        this.finish(record, { state: 'cancelled' });
      } else if (record.job.state === 'running') {
        record.abort?.abort();
      }
    }
  }

  retry(jobId: string, opts: { replace?: boolean; outputName?: string; outDir?: string } = {}): Job {
    const record = this.records.get(jobId);
    if (!record) throw new KenvError('INVALID_ARGUMENT', 'That job is no longer in the list. Drop the file again.');
    if (record.job.state !== 'failed' && record.job.state !== 'cancelled') {
      throw new KenvError('INVALID_ARGUMENT', `${record.job.name} is not a failed job; there is nothing to retry.`);
    }
    if (opts.replace === true && this.replaceTarget(jobId) === undefined) {
      throw new KenvError('INVALID_ARGUMENT', `${record.job.name} did not stop at an existing file; there is nothing to replace. Choose Retry instead.`);
    }
    record.spec.replace = opts.replace === true;
    if (opts.outputName !== undefined) record.spec.outputName = opts.outputName;
    if (opts.outDir !== undefined) {
      record.spec.outDir = opts.outDir;
      record.spec.outputName = undefined;
    }
    Object.assign(record.job, { state: 'queued', bytesDone: 0, bytesTotal: null, outputPath: null, outputBytes: null, error: null });
    this.waiting.push(jobId);
    const queued = this.changed(record.job);
    this.pump();
    return queued;
  }

  /** Resolves when nothing is queued or running (for shutdown and tests). */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Cancels everything still running, e.g. on quit. */
  cancelAll(): void {
    for (const record of this.records.values()) {
      if (record.job.state === 'queued' || record.job.state === 'running') this.cancel({ jobId: record.job.id });
    }
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 2;
    while (this.running < limit && this.waiting.length > 0) {
      const record = this.records.get(this.waiting.shift()!)!;
      this.running++;
      void this.run(record).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) {
          for (const resolve of this.idle) resolve();
          this.idle.clear();
        }
      });
    }
  }

  private async run(record: JobRecord): Promise<void> {
    const { job, spec } = record;
    const abort = new AbortController();
    record.abort = abort;
    job.state = 'running';
    this.changed(job);
    const onProgress = (p: { bytesDone: number; bytesTotal: number | undefined }) => {
      job.notice = null;
      job.bytesDone = p.bytesDone;
      job.bytesTotal = p.bytesTotal ?? null;
      const now = Date.now();
      if (now - record.lastEmit >= (this.opts.progressIntervalMs ?? 100)) {
        record.lastEmit = now;
        this.changed(job);
      }
    };
    // The job's KMS calls report their throttling waits here (kms/throttle.ts); Cancel cuts a wait short.
    const throttleScope = {
      onThrottle: (notice: Parameters<typeof describeThrottle>[0]) => {
        job.notice = describeThrottle(notice);
        this.changed(job);
      },
      signal: abort.signal,
    };
    try {
      if (spec.direction === 'encrypt') {
        const result = await withThrottleScope(throttleScope, () =>
          this.vault.encryptFile(spec.path, { keyIds: spec.keyIds, context: spec.context, outDir: spec.outDir, outputName: spec.outputName, force: spec.replace, fileId: spec.fileId !== false, ...(spec.recipient ? { recipient: spec.recipient } : {}), onProgress, signal: abort.signal }),
        );
        let inputDeleted = false;
        if (spec.deletePlaintext) {
          // Only a file whose header reads back is trusted enough to delete the plaintext for.
          await this.vault.inspectFile(result.outputPath);
          if (!this.opts.trash) throw new KenvError('NOT_ALLOWED', `${job.name} was encrypted, but Kenv cannot move it to the trash here, so the original was kept.`);
          await this.opts.trash(spec.path);
          inputDeleted = true;
        }
        await this.opts.grants?.grant(result.outputPath, 'job-output');
        this.finish(record, { state: 'done', outputPath: result.outputPath, bytesDone: result.bytesIn, bytesTotal: result.bytesIn, outputBytes: result.bytesOut, inputDeleted });
      } else {
        const result = await withThrottleScope(throttleScope, () =>
          this.vault.decryptFile(spec.path, { outDir: spec.outDir, outputName: spec.outputName, force: spec.replace, onProgress, signal: abort.signal }),
        );
        await this.opts.grants?.grant(result.outputPath, 'job-output');
        this.finish(record, { state: 'done', outputPath: result.outputPath, bytesDone: job.bytesTotal ?? job.bytesDone, outputBytes: result.bytesOut, inputDeleted: false });
      }
    } catch (error) {
      if (abort.signal.aborted) {
        this.finish(record, { state: 'cancelled' });
      } else {
        this.finish(record, { state: 'failed', error: describeFailure(error, job) });
      }
    } finally {
      record.abort = undefined;
    }
  }

  private finish(record: JobRecord, patch: Partial<Job>): void {
    Object.assign(record.job, { notice: null }, patch);
    this.changed(record.job);
    this.prune();
  }

  /** Keeps at most MAX_FINISHED_JOBS finished jobs, dropping the oldest (the map keeps the order they started in). */
  private prune(): void {
    let extra = [...this.records.values()].filter((r) => finished(r.job)).length - MAX_FINISHED_JOBS;
    for (const [id, record] of this.records) {
      if (extra <= 0) break;
      if (finished(record.job)) {
        this.records.delete(id);
        extra--;
      }
    }
  }

  /** Bumps the revision and sends a snapshot. */
  private changed(job: Job): Job {
    job.revision++;
    const snapshot = { ...job };
    this.events.emit('jobs:changed', snapshot);
    return snapshot;
  }
}

/** The core's sentence, except where the CLI's advice (flags) does not fit a window. */
function describeFailure(error: unknown, job: Job): ErrorInfo {
  const info = toErrorInfo(error);
  if (info.code === 'OUTPUT_EXISTS') {
    const target = job.direction === 'encrypt' ? `${job.name}.kenv` : job.name.replace(/\.kenv$/i, '');
    return { code: info.code, message: `${target} already exists there, so nothing was overwritten.` };
  }
  return info;
}
