// A third writer changes an object between Kenv's read (the listing its plan comes from) and its write: the
// conditional request must be refused by the server (the proxy logs every 412/409 it passes on) and nothing may be
// clobbered. On moto these are S3's rules as someone else wrote them; on s3rver, our proxy's.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyRequest } from '../../support/s3-proxy.js';
import { kenvMessage, writeKenv } from '../../support/kenv-fixtures.js';
import { localFiles, putRemote, readLocal, remoteBytes, remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

/** A plain object request (not a part, not a listing) for `path`. */
const on = (method: string, path: string) => (r: ProxyRequest) =>
  r.method === method && r.key.endsWith(`/${path}`) && [...r.query.keys()].every((k) => k === 'x-id');

async function oneMachine(files: Record<string, string>) {
  const remote = world.newRemote();
  const vault = await world.newVault();
  for (const [path, text] of Object.entries(files)) await writeKenv(vault, path, text);
  const sync = await world.syncer(vault, remote);
  expect((await sync.sync()).failed).toEqual([]);
  return { remote, vault, sync };
}

function refusalsSince(n: number) {
  return world.server.proxy.refusals.slice(n).map((r) => ({ method: r.method, path: r.key.split('/').pop(), status: r.status }));
}

describe('a third writer between read and write', () => {
  it('update: the upload over the old version is refused (412), the third version survives, and both are kept next time', async () => {
    const { remote, vault, sync } = await oneMachine({ 'doc.kenv': 'v1' });
    const mine = await writeKenv(vault, 'doc.kenv', 'my edit');
    const theirs = await kenvMessage('the third writer');
    world.server.proxy.beforeNext(on('PUT', 'doc.kenv'), async () => {
      await putRemote(world.s3, remote, 'doc.kenv', theirs);
    });
    const seen = world.server.proxy.refusals.length;
    const report = await sync.sync();
    expect(refusalsSince(seen)).toEqual([{ method: 'PUT', path: 'doc.kenv', status: 412 }]);
    expect(report.failed).toMatchObject([{ path: 'doc.kenv', code: 'SYNC_REMOTE_CHANGED' }]);
    expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(theirs);
    expect(await readLocal(vault, 'doc.kenv')).toEqual(mine);

    const next = await sync.sync();
    expect(next.failed).toEqual([]);
    expect(next.conflicts).toHaveLength(1);
    const copy = next.conflicts[0]?.conflictCopy ?? '';
    expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(mine);
    expect(await remoteBytes(world.s3, remote, copy)).toEqual(theirs);
    expect(await readLocal(vault, copy)).toEqual(theirs);
  });

  it('delete: the delete of the old version is refused (412) and the third version survives, then comes back', async () => {
    const { remote, vault, sync } = await oneMachine({ 'doc.kenv': 'v1', 'other.kenv': 'o' });
    await rm(join(vault, 'doc.kenv'));
    const theirs = await kenvMessage('the third writer');
    world.server.proxy.beforeNext(on('DELETE', 'doc.kenv'), async () => {
      await putRemote(world.s3, remote, 'doc.kenv', theirs);
    });
    const seen = world.server.proxy.refusals.length;
    const report = await sync.sync();
    expect(refusalsSince(seen)).toEqual([{ method: 'DELETE', path: 'doc.kenv', status: 412 }]);
    expect(report.failed).toMatchObject([{ path: 'doc.kenv', code: 'SYNC_REMOTE_CHANGED' }]);
    expect(await remoteKeys(world.s3, remote)).toEqual(['doc.kenv', 'other.kenv']);
    expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(theirs);

    const next = await sync.sync();
    expect(next.failed).toEqual([]);
    expect(next.downloaded).toEqual(['doc.kenv']);
    expect(await readLocal(vault, 'doc.kenv')).toEqual(theirs);
  });

  it('download: fetching the planned version is refused (412) once it changed; the local file is untouched, the new one comes next time', async () => {
    const { remote, vault: a, sync: syncA } = await oneMachine({ 'doc.kenv': 'v1' });
    const b = await world.newVault();
    const syncB = await world.syncer(b, remote);
    expect((await syncB.sync()).failed).toEqual([]);
    const v1 = await readLocal(b, 'doc.kenv');
    await writeKenv(a, 'doc.kenv', 'v2 from a');
    expect((await syncA.sync()).uploaded).toEqual(['doc.kenv']);

    const theirs = await kenvMessage('the third writer');
    world.server.proxy.beforeNext(on('GET', 'doc.kenv'), async () => {
      await putRemote(world.s3, remote, 'doc.kenv', theirs);
    });
    const seen = world.server.proxy.refusals.length;
    const report = await syncB.sync();
    expect(refusalsSince(seen)).toEqual([{ method: 'GET', path: 'doc.kenv', status: 412 }]);
    expect(report.failed).toMatchObject([{ path: 'doc.kenv', code: 'SYNC_REMOTE_CHANGED' }]);
    expect(report.downloaded).toEqual([]);
    expect(await readLocal(b, 'doc.kenv')).toEqual(v1);
    expect(await localFiles(b, true)).toEqual(['.kenv-sync/index.json', 'doc.kenv']);

    const next = await syncB.sync();
    expect(next.failed).toEqual([]);
    expect(next.downloaded).toEqual(['doc.kenv']);
    expect(await readLocal(b, 'doc.kenv')).toEqual(theirs);
  });
});

describe('409 ConditionalRequestConflict (a conflicting operation in progress)', () => {
  it('an upload answered 409 is retried after checking the ETag, and lands', async () => {
    const { remote, vault, sync } = await oneMachine({ 'doc.kenv': 'v1', 'new.kenv': 'n' });
    const edit = await writeKenv(vault, 'doc.kenv', 'edited');
    const created = await writeKenv(vault, 'created.kenv', 'created');
    world.server.proxy.conflictNext(2, (k) => k.endsWith('/doc.kenv'));
    world.server.proxy.conflictNext(1, (k) => k.endsWith('/created.kenv'));
    const seen = world.server.proxy.refusals.length;
    const report = await sync.sync();
    expect(report.failed).toEqual([]);
    expect(report.uploaded).toEqual(['created.kenv', 'doc.kenv']);
    expect(refusalsSince(seen).filter((r) => r.status === 409)).toHaveLength(3);
    expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(edit);
    expect(await remoteBytes(world.s3, remote, 'created.kenv')).toEqual(created);
  });

  it('a delete answered 409 is retried', async () => {
    const { remote, vault, sync } = await oneMachine({ 'doc.kenv': 'v1', 'kept.kenv': 'k' });
    await rm(join(vault, 'doc.kenv'));
    world.server.proxy.conflictNext(1, (k) => k.endsWith('/doc.kenv'));
    const report = await sync.sync();
    expect(report.failed).toEqual([]);
    expect(report.deletedRemote).toEqual(['doc.kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual(['kept.kenv']);
  });

  it('a 409 after another writer changed the object is not retried over it: SYNC_REMOTE_CHANGED, theirs intact', async () => {
    const { remote, vault, sync } = await oneMachine({ 'doc.kenv': 'v1' });
    await writeKenv(vault, 'doc.kenv', 'mine');
    const theirs = await kenvMessage('theirs');
    world.server.proxy.beforeNext(on('PUT', 'doc.kenv'), async () => {
      await putRemote(world.s3, remote, 'doc.kenv', theirs);
    });
    world.server.proxy.conflictNext(1, (k) => k.endsWith('/doc.kenv'));
    const report = await sync.sync();
    expect(report.failed).toMatchObject([{ path: 'doc.kenv', code: 'SYNC_REMOTE_CHANGED' }]);
    expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(theirs);
  });

  it('a multipart upload whose completion is answered 409 starts over and lands', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const head = await kenvMessage('big');
    const big = Buffer.concat([head, Buffer.alloc(9 * 1024 * 1024, 3)]);
    await writeFile(join(vault, 'big.kenv'), big);
    const sync = await world.syncer(vault, remote);
    world.server.proxy.conflictNext(1, (k) => k.endsWith('/big.kenv'));
    const report = await sync.sync();
    expect(report.failed).toEqual([]);
    expect(report.uploaded).toEqual(['big.kenv']);
    expect(world.server.proxy.refusals.filter((r) => r.key.endsWith('/big.kenv') && r.status === 409)).toHaveLength(1);
    expect((await remoteBytes(world.s3, remote, 'big.kenv')).equals(big)).toBe(true);
  });
});
