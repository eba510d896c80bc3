// Two-way vault sync against a real S3-compatible server (s3rver behind our enforcing proxy).
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKenv } from '../../support/kenv-fixtures.js';
import { localFiles, readLocal, remoteBytes, remoteKeys, remoteMetadata, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Two "machines" bound to one fresh prefix, both synced once with `files` created on the first. */
async function twoMachines(files: Record<string, string>) {
  const remote = world.newRemote();
  const a = await world.newVault();
  const b = await world.newVault();
  for (const [path, text] of Object.entries(files)) await writeKenv(a, path, text);
  const syncA = await world.syncer(a, remote);
  const syncB = await world.syncer(b, remote);
  expect((await syncA.sync()).failed).toEqual([]);
  expect((await syncB.sync()).failed).toEqual([]);
  return { remote, a, b, syncA, syncB };
}

describe('vault sync', () => {
  it('first sync uploads every .kenv file with its SHA-256 in metadata and writes the index', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const one = await writeKenv(vault, 'one.kenv', 'first');
    await writeKenv(vault, 'folder/deeper/two.kenv', 'second');
    const sync = await world.syncer(vault, remote);
    const report = await sync.sync();
    expect(report.failed).toEqual([]);
    expect(report.uploaded.sort()).toEqual(['folder/deeper/two.kenv', 'one.kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual(['folder/deeper/two.kenv', 'one.kenv']);
    expect(await remoteBytes(world.s3, remote, 'one.kenv')).toEqual(one);
    expect((await remoteMetadata(world.s3, remote, 'one.kenv'))['kenv-sha256']).toBe(sha256(one));
    const index = JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
    expect(Object.keys(index.entries).sort()).toEqual(['folder/deeper/two.kenv', 'one.kenv']);
    expect(index.entries['one.kenv'].sha256).toBe(sha256(one));
    expect(sync.status.state).toBe('idle');
    expect(sync.status.lastSyncAt).toBeDefined();
  });

  it('a second sync with no changes transfers nothing', async () => {
    const { a, syncA } = await twoMachines({ 'x.kenv': 'x', 'y/z.kenv': 'z' });
    const before = { ...world.server.proxy.stats };
    const report = await syncA.sync();
    expect(report.uploaded.length + report.downloaded.length + report.conflicts.length).toBe(0);
    expect(report.unchanged).toBe(2);
    expect(world.server.proxy.stats.puts).toBe(before.puts);
    expect(world.server.proxy.stats.gets).toBe(before.gets);
    expect(await localFiles(a)).toEqual(['x.kenv', 'y/z.kenv']);
  });

  it('a local edit is uploaded over the synced version', async () => {
    const { remote, a, syncA } = await twoMachines({ 'doc.kenv': 'v1' });
    const v2 = await writeKenv(a, 'doc.kenv', 'v2');
    const report = await syncA.sync();
    expect(report.uploaded).toEqual(['doc.kenv']);
    expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(v2);
  });

  it('a remote edit from a second machine is downloaded', async () => {
    const { a, b, syncA, syncB } = await twoMachines({ 'doc.kenv': 'v1' });
    expect(await localFiles(b)).toEqual(['doc.kenv']);
    const v2 = await writeKenv(b, 'doc.kenv', 'v2 from b');
    expect((await syncB.sync()).uploaded).toEqual(['doc.kenv']);
    const report = await syncA.sync();
    expect(report.downloaded).toEqual(['doc.kenv']);
    expect(await readLocal(a, 'doc.kenv')).toEqual(v2);
    expect(await localFiles(a, true)).not.toContainEqual(expect.stringMatching(/^\.kenv-sync\/tmp\//));
  });

  it('both sides edited: a conflict, and both versions are kept on both machines', async () => {
    const { remote, a, b, syncA, syncB } = await twoMachines({ 'doc.kenv': 'v1' });
    const fromA = await writeKenv(a, 'doc.kenv', 'edited on a');
    const fromB = await writeKenv(b, 'doc.kenv', 'edited on b');
    expect((await syncA.sync()).uploaded).toEqual(['doc.kenv']);
    const report = await syncB.sync();
    expect(report.failed).toEqual([]);
    expect(report.conflicts).toHaveLength(1);
    const copy = report.conflicts[0]?.conflictCopy ?? '';
    expect(copy).toMatch(/^doc \(conflict \d{4}-\d{2}-\d{2} \d{6}\)\.kenv$/);
    expect(await readLocal(b, 'doc.kenv')).toEqual(fromB);
    expect(await readLocal(b, copy)).toEqual(fromA);
    expect(await remoteKeys(world.s3, remote)).toEqual([copy, 'doc.kenv'].sort());
    expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(fromB);
    await syncA.sync();
    expect(await readLocal(a, 'doc.kenv')).toEqual(fromB);
    expect(await readLocal(a, copy)).toEqual(fromA);
    const again = await syncB.sync();
    expect(again.uploaded.length + again.downloaded.length + again.conflicts.length).toBe(0);
  });

  it('a local deletion deletes the remote object', async () => {
    const { remote, a, syncA } = await twoMachines({ 'gone.kenv': 'bye', 'kept.kenv': 'hi' });
    await rm(join(a, 'gone.kenv'));
    const report = await syncA.sync();
    expect(report.deletedRemote).toEqual(['gone.kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual(['kept.kenv']);
  });

  it('a remote deletion moves the local file to .kenv-trash, never unlinking it', async () => {
    const { b, syncB, a, syncA } = await twoMachines({ 'gone.kenv': 'bye', 'kept.kenv': 'hi' });
    const bytes = await readLocal(b, 'gone.kenv');
    await rm(join(a, 'gone.kenv'));
    await syncA.sync();
    const report = await syncB.sync();
    expect(report.deletedLocal).toEqual(['gone.kenv']);
    expect(await localFiles(b)).toEqual(['kept.kenv']);
    expect(await readLocal(b, '.kenv-trash/gone.kenv')).toEqual(bytes);
  });

  it('a rename on one machine becomes a rename on the other', async () => {
    const { remote, a, b, syncA, syncB } = await twoMachines({ 'old/name.kenv': 'content' });
    const bytes = await readLocal(a, 'old/name.kenv');
    await rename(join(a, 'old/name.kenv'), join(a, 'new-name.kenv'));
    const report = await syncA.sync();
    expect(report.failed).toEqual([]);
    expect(report.uploaded).toEqual(['new-name.kenv']);
    expect(report.deletedRemote).toEqual(['old/name.kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual(['new-name.kenv']);
    await syncB.sync();
    expect(await localFiles(b)).toEqual(['new-name.kenv']);
    expect(await readLocal(b, 'new-name.kenv')).toEqual(bytes);
  });

  it('a download corrupted in transit is detected by its SHA-256 and fetched again', async () => {
    const remote = world.newRemote();
    const a = await world.newVault();
    const b = await world.newVault();
    const bytes = await writeKenv(a, 'secret.kenv', 'the real bytes');
    await (await world.syncer(a, remote)).sync();
    world.server.proxy.corruptNextGet((key) => key.endsWith('/secret.kenv'));
    const before = world.server.proxy.stats.corruptedGets;
    const report = await (await world.syncer(b, remote)).sync();
    expect(world.server.proxy.stats.corruptedGets).toBe(before + 1);
    expect(report.failed).toEqual([]);
    expect(report.downloaded).toEqual(['secret.kenv']);
    expect(await readLocal(b, 'secret.kenv')).toEqual(bytes);
  });

  it('a download corrupted twice fails with SYNC_CHECKSUM_MISMATCH and writes nothing', async () => {
    const remote = world.newRemote();
    const a = await world.newVault();
    const b = await world.newVault();
    await writeKenv(a, 'secret.kenv', 'the real bytes');
    await (await world.syncer(a, remote)).sync();
    world.server.proxy.corruptNextGet((key) => key.endsWith('/secret.kenv'));
    world.server.proxy.corruptNextGet((key) => key.endsWith('/secret.kenv'));
    const report = await (await world.syncer(b, remote)).sync();
    expect(report.failed).toMatchObject([{ path: 'secret.kenv', code: 'SYNC_CHECKSUM_MISMATCH' }]);
    expect(await localFiles(b, true)).toEqual(['.kenv-sync/index.json']);
  });

  it('plaintext in the vault folder is never uploaded, even named .kenv', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeFile(join(vault, 'notes.txt'), 'my password is hunter2');
    await writeFile(join(vault, 'looks-encrypted.kenv'), 'but is plaintext');
    await writeKenv(vault, 'real.kenv', 'ok');
    const report = await (await world.syncer(vault, remote)).sync();
    expect(report.uploaded).toEqual(['real.kenv']);
    expect(report.skipped).toEqual([
      { path: 'looks-encrypted.kenv', reason: 'invalid-kenv' },
      { path: 'notes.txt', reason: 'not-kenv' },
    ]);
    expect(await remoteKeys(world.s3, remote)).toEqual(['real.kenv']);
  });

  it('first sync of a non-empty folder with a non-empty prefix merges', async () => {
    const remote = world.newRemote();
    const a = await world.newVault();
    const b = await world.newVault();
    const shared = await writeKenv(a, 'shared.kenv', 'same');
    await writeKenv(a, 'only-a.kenv', 'a');
    await (await world.syncer(a, remote)).sync();
    await writeFile(join(b, 'shared.kenv'), shared);
    await writeKenv(b, 'only-b.kenv', 'b');
    const clash = await writeKenv(b, 'only-a.kenv', 'b has another one');
    const report = await (await world.syncer(b, remote)).sync();
    expect(report.failed).toEqual([]);
    expect(report.uploaded).toEqual(['only-b.kenv']);
    expect(report.conflicts.map((c) => c.path)).toEqual(['only-a.kenv']);
    expect(report.unchanged).toBe(1);
    expect(await readLocal(b, 'only-a.kenv')).toEqual(clash);
    expect(await remoteKeys(world.s3, remote)).toHaveLength(4);
  });

  it('two machines creating the same new file at once: no clobbering, both versions survive', async () => {
    const remote = world.newRemote();
    const a = await world.newVault();
    const b = await world.newVault();
    const fromA = await writeKenv(a, 'same-name.kenv', 'from a');
    const fromB = await writeKenv(b, 'same-name.kenv', 'from b');
    const syncA = await world.syncer(a, remote);
    const syncB = await world.syncer(b, remote);
    await Promise.all([syncA.sync(), syncB.sync()]);
    await syncA.sync();
    await syncB.sync();
    await syncA.sync();
    const all = await localFiles(a);
    expect(all).toEqual(await localFiles(b));
    const contents = await Promise.all(all.map((p) => readLocal(a, p)));
    expect(contents).toContainEqual(fromA);
    expect(contents).toContainEqual(fromB);
  });

  it('emits status events: scanning, syncing with counts, then idle', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    await writeKenv(vault, 'b.kenv', 'b');
    const sync = await world.syncer(vault, remote);
    const states: string[] = [];
    const counts: number[] = [];
    const off = sync.on('status', (s) => {
      states.push(s.state);
      counts.push(s.toUpload);
    });
    await sync.sync();
    off();
    expect(states[0]).toBe('scanning');
    expect(states).toContain('syncing');
    expect(states.at(-1)).toBe('idle');
    expect(Math.max(...counts)).toBe(2);
    expect(counts.at(-1)).toBe(0);
  });

  it('a sync that lost its index adopts identical files instead of reporting conflicts', async () => {
    const { remote, a } = await twoMachines({ 'x.kenv': 'x', 'y.kenv': 'y' });
    await rm(join(a, '.kenv-sync'), { recursive: true });
    const before = world.server.proxy.requests.length;
    const report = await (await world.syncer(a, remote)).sync();
    expect(report.failed).toEqual([]);
    expect(report.conflicts).toEqual([]);
    expect(report.unchanged).toBe(2);
    // Only the endpoint probe writes (under .kenv-sync/, as a first sync does): no file is uploaded again.
    const writes = world.server.proxy.requests.slice(before).filter((r) => r.method === 'PUT' || r.method === 'POST');
    expect(writes.filter((r) => !r.key.includes('/.kenv-sync/probe-'))).toEqual([]);
  });

  it('two syncs of one vault at once: the second is refused with SYNC_BUSY', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const one = await world.syncer(vault, remote);
    const two = await world.syncer(vault, remote);
    const results = await Promise.allSettled([one.sync(), two.sync()]);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toMatchObject({ code: 'SYNC_BUSY' });
    expect((await two.sync()).unchanged).toBe(1);
  });

  it('an upload whose connection drops mid-body is retried and lands intact', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const bytes = await writeKenv(vault, 'flaky.kenv', 'x'.repeat(100_000));
    const dropped = world.server.proxy.stats.droppedUploads;
    world.server.proxy.dropNextUpload(20_000, (key) => key.endsWith('/flaky.kenv'));
    const report = await (await world.syncer(vault, remote)).sync();
    expect(world.server.proxy.stats.droppedUploads).toBe(dropped + 1);
    expect(report.failed).toEqual([]);
    expect(await remoteBytes(world.s3, remote, 'flaky.kenv')).toEqual(bytes);
  });

  it('a multipart upload that keeps failing is kept for resuming, and aborted once its file is deleted', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const head = await writeKenv(vault, 'big.kenv', 'h');
    await writeFile(join(vault, 'big.kenv'), Buffer.concat([head, Buffer.alloc(20 * 1024 * 1024, 1)]));
    // Every attempt (the SDK makes three) at every part is cut: the file fails, its upload id stays in the index.
    for (let i = 0; i < 9; i++) world.server.proxy.dropNextUpload(1000, (key) => key.endsWith('/big.kenv'));
    const sync = await world.syncer(vault, remote, { concurrency: 1 });
    const first = await sync.sync();
    world.server.proxy.clearFaults();
    expect(first.failed).toMatchObject([{ path: 'big.kenv' }]);
    const index = JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
    const { uploadId, key } = index.uploads['big.kenv'] as { uploadId: string; key: string };
    const parts = () => world.s3.send(new ListPartsCommand({ Bucket: world.bucket, Key: key, UploadId: uploadId }));
    await parts();
    await rm(join(vault, 'big.kenv'));
    const second = await sync.sync();
    expect(second.failed).toEqual([]);
    const after = JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
    expect(after.uploads).toEqual({});
    await expect(parts()).rejects.toMatchObject({ name: 'NoSuchUpload' });
    expect(await remoteKeys(world.s3, remote)).toEqual([]);
  });

  it('a stopped sync fails with CANCELLED and uploads nothing; the next sync uploads', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const sync = await world.syncer(vault, remote);
    await expect(sync.sync({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(sync.status.state).toBe('error');
    expect(await remoteKeys(world.s3, remote)).toEqual([]);
    expect((await sync.sync()).uploaded).toEqual(['a.kenv']);
  });

  it('a sync of many files under one signal warns of no listener leak (each request in flight listens to it)', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    for (let i = 0; i < 30; i++) await writeKenv(vault, `f${i}.kenv`, `file ${i}`);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const sync = await world.syncer(vault, remote);
      const report = await sync.sync({ signal: new AbortController().signal });
      expect(report.uploaded).toHaveLength(30);
      // Node reports the warning on the next turn of the event loop.
      await new Promise((done) => setImmediate(done));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });

  it('a sync asked for during a dry run runs after it; a dry run during a sync shares it', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const sync = await world.syncer(vault, remote);
    const [dry, real] = await Promise.all([sync.plan(), sync.sync()]);
    expect(dry.dryRun).toBe(true);
    expect(dry.plan.upload.map((u) => u.path)).toEqual(['a.kenv']);
    expect(real.uploaded).toEqual(['a.kenv']);
    await writeKenv(vault, 'b.kenv', 'b');
    const [real2, dry2] = await Promise.all([sync.sync(), sync.plan()]);
    expect(dry2).toBe(real2);
    expect(real2.uploaded).toEqual(['b.kenv']);
  });
});
