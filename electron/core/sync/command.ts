import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KenvError, toErrorInfo } from '../errors.js';
import type { EncryptOnArrival } from './arrival.js';
import { VaultSync } from './engine.js';
import { createS3Client, parseS3Url } from './s3-client.js';
import { useSseKms } from './sse-kms.js';
import type { SkippedFile, SyncPlan, SyncReport } from './types.js';

/** The options of `kenv sync VAULT_DIR s3://bucket/prefix`. */
export interface SyncCommandOptions {
  vaultDir: string;
  /** `s3://bucket/prefix`. */
  remote: string;
  profile?: string;
  region?: string;
  /** Keep syncing on local changes and a periodic poll until SIGINT/SIGTERM (or `signal`). */
  watch?: boolean;
  /** Print the plan, change nothing. */
  dryRun?: boolean;
  /** One JSON object per line instead of text. */
  json?: boolean;
  /** Files transferred at once (default 4). */
  concurrency?: number;
  /** Seconds between remote polls in watch mode (default 60). */
  pollSeconds?: number;
  /** Stops watch mode (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Encrypt plaintext placed in the vault with these keys, verify, move the plaintext to `.kenv-trash/`, sync. */
  encryptOnArrival?: EncryptOnArrival;
  /** The mass-deletion guard's percentage (default 50; 100 allows every deletion). */
  maxDeletePercent?: number;
  /** Upload with SSE-KMS under this KMS key as well (ciphertext of ciphertext in the bucket). */
  sseKmsKeyId?: string;
}

