// A folder of the vault replaced while the scan runs (by a link to a folder elsewhere, or another folder): the scan
// must not read through it. Read through, the files there would be uploaded as the vault's, and the vault's own files
// under that name would look deleted (their objects deleted from S3) where a link found before the scan leaves them
// alone.
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { scanVault } from '../../../../../electron/core/sync/scan.js';
import type { IndexEntry } from '../../../../../electron/core/sync/types.js';
import { kenvMessage } from '../../../../support/kenv-fixtures.js';
import { useScratch } from '../../../../support/scratch.js';

/** Runs before the scan lists the folder `dir` (once): the moment a folder changes under it. */
const hooks = vi.hoisted(() => ({ beforeReaddir: new Map<string, () => Promise<void>>() }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const mocked = {
    ...real,
    readdir: (async (path: string, options?: object) => {
      const hook = hooks.beforeReaddir.get(String(path));
      hooks.beforeReaddir.delete(String(path));
      await hook?.();
      return real.readdir(path, options as never);
    }) as typeof real.readdir,
  };
  return { ...mocked, default: mocked };
});

const scratch = useScratch('kenv-scan-race-');
afterEach(() => hooks.beforeReaddir.clear());

/** A vault with docs/a.kenv and docs/b.kenv, its index, and a folder outside it holding another message. */
async function world() {
  const vault = scratch.path('vault', '');
  const outside = scratch.path('outside', '');
  await mkdir(join(vault, 'docs', 'deeper'), { recursive: true });
  await mkdir(outside);
  for (const name of ['docs/a.kenv', 'docs/b.kenv', 'docs/deeper/c.kenv']) await writeFile(join(vault, name), await kenvMessage(name));
  await writeFile(join(outside, 'x.kenv'), await kenvMessage('not the vault\'s'));
  await mkdir(join(outside, 'deeper'));
  const first = await scanVault(vault, {}, undefined);
  const index: Record<string, IndexEntry> = {};
  for (const f of first.files.values()) index[f.path] = { path: f.path, size: f.size, mtimeMs: f.mtimeMs, sha256: f.sha256, etag: 'e' };
  expect(Object.keys(index).sort()).toEqual(['docs/a.kenv', 'docs/b.kenv', 'docs/deeper/c.kenv']);
  return { vault, outside, index };
}

it('a folder replaced by a link after its parent was listed is held as changed, never read through', async () => {
  const { vault, outside, index } = await world();
  hooks.beforeReaddir.set(join(vault, 'docs'), async () => {
    await rename(join(vault, 'docs'), join(vault, 'docs.old'));
    await symlink(outside, join(vault, 'docs'));
  });
  const scan = await scanVault(vault, index, undefined);
  expect([...scan.files.keys()].filter((p) => p.startsWith('docs/'))).toEqual([]);
  // Held: the index's docs/* are left alone by the plan, as for a link found before the scan.
  expect(scan.barriers.has('docs')).toBe(true);
  expect(scan.unreadable).toEqual([expect.objectContaining({ path: 'docs/', code: 'INPUT_UNREADABLE', message: expect.stringMatching(/changed while/) })]);
});

it('a folder whose parent is replaced by a link before the folder is listed is held as changed too', async () => {
  const { vault, outside, index } = await world();
  hooks.beforeReaddir.set(join(vault, 'docs', 'deeper'), async () => {
    await rename(join(vault, 'docs'), join(vault, 'docs.old'));
    await symlink(outside, join(vault, 'docs'));
  });
  const scan = await scanVault(vault, index, undefined);
  expect(scan.files.has('docs/deeper/c.kenv')).toBe(false);
  expect(scan.barriers.has('docs/deeper')).toBe(true);
});

it('a folder left alone is scanned as before', async () => {
  const { vault, index } = await world();
  const scan = await scanVault(vault, index, undefined);
  expect([...scan.files.keys()].sort()).toEqual(['docs/a.kenv', 'docs/b.kenv', 'docs/deeper/c.kenv']);
  expect(scan.unreadable).toEqual([]);
});
