// "Racy git": a second write in the same tick of the file system's clock as the one a scan saw leaves the file's size
// and time as they were (FAT keeps times in 2-second steps, HFS+ in seconds). The index must not vouch for such a file
// by its size and time: the next scan reads it again, and a changed file is uploaded instead of being taken as
// unchanged (and later replaced by a download, with the edit lost).
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { MIN_PART_SIZE } from '../../../electron/core/sync/transfer.js';
import type { SyncIndex } from '../../../electron/core/sync/types.js';
import { SMUDGED_MTIME } from '../../../electron/core/sync/types.js';
import { kenvMessage, writeKenv } from '../../support/kenv-fixtures.js';
import { remoteBytes, useSyncWorld } from './helpers.js';

const world = useSyncWorld();

/** Sets the access and modification time of `path` to `ms` (milliseconds since the epoch). */
const setTime = (path: string, ms: number) => utimes(path, ms / 1000, ms / 1000);

/**
 * A coarse file system's time (a whole second) for a file written now, set ahead so that the scan cannot be past it
 * however loaded the machine: a time in the future is as racy as one just now.
 */
const coarseNow = () => Math.ceil(Date.now() / 1000) * 1000 + 30_000;

const HOUR = 3_600_000;

/** The index the vault's last sync wrote. */
const indexOf = async (vault: string): Promise<SyncIndex> => JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));

it('a write of the same size that leaves the time the last scan saw is uploaded by the next sync', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  const file = join(vault, 'doc.kenv');
  await writeKenv(vault, 'doc.kenv', 'version one');
  const tick = coarseNow();
  await setTime(file, tick);
  const sync = await world.syncer(vault, remote);
  expect((await sync.sync()).uploaded).toEqual(['doc.kenv']);

  // The edit lands in the same tick: same size (same plaintext length), same time.
  const edited = await kenvMessage('version two');
  await writeFile(file, edited);
  await setTime(file, tick);
  expect((await stat(file)).mtimeMs).toBe(tick);

  const report = await sync.sync();
  expect(report.uploaded).toEqual(['doc.kenv']);
  expect(report.failed).toEqual([]);
  expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(edited);
});

it('records a file changed long before the scan with its time, and a racy one smudged until its time has settled', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  await writeKenv(vault, 'old.kenv', 'written an hour ago');
  await writeKenv(vault, 'new.kenv', 'written just now');
  await setTime(join(vault, 'old.kenv'), Date.now() - HOUR);
  await setTime(join(vault, 'new.kenv'), coarseNow());
  const sync = await world.syncer(vault, remote);
  expect((await sync.sync()).uploaded).toEqual(['new.kenv', 'old.kenv']);
  let index = await indexOf(vault);
  const oldTime = (await stat(join(vault, 'old.kenv'))).mtimeMs;
  expect(index.entries['old.kenv']?.mtimeMs).toBe(oldTime);
  expect(index.entries['new.kenv']?.mtimeMs).toBe(SMUDGED_MTIME);

  // Time goes by, nothing is written: the next sync reads the file again, finds the same bytes, and records its time.
  await setTime(join(vault, 'new.kenv'), Date.now() - HOUR);
  const report = await sync.sync();
  expect(report.uploaded).toEqual([]);
  expect(report.downloaded).toEqual([]);
  index = await indexOf(vault);
  expect(index.entries['new.kenv']?.mtimeMs).toBe((await stat(join(vault, 'new.kenv'))).mtimeMs);
  expect(index.entries['old.kenv']?.mtimeMs).toBe(oldTime);

  // Touched again (same bytes, a time just now): nothing to send, and the entry is smudged again, not trusted.
  await setTime(join(vault, 'old.kenv'), coarseNow());
  const touched = await sync.sync();
  expect(touched.uploaded).toEqual([]);
  expect(touched.unchanged).toBe(2);
  index = await indexOf(vault);
  expect(index.entries['old.kenv']?.mtimeMs).toBe(SMUDGED_MTIME);
});

it('a file large enough for a multipart upload, changed just now, is recorded smudged too', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  // Over MIN_PART_SIZE: sent in parts, recorded from the completed upload.
  await writeKenv(vault, 'large.kenv', Buffer.alloc(MIN_PART_SIZE + 1024 * 1024, 7));
  await setTime(join(vault, 'large.kenv'), coarseNow());
  const sync = await world.syncer(vault, remote);
  expect((await sync.sync()).uploaded).toEqual(['large.kenv']);
  expect((await indexOf(vault)).entries['large.kenv']?.mtimeMs).toBe(SMUDGED_MTIME);
});
