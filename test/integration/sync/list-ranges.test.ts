// The ranged listing against a real S3-compatible server (s3rver behind our proxy, and moto): the server honours
// StartAfter and MaxKeys as S3 does, so the ranges are used (no listing again from the start), and they hold every
// key exactly once after keys were added and removed around the ranges' bounds.
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachLimit } from '../../../electron/core/sync/pool.js';
import { LIST_RANGES, PAGE_KEYS, listRemote } from '../../../electron/core/sync/remote.js';
import { remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';
import { timeLimit } from '../../support/timeouts.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

/** The client, recording the input of every ListObjectsV2 it sends. */
function recording(s3: S3Client) {
  const lists: ListObjectsV2Command['input'][] = [];
  const client = {
    send: (command: unknown, options?: unknown) => {
      if (command instanceof ListObjectsV2Command) lists.push(command.input);
      return (s3.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
    },
  } as unknown as S3Client;
  return { client, lists };
}

it('lists a prefix of 2,100 keys in ranges on the server, and after changes around the bounds finds exactly what is there', async () => {
  const remote = world.newRemote();
  const prefix = `${remote.slice(`s3://${world.bucket}/`.length)}/`;
  const paths = Array.from({ length: 2_100 }, (_, i) => `d${String(i % 7)}/f${String(i).padStart(5, '0')}.kenv`);
  const put = (path: string) => world.s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: prefix + path, Body: path }));
  await forEachLimit(paths, 16, async (path) => {
    await put(path);
  });

  const first = recording(world.s3);
  const listed = await listRemote(first.client, world.bucket, prefix, undefined, paths);
  expect([...listed.objects.keys()].sort()).toEqual([...paths].sort());
  expect(listed.objects.size).toBe(paths.length);
  // Three pages' worth, in two ranges (the last to the end), each started after its bound: no listing again.
  expect(first.lists).toHaveLength(Math.ceil(paths.length / PAGE_KEYS));
  expect(first.lists.filter((l) => l.StartAfter !== undefined)).toHaveLength(Math.min(LIST_RANGES, Math.ceil(paths.length / PAGE_KEYS)) - 1);

  // The first range's bound (the 1,000th key in S3's order) removed, and keys added just before and after it.
  const sorted = [...paths].sort();
  const bound = sorted[PAGE_KEYS - 1]!;
  await world.s3.send(new DeleteObjectCommand({ Bucket: world.bucket, Key: prefix + bound }));
  const added = [`${bound.slice(0, -'.kenv'.length)}-a.kenv`, `${sorted[PAGE_KEYS - 2]!.slice(0, -'.kenv'.length)}-b.kenv`, 'zz/last.kenv', '0/first.kenv'];
  await Promise.all(added.map(put));
  const again = recording(world.s3);
  const relisted = await listRemote(again.client, world.bucket, prefix, undefined, paths);
  expect([...relisted.objects.keys()].sort()).toEqual(await remoteKeys(world.s3, remote));
  expect(relisted.objects.has(bound)).toBe(false);
  for (const a of added) expect(relisted.objects.has(a)).toBe(true);
  expect(again.lists.every((l) => l.StartAfter !== undefined || l.ContinuationToken !== undefined || l === again.lists[0])).toBe(true);
  // 2,100 PUTs are the work, on moto ~6 ms of its one core each: 58 s in a full run at a load of 12 on 2 cores (the
  // 60 s default), 165 s alone beside a full run, and past 180 s in a full run beside other test loops.
}, timeLimit(300_000));
