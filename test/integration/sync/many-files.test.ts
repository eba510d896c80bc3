// 10,000 small files: a first sync uploads them all, a second one only lists and stats.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';
import { timeLimit } from '../../support/timeouts.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

it('syncs 10,000 small files across 100 folders, then a second sync transfers nothing', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  const bytes = await kenvMessage('small');
  for (let d = 0; d < 100; d++) {
    await mkdir(join(vault, `folder-${d}`));
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(vault, `folder-${d}`, `file-${f}.kenv`), bytes)));
  }
  // s3rver answers one request at a time per core: more transfers in flight keep it and the client busy.
  const sync = await world.syncer(vault, remote, { concurrency: 16 });
  const first = await sync.sync();
  expect(first.failed).toEqual([]);
  expect(first.uploaded).toHaveLength(10_000);
  expect(await remoteKeys(world.s3, remote)).toHaveLength(10_000);

  const puts = world.server.proxy.stats.puts;
  const second = await sync.sync();
  expect(second.unchanged).toBe(10_000);
  expect(second.uploaded.length + second.downloaded.length).toBe(0);
  expect(world.server.proxy.stats.puts).toBe(puts);
  // s3rver spends ~3 ms of its one core per upload (and our proxy's HEAD): 30-50 s here, more on a busy machine.
}, timeLimit(180_000));
