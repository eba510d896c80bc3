// The scan's one lstat per known file: blocking calls, in slices that let the event loop turn, and a file whose
// lstat fails for another reason than its absence is held as unreadable, never taken for deleted.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { scanVault } from '../../../../../electron/core/sync/scan.js';
import type { IndexEntry } from '../../../../../electron/core/sync/types.js';
import { kenvMessage } from '../../../../support/kenv-fixtures.js';
import { useScratch } from '../../../../support/scratch.js';

const faults = vi.hoisted(() => ({ denied: new Set<string>(), busyMs: 0, calls: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const mocked = {
    ...real,
    lstatSync: ((path: string, options?: object) => {
      // Files only: each folder also costs a few (whether it is still the folder the scan found there).
      if (String(path).endsWith('.kenv')) faults.calls++;
      if (faults.denied.has(String(path))) {
        throw Object.assign(new Error(`EACCES: permission denied, lstat '${String(path)}'`), { code: 'EACCES', errno: -13, syscall: 'lstat', path });
      }
      // A slow disk: each call holds the thread for a while.
      for (const until = performance.now() + faults.busyMs; performance.now() < until; );
      return real.lstatSync(path, options as never);
    }) as typeof real.lstatSync,
  };
  return { ...mocked, default: mocked };
});

const scratch = useScratch('kenv-scan-stat-');
afterEach(() => {
  faults.denied.clear();
  faults.busyMs = 0;
  faults.calls = 0;
});

/** A vault of `count` messages in one folder, and the index of a sync that saw them all. */
async function knownVault(count: number): Promise<{ vault: string; index: Record<string, IndexEntry> }> {
  const vault = scratch.path('vault', '');
  await mkdir(join(vault, 'docs'), { recursive: true });
  const bytes = await kenvMessage('known');
  await Promise.all(Array.from({ length: count }, (_, i) => writeFile(join(vault, 'docs', `f${i}.kenv`), bytes)));
  const first = await scanVault(vault, {}, undefined);
  const index: Record<string, IndexEntry> = {};
  for (const f of first.files.values()) index[f.path] = { path: f.path, size: f.size, mtimeMs: f.mtimeMs, sha256: f.sha256, etag: 'e' };
  return { vault, index };
}

it('holds a file whose lstat is refused as unreadable, so that its copy on S3 is neither deleted nor overwritten', async () => {
  const { vault, index } = await knownVault(3);
  faults.denied.add(join(vault, 'docs', 'f1.kenv'));
  const scan = await scanVault(vault, index, undefined);
  expect([...scan.files.keys()].sort()).toEqual(['docs/f0.kenv', 'docs/f2.kenv']);
  expect(scan.unreadable).toEqual([
    {
      path: 'docs/f1.kenv',
      code: 'INPUT_UNREADABLE',
      message: expect.stringMatching(/^docs\/f1\.kenv could not be read \(EACCES: permission denied, lstat .*\); it was skipped and the rest of the vault synced\. Check its permissions\.$/),
    },
  ]);
  // Taken: the plan leaves the remote object alone.
  expect(scan.occupied.has('docs/f1.kenv')).toBe(true);
  expect(scan.barriers.has('docs/f1.kenv')).toBe(true);
});

it('stats each known, unchanged file once with a blocking call, and lets the event loop turn during a long folder', async () => {
  const { vault, index } = await knownVault(400);
  faults.calls = 0;
  faults.busyMs = 0.25; // 100 ms of blocking calls in all: many slices.
  let turns = 0;
  const timer = setInterval(() => turns++, 0);
  try {
    const scan = await scanVault(vault, index, undefined);
    expect(scan.files.size).toBe(400);
  } finally {
    clearInterval(timer);
  }
  expect(faults.calls).toBe(400);
  expect(turns).toBeGreaterThanOrEqual(3);
});
