// A listing that leaves objects out (a server whose IsTruncated lies, or that answers an empty listing) against a real
// S3-compatible server: a local file is moved to .kenv-trash only when its object is really gone, never because a
// listing did not name it; and the mirror: an object is deleted only while its local file is still gone.
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { writeKenv } from '../../support/kenv-fixtures.js';
import { localFiles, putRemote, readLocal, remoteKey, remoteKeys, syncedVault, useSyncWorld } from './helpers.js';

/** Paths lstat finds at another name, as a case-insensitive file system (macOS, Windows) finds `F.kenv` for `f.kenv`. */
const folded = vi.hoisted(() => new Map<string, string>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const mocked = { ...real, lstat: ((path: string, options?: object) => real.lstat(folded.get(String(path)) ?? path, options as never)) as typeof real.lstat };
  return { ...mocked, default: mocked };
});

const world = useSyncWorld();

/**
 * The client, with every ListObjectsV2 answer missing the keys `hide` picks (and saying it is complete); `listed` runs
 * after each listing's answer came and before it is returned.
 */
function hiding(s3: S3Client, hide: (key: string) => boolean, listed?: () => Promise<unknown>): S3Client {
  return {
    send: async (command: unknown, options?: unknown) => {
      const out = await (s3.send as (c: unknown, o?: unknown) => Promise<Record<string, unknown>>)(command, options);
      if (!(command instanceof ListObjectsV2Command)) return out;
      await listed?.();
      const contents = (out.Contents as { Key?: string }[] | undefined) ?? [];
      return { ...out, Contents: contents.filter((o) => !hide(o.Key ?? '')) };
    },
  } as unknown as S3Client;
}

it('a listing that leaves out objects still there trashes none of their local files, and the index keeps them', async () => {
  const { remote, vault, sync } = await syncedVault(world, 12);
  const index = await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8');
  // 3 of 12: under the mass-deletion guard's threshold, so only the engine's own check stands in the way.
  const hidden = new Set(['f1.kenv', 'f5.kenv', 'f9.kenv']);
  const liar = await world.syncer(vault, remote, { s3: hiding(world.s3, (key) => hidden.has(key.slice(key.lastIndexOf('/') + 1))) });
  const report = await liar.sync();
  expect(report.plan.deleteLocal.map((d) => d.path).sort()).toEqual([...hidden].sort());
  expect(report.deletedLocal).toEqual([]);
  expect(report.failed.map((f) => [f.path, f.code])).toEqual([...hidden].sort().map((p) => [p, 'SYNC_REMOTE_CHANGED']));
  expect(report.failed[0]!.message).toMatch(/listing.*left.*out.*kept/i);
  expect(await localFiles(vault)).toHaveLength(12);
  expect(await localFiles(join(vault, '.kenv-trash')).catch(() => [])).toEqual([]);
  expect(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8')).toBe(index);
  // With an honest listing, nothing to do.
  const again = await sync.sync();
  expect(again.failed).toEqual([]);
  expect(again.unchanged).toBe(12);
  expect(await remoteKeys(world.s3, remote)).toHaveLength(12);
});

it('an empty listing, even with every deletion allowed, trashes nothing while the objects are there', async () => {
  const { remote, vault } = await syncedVault(world, 8);
  const liar = await world.syncer(vault, remote, { s3: hiding(world.s3, () => true) });
  await expect(liar.sync()).rejects.toMatchObject({ code: 'SYNC_MASS_DELETE' });
  const report = await liar.sync({ maxDeletePercent: 100 });
  expect(report.deletedLocal).toEqual([]);
  expect(report.failed).toHaveLength(8);
  expect(await localFiles(vault)).toHaveLength(8);
  expect(await remoteKeys(world.s3, remote)).toHaveLength(8);
});

it('an object left out of the listing but rewritten since is kept locally, and arrives on the next sync', async () => {
  const { remote, vault, sync } = await syncedVault(world, 6);
  const before = await readLocal(vault, 'f2.kenv');
  // Another machine writes f2 after the listing was answered and before the deletion would run.
  const newer = await writeKenv(await world.newVault(), 'f2.kenv', 'rewritten');
  const liar = await world.syncer(vault, remote, { s3: hiding(world.s3, (key) => key.endsWith('/f2.kenv'), () => putRemote(world.s3, remote, 'f2.kenv', newer)) });
  const report = await liar.sync();
  expect(report.deletedLocal).toEqual([]);
  expect(await readLocal(vault, 'f2.kenv')).toEqual(before);
  const again = await sync.sync();
  expect(again.downloaded).toEqual(['f2.kenv']);
  expect(await readLocal(vault, 'f2.kenv')).toEqual(newer);
});

it('an object really deleted is still followed: its local file goes to .kenv-trash', async () => {
  const { remote, vault, sync } = await syncedVault(world, 6);
  const bytes = await readLocal(vault, 'f3.kenv');
  await world.s3.send(new DeleteObjectCommand(remoteKey(remote, 'f3.kenv')));
  const report = await sync.sync();
  expect(report.failed).toEqual([]);
  expect(report.deletedLocal).toEqual(['f3.kenv']);
  expect(await readLocal(vault, '.kenv-trash/f3.kenv')).toEqual(bytes);
});

it('a local file back in its place after the scan missed it keeps its object on S3', async () => {
  // The scan's view is as old as the scan: an editor that moves the old file away and writes the new one, or a
  // folder renamed and renamed back, can hide a file from it for a moment.
  const { remote, vault, sync } = await syncedVault(world, 4);
  const bytes = await readLocal(vault, 'f0.kenv');
  await rm(join(vault, 'f0.kenv'));
  sync.on('plan', () => writeFileSync(join(vault, 'f0.kenv'), bytes));
  const report = await sync.sync();
  expect(report.plan.deleteRemote.map((d) => d.path)).toEqual(['f0.kenv']);
  expect(report.deletedRemote).toEqual([]);
  expect(report.failed).toEqual([expect.objectContaining({ path: 'f0.kenv', code: 'SYNC_LOCAL_CHANGED' })]);
  expect(await remoteKeys(world.s3, remote)).toContain('f0.kenv');
  const again = await sync.sync();
  expect(again.failed).toEqual([]);
  expect(again.unchanged).toBe(4);
});

it('a rename of the case only, on a file system that ignores case, is still followed on S3', async () => {
  const { remote, vault, sync } = await syncedVault(world, 4);
  await rename(join(vault, 'f0.kenv'), join(vault, 'F0.kenv'));
  folded.set(join(vault, 'f0.kenv'), join(vault, 'F0.kenv'));
  try {
    const report = await sync.sync();
    expect(report.failed).toEqual([]);
    expect(report.deletedRemote).toEqual(['f0.kenv']);
    expect(await remoteKeys(world.s3, remote)).not.toContain('f0.kenv');
  } finally {
    folded.clear();
  }
});
