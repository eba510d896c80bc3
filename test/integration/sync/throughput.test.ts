// What makes a sync fast, proved by behaviour: transfers overlap, and a sync with nothing to do writes nothing.
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SYNC_CONCURRENCY } from '../../../electron/core/sync/engine.js';
import { indexPath } from '../../../electron/core/sync/index-store.js';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { remoteKeys, settle, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

it('uploads as many small files at once as aws s3 does (10) by default', async () => {
  expect(DEFAULT_SYNC_CONCURRENCY).toBe(10);
  const remote = world.newRemote();
  const vault = await world.newVault();
  const sync = await world.syncer(vault, remote);
  // Bound first: the endpoint probe's own writes are not what is counted here.
  await sync.sync();
  for (let i = 0; i < 30; i++) await writeFile(join(vault, `f${i}.kenv`), await kenvMessage(`file ${i}`));
  // Each upload is held at the server until 10 are held at once (or 3 s passed): the most seen is how many
  // the sync had in flight.
  let held = 0;
  let most = 0;
  let release!: () => void;
  const enough = new Promise<void>((r) => (release = r));
  for (let i = 0; i < DEFAULT_SYNC_CONCURRENCY; i++) {
    world.server.proxy.beforeNext(
      (r) => r.method === 'PUT' && r.key.endsWith('.kenv') && !r.query.has('partNumber'),
      async () => {
        most = Math.max(most, ++held);
        if (held >= DEFAULT_SYNC_CONCURRENCY) release();
        await Promise.race([enough, new Promise((r) => setTimeout(r, 3000))]);
        held--;
      },
    );
  }
  const report = await sync.sync();
  expect(report.failed).toEqual([]);
  expect(report.uploaded).toHaveLength(30);
  expect(most).toBe(DEFAULT_SYNC_CONCURRENCY);
  expect((await remoteKeys(world.s3, remote)).filter((k) => k.endsWith('.kenv'))).toHaveLength(30);
});

it('leaves the index file untouched when a sync has nothing to do, and rewrites it when it did something', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  await writeFile(join(vault, 'a.kenv'), await kenvMessage('a'));
  // Changed long ago: a file changed just before the scan would be read again, and its time recorded, next time.
  await settle(vault, ['a.kenv']);
  const sync = await world.syncer(vault, remote);
  expect((await sync.sync()).uploaded).toEqual(['a.kenv']);
  // Every write of the index is a new file renamed into place: a new inode.
  const before = await stat(indexPath(vault));
  const noop = await sync.sync();
  expect(noop.unchanged).toBe(1);
  expect((await stat(indexPath(vault))).ino).toBe(before.ino);

  await writeFile(join(vault, 'b.kenv'), await kenvMessage('b'));
  expect((await sync.sync()).uploaded).toEqual(['b.kenv']);
  expect((await stat(indexPath(vault))).ino).not.toBe(before.ino);
});