export interface SyncCommandIo {
  out(line: string): void;
  err(line: string): void;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const SKIP_REASONS: Record<SkippedFile['reason'], string> = {
  'not-kenv': 'not a .kenv file, never uploaded',
  'invalid-kenv': 'not a valid .kenv message, never uploaded',
  'unsafe-remote-key': 'remote key cannot be a local path, ignored',
  'arrival-kenv-exists': 'not encrypted on arrival: its .kenv name exists already, nothing was overwritten; rename one of them',
  'unsafe-name': 'its name could not come back from S3 to every machine, never uploaded; rename it',
  symlink: 'a symbolic link, never uploaded nor followed',
  'not-a-file': 'not a regular file, never uploaded',
  'local-name-taken': 'on S3, but its local name is taken by something sync does not manage; nothing was written',
  'invalid-remote-kenv': 'on S3, but not a valid .kenv message; not placed in the vault, left on S3',
};

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function planLines(plan: SyncPlan): string[] {
  return [
    ...plan.upload.map((a) => `upload         ${a.path}`),
    ...plan.download.map((a) => `download       ${a.path}`),
    ...plan.conflict.map((a) => `conflict       ${a.path} (both changed: both versions will be kept)`),
    ...plan.deleteRemote.map((a) => `delete remote  ${a.path}`),
    ...plan.deleteLocal.map((a) => `delete local   ${a.path} (moved to .kenv-trash)`),
  ];
}

/** The counts a summary shows, as JSON and as text. */
export function summarize(report: SyncReport) {
  return {
    uploaded: report.uploaded.length,
    downloaded: report.downloaded.length,
    deletedLocal: report.deletedLocal.length,
    deletedRemote: report.deletedRemote.length,
    conflicts: report.conflicts.length,
    unchanged: report.unchanged,
    skipped: report.skipped.length,
    encrypted: report.encrypted.length,
    failed: report.failed.length,
    bytesUploaded: report.bytesUploaded,
    bytesDownloaded: report.bytesDownloaded,
  };
}

function printReport(report: SyncReport, io: SyncCommandIo, json: boolean): void {
  if (json) {
    io.out(JSON.stringify({ event: 'summary', dryRun: report.dryRun, ...summarize(report), conflictCopies: report.conflicts, failures: report.failed }));
    return;
  }
  for (const c of report.conflicts) io.out(`conflict: ${c.path}: the other version was kept as ${c.conflictCopy}`);
  const s = summarize(report);
  if (report.dryRun) {
    const p = report.plan;
    io.out(
      `dry run, nothing changed: would upload ${p.upload.length}, download ${p.download.length}, ` +
        `delete ${p.deleteLocal.length} local / ${p.deleteRemote.length} remote, conflicts ${p.conflict.length}, unchanged ${p.unchanged.length}`,
    );
    return;
  }
  io.out(
    `uploaded ${s.uploaded} (${bytes(s.bytesUploaded)}), downloaded ${s.downloaded} (${bytes(s.bytesDownloaded)}), ` +
      `deleted ${s.deletedLocal} local / ${s.deletedRemote} remote, conflicts ${s.conflicts}, unchanged ${s.unchanged}` +
      `${s.encrypted ? `, encrypted on arrival ${s.encrypted}` : ''}${s.skipped ? `, skipped ${s.skipped}` : ''}${s.failed ? `, FAILED ${s.failed}` : ''}`,
  );
}

/**
 * Runs `kenv sync VAULT_DIR s3://bucket/prefix`: prints the plan, progress and a summary; resolves with the exit code.
 *
 * 0 when everything synced, 1 when any file (or the sync itself) failed, 2 when the arguments are wrong. With
 * `watch` it keeps syncing until SIGINT/SIGTERM or `signal`, printing a summary after each sync that changed
 * something, and resolves 0 once stopped.
 */
export async function runSyncCommand(opts: SyncCommandOptions, io: SyncCommandIo): Promise<number> {
  const json = !!opts.json;
  const fail = (e: unknown): number => {
    const info = toErrorInfo(e);
    if (json) io.out(JSON.stringify({ event: 'error', ...info }));
    io.err(`kenv sync: ${info.message} [${info.code}]`);
    return info.code === 'INVALID_ARGUMENT' ? EXIT_USAGE : EXIT_FAILED;
  };

  let sync: VaultSync;
  try {
    const vaultDir = resolve(opts.vaultDir);
    const info = await stat(vaultDir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new KenvError('INVALID_ARGUMENT', `${opts.vaultDir} is not a folder. Name the vault folder to sync.`);
    }
    parseS3Url(opts.remote);
    if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency >= 1 && opts.concurrency <= 64)) {
      throw new KenvError('INVALID_ARGUMENT', 'The concurrency must be a whole number from 1 to 64.');
    }
    if (opts.maxDeletePercent !== undefined && !(Number.isFinite(opts.maxDeletePercent) && opts.maxDeletePercent >= 0 && opts.maxDeletePercent <= 100)) {
      throw new KenvError('INVALID_ARGUMENT', '--max-delete takes a percentage from 0 to 100.');
    }
    const s3 = await createS3Client({ profile: opts.profile, region: opts.region });
    if (opts.sseKmsKeyId) useSseKms(s3, opts.sseKmsKeyId);
    sync = new VaultSync({
      vaultDir,
      remote: opts.remote,
      s3,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.encryptOnArrival ? { encryptOnArrival: opts.encryptOnArrival } : {}),
      ...(opts.maxDeletePercent !== undefined ? { maxDeletePercent: opts.maxDeletePercent } : {}),
    });
  } catch (e) {
    return fail(e);
  }

  let warned = false;
  const offs = [
    sync.on('status', (s) => {
      // Once per run (watch mode included), not after every sync.
      if (!s.endpointWarning || warned) return;
      warned = true;
      if (json) io.out(JSON.stringify({ event: 'warning', message: s.endpointWarning }));
      io.err(`kenv sync: warning: ${s.endpointWarning}`);
    }),
    sync.on('plan', (plan) => {
      if (json) {
        io.out(
          JSON.stringify({
            event: 'plan',
            upload: plan.upload.map((a) => a.path),
            download: plan.download.map((a) => a.path),
            deleteLocal: plan.deleteLocal.map((a) => a.path),
            deleteRemote: plan.deleteRemote.map((a) => a.path),
            conflict: plan.conflict.map((a) => a.path),
            unchanged: plan.unchanged.length,
          }),
        );
      } else {
        for (const line of planLines(plan)) io.out(line);
      }
    }),
    sync.on('progress', (p) => {
      if (json) io.out(JSON.stringify({ event: 'progress', ...p }));
      // Text is read by people and by logs: one line per finished file, never one per part of a large one.
      else if (!p.done) return;
      else if (p.kind === 'upload' || p.kind === 'download') io.out(`${p.kind === 'upload' ? 'uploaded' : 'downloaded'}   ${p.path} (${bytes(p.bytesTotal)})`);
      else if (p.kind === 'deleteLocal') io.out(`trashed    ${p.path}`);
      else if (p.kind === 'deleteRemote') io.out(`deleted    ${p.path}`);
    }),
    sync.on('failure', (f) => {
      // A failure of the whole sync (no path) is printed once, below, unless watch mode carries on after it.
      if (!f.path && !opts.watch) return;
      if (json) io.out(JSON.stringify({ event: 'failure', ...f }));
      io.err(`kenv sync: ${f.path ? `${f.path}: ` : ''}${f.message} [${f.code}]`);
    }),
  ];

  try {
    if (!opts.watch) {
      const report = await sync.sync({ dryRun: !!opts.dryRun, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (!json) {
        for (const e of report.encrypted) io.out(`encrypted      ${e.path} -> ${e.kenvPath} (verified; plaintext moved to .kenv-trash)`);
        for (const s of report.skipped) io.out(`skipped        ${s.path} (${SKIP_REASONS[s.reason]}${s.detail ? `: ${s.detail}` : ''})`);
      }
      printReport(report, io, json);
      return report.failed.length > 0 ? EXIT_FAILED : EXIT_OK;
    }
    if (opts.dryRun) throw new KenvError('INVALID_ARGUMENT', '--watch and --dry-run cannot be combined: a dry run changes nothing to watch.');
    offs.push(
      sync.on('report', (report) => {
        const s = summarize(report);
        if (s.uploaded + s.downloaded + s.deletedLocal + s.deletedRemote + s.conflicts + s.failed > 0 || json) printReport(report, io, json);
      }),
    );
    if (!json) io.out(`watching ${sync.vaultDir} <-> ${sync.remote} (Ctrl+C to stop)`);
    const watcher = sync.watch({ ...(opts.pollSeconds ? { pollMs: opts.pollSeconds * 1000 } : {}) });
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        opts.signal?.removeEventListener('abort', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (opts.signal?.aborted) stop();
      else opts.signal?.addEventListener('abort', stop);
    });
    await watcher.stop();
    if (!json) io.out('stopped watching');
    return EXIT_OK;
  } catch (e) {
    return fail(e);
  } finally {
    for (const off of offs) off();
  }
}
