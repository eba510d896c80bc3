import { watch, type FSWatcher } from 'node:fs';
import { SYNC_DIR, TRASH_DIR } from './index-store.js';
import type { SyncReport } from './types.js';

export interface WatchOptions {
  /** Quiet time after the last file-system event before a sync starts (default 1 s). */
  debounceMs?: number;
  /** Time between syncs when nothing happens locally, to pick up remote changes (default 60 s). */
  pollMs?: number;
  /** First wait after a failed sync; it doubles with each failure in a row (default 2 s). */
  backoffMs?: number;
  /** Longest wait after failures (default 5 min). */
  maxBackoffMs?: number;
}

export interface SyncWatcher {
  /** Stops watching and waits for a sync in progress to finish. */
  stop(): Promise<void>;
}

/** What watch mode drives: a vault folder and a way to sync it once. */
export interface Syncable {
  readonly vaultDir: string;
  sync(): Promise<SyncReport>;
}

/**
 * Keeps a vault in sync: a sync at start, then after local changes (debounced) and on a periodic poll.
 *
 * A sync that fails (or reports failed files) is retried with exponential backoff instead of the poll, and local
 * events do not cut a backoff short: a broken network is not hammered by every save. Only one sync runs at a
 * time; events during a sync schedule one more after it.
 */
export function watchVault(target: Syncable, opts: WatchOptions = {}): SyncWatcher {
  const debounceMs = opts.debounceMs ?? 1000;
  const pollMs = opts.pollMs ?? 60_000;
  const backoffMs = opts.backoffMs ?? 2000;
  const maxBackoffMs = opts.maxBackoffMs ?? 300_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let dirty = false;
  let stopped = false;
  let failuresInARow = 0;

  function schedule(ms: number): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      runNow();
    }, ms);
  }

  function runNow(): void {
    if (running) {
      dirty = true;
      return;
    }
    running = (async () => {
      try {
        const report = await target.sync();
        failuresInARow = report.failed.length > 0 ? failuresInARow + 1 : 0;
      } catch {
        failuresInARow++;
      }
    })().finally(() => {
      running = undefined;
      if (failuresInARow > 0) schedule(Math.min(maxBackoffMs, backoffMs * 2 ** (failuresInARow - 1)));
      else if (dirty) schedule(debounceMs);
      else schedule(pollMs);
      dirty = false;
    });
  }

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(target.vaultDir, { recursive: true }, (_event, filename) => {
      const name = filename ? String(filename).replace(/\\/g, '/') : '';
      if (name === SYNC_DIR || name.startsWith(`${SYNC_DIR}/`) || name === TRASH_DIR || name.startsWith(`${TRASH_DIR}/`)) return;
      if (running) dirty = true;
      else if (failuresInARow === 0) schedule(debounceMs);
    });
    watcher.on('error', () => {
      // The folder went away or the platform gave up watching: the periodic poll still syncs.
    });
  } catch {
    watcher = undefined;
  }
  schedule(0);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      watcher?.close();
      await running;
    },
  };
}
