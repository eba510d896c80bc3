import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SyncReport } from '../../../../../electron/core/sync/types.js';
import { watchVault } from '../../../../../electron/core/sync/watch.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-watch-'));
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

const ok = { failed: [] } as unknown as SyncReport;
const partial = { failed: [{ path: 'a.kenv', code: 'S3_ERROR', message: 'x' }] } as unknown as SyncReport;

describe('watchVault', () => {
  it('syncs at start, then on the poll interval', async () => {
    const sync = vi.fn(async () => ok);
    const w = watchVault({ vaultDir: dir, sync }, { pollMs: 10_000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(sync).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(sync).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sync).toHaveBeenCalledTimes(2);
    await w.stop();
  });

  it('backs off exponentially after failures, up to the maximum, and resets after a success', async () => {
    let n = 0;
    const sync = vi.fn(async () => {
      n++;
      if (n <= 4) throw new Error('offline');
      if (n === 5) return partial;
      return ok;
    });
    const w = watchVault({ vaultDir: dir, sync }, { pollMs: 60_000, backoffMs: 1_000, maxBackoffMs: 5_000 });
    await vi.advanceTimersByTimeAsync(0);
    const callsAfter = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      return sync.mock.calls.length;
    };
    expect(sync).toHaveBeenCalledTimes(1); // failure 1
    expect(await callsAfter(999)).toBe(1);
    expect(await callsAfter(1)).toBe(2); // after 1 s: failure 2
    expect(await callsAfter(1_999)).toBe(2);
    expect(await callsAfter(1)).toBe(3); // after 2 s: failure 3
    expect(await callsAfter(4_000)).toBe(4); // after 4 s: failure 4
    expect(await callsAfter(4_999)).toBe(4); // capped at 5 s
    expect(await callsAfter(1)).toBe(5); // a report with failed files counts as a failure too
    expect(await callsAfter(5_000)).toBe(6); // success
    expect(await callsAfter(59_999)).toBe(6); // back to the poll interval
    expect(await callsAfter(1)).toBe(7);
    await w.stop();
  });

  it('stop waits for the sync in progress and nothing runs after it', async () => {
    let finish!: () => void;
    const sync = vi.fn(() => new Promise<SyncReport>((resolve) => (finish = () => resolve(ok))));
    const w = watchVault({ vaultDir: dir, sync }, { pollMs: 1_000 });
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sync).toHaveBeenCalledTimes(1);
  });
});
