// Thousands of small files: a first sync uploads them all, a second one only lists and stats.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';
import { timeLimit } from '../../support/timeouts.js';

const FOLDERS = 100;
const FILES = manyFiles();

/**
 * 10,000 files, or KENV_TEST_MANY_FILES (`npm run coverage` sets 3,000).
 *
 * The test costs ~75 s of CPU at 10,000 files (s3rver, our proxy and the SDK, with or without coverage), which at the
 * load of a coverage run on two shared cores did not fit in 15 minutes. A smaller count must still run what this test
 * is for, so it is held to whole ListObjectsV2 pages of 1,000 (more than two) and whole index saves of 500, in 100
 * folders, as 10,000 has: the same statements and branches of electron/ run (measured, see the README).
 */
function manyFiles(): number {
  const raw = process.env.KENV_TEST_MANY_FILES;
  const n = raw === undefined || raw === '' ? 10_000 : Number(raw);
  if (!Number.isInteger(n) || n < 3_000 || n % 1_000 !== 0) {
    throw new Error(`KENV_TEST_MANY_FILES=${raw}: give a whole number of thousands, at least 3000 (more than two listing pages), or leave it unset for 10,000.`);
  }
  return n;
}

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

it(`syncs ${FILES.toLocaleString('en')} small files across ${FOLDERS} folders, then a second sync transfers nothing`, async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  const bytes = await kenvMessage('small');
  for (let d = 0; d < FOLDERS; d++) {
    await mkdir(join(vault, `folder-${d}`));
    await Promise.all(Array.from({ length: FILES / FOLDERS }, (_, f) => writeFile(join(vault, `folder-${d}`, `file-${f}.kenv`), bytes)));
  }
  // s3rver answers one request at a time per core: more transfers in flight keep it and the client busy.
  const sync = await world.syncer(vault, remote, { concurrency: 16 });
  const first = await sync.sync();
  expect(first.failed).toEqual([]);
  expect(first.uploaded).toHaveLength(FILES);
  expect(await remoteKeys(world.s3, remote)).toHaveLength(FILES);

  const puts = world.server.proxy.stats.puts;
  const second = await sync.sync();
  expect(second.unchanged).toBe(FILES);
  expect(second.uploaded.length + second.downloaded.length).toBe(0);
  expect(world.server.proxy.stats.puts).toBe(puts);
  // s3rver spends ~3 ms of its one core per upload (and our proxy's HEAD): 30-50 s here, more on a busy machine.
}, timeLimit(180_000));
