// Sync stays inside the vault (issue 8, part 6): each test plays a hostile or careless bucket writer, or a vault
// folder holding links, against a real S3-compatible server (s3rver behind the enforcing proxy).
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kenvMessage, writeKenv } from '../support/kenv-fixtures.js';
import { localFiles, readLocal, remoteKeys, startSyncWorld, syncedVault, type SyncWorld } from '../integration/sync/helpers.js';

let world: SyncWorld;
let outside: string;
beforeAll(async () => {
  world = await startSyncWorld();
  outside = await mkdtemp(join(tmpdir(), 'kenv-outside-'));
});
afterAll(async () => {
  await world?.close();
  if (outside) await rm(outside, { recursive: true, force: true });
});

/** An object written by someone else (another machine, a script) straight into the bucket. */
async function putRemote(remote: string, path: string, body: Buffer): Promise<void> {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  const sha256 = createHash('sha256').update(body).digest('hex');
  await world.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${path}`, Body: body, Metadata: { 'kenv-sha256': sha256 } }));
}

async function deleteRemote(remote: string, path: string): Promise<void> {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  await world.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}/${path}` }));
}

async function freshOutside(): Promise<string> {
  const dir = join(outside, String(Math.random()).slice(2));
  await mkdir(dir);
  return dir;
}

describe('sync never writes through a symbolic link', () => {
  it('a remote object under a folder that is a link out of the vault is not written outside, nor deleted from S3 later', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const elsewhere = await freshOutside();
    await symlink(elsewhere, join(vault, 'shared'), 'dir');
    await putRemote(remote, 'shared/x.kenv', await kenvMessage('from another machine'));
    const sync = await world.syncer(vault, remote);

    const first = await sync.sync();
    expect(await readdir(elsewhere)).toEqual([]);
    expect(first.downloaded).toEqual([]);
    expect(first.skipped).toContainEqual({ path: 'shared', reason: 'symlink' });
    expect(first.skipped).toContainEqual(expect.objectContaining({ path: 'shared/x.kenv', reason: 'local-name-taken' }));
    expect(first.skipped.filter((s) => s.path === 'shared')).toHaveLength(1);

    const second = await sync.sync();
    expect(second.deletedRemote).toEqual([]);
    expect(await remoteKeys(world.s3, remote)).toEqual(['shared/x.kenv']);
  });

  it('a file synced before, whose folder became a link since, is neither written through the link nor deleted from S3', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'docs/a.kenv', 'a');
    const sync = await world.syncer(vault, remote);
    expect((await sync.sync()).uploaded).toEqual(['docs/a.kenv']);
    const elsewhere = await freshOutside();
    await rm(join(vault, 'docs'), { recursive: true });
    await symlink(elsewhere, join(vault, 'docs'), 'dir');
    await putRemote(remote, 'docs/a.kenv', await kenvMessage('a, edited elsewhere'));

    const report = await sync.sync();
    expect(report.failed).toEqual([]);
    expect(report.deletedRemote).toEqual([]);
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await remoteKeys(world.s3, remote)).toEqual(['docs/a.kenv']);
  });

  it('a linked .kenv beside a remote object of the same name is reported, never turned into a conflict copy', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const elsewhere = await freshOutside();
    await writeKenv(elsewhere, 'target.kenv', 'outside the vault');
    await symlink(join(elsewhere, 'target.kenv'), join(vault, 'x.kenv'));
    await putRemote(remote, 'x.kenv', await kenvMessage('remote x'));
    const sync = await world.syncer(vault, remote);
    for (let run = 0; run < 3; run++) {
      const report = await sync.sync();
      expect(report.conflicts).toEqual([]);
      expect(report.uploaded).toEqual([]);
      expect(report.skipped).toContainEqual({ path: 'x.kenv', reason: 'symlink' });
    }
    expect(await readdir(vault)).toEqual(expect.arrayContaining(['x.kenv']));
    expect((await readdir(vault)).filter((n) => n.includes('conflict'))).toEqual([]);
    expect(await remoteKeys(world.s3, remote)).toEqual(['x.kenv']);
    expect((await lstat(join(vault, 'x.kenv'))).isSymbolicLink()).toBe(true);
  });

  it('links inside the vault are neither uploaded nor followed, and reported once', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'real/a.kenv', 'a');
    await symlink(join(vault, 'real'), join(vault, 'again'), 'dir');
    await symlink(join(vault, 'real', 'a.kenv'), join(vault, 'alias.kenv'));
    const report = await (await world.syncer(vault, remote)).sync();
    expect(report.uploaded).toEqual(['real/a.kenv']);
    expect(report.skipped.filter((s) => s.reason === 'symlink').map((s) => s.path)).toEqual(['again', 'alias.kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual(['real/a.kenv']);
  });

  it('a .kenv-trash link out of the vault: a remote deletion moves nothing outside', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const sync = await world.syncer(vault, remote);
    await sync.sync();
    const elsewhere = await freshOutside();
    await symlink(elsewhere, join(vault, '.kenv-trash'), 'dir');
    await deleteRemote(remote, 'a.kenv');
    const report = await sync.sync();
    expect(report.failed).toEqual([expect.objectContaining({ path: 'a.kenv', code: 'SYNC_UNSAFE_PATH' })]);
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await localFiles(vault)).toEqual(['a.kenv']);
  });

  it('a .kenv-sync link out of the vault stops the sync before it writes anything there', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const elsewhere = await freshOutside();
    await symlink(elsewhere, join(vault, '.kenv-sync'), 'dir');
    await expect((await world.syncer(vault, remote)).sync()).rejects.toMatchObject({ code: 'SYNC_UNSAFE_PATH' });
    expect(await readdir(elsewhere)).toEqual([]);
  });
});

describe('names the remote side cannot carry back', () => {
  it('a local name the listing would reject is never uploaded, so never trashed by the next sync', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'back\\slash.kenv', 'b');
    await writeKenv(vault, 'C:/drive.kenv', 'c');
    await writeKenv(vault, 'con.kenv', 'device');
    await writeKenv(vault, 'ok.kenv', 'ok');
    const sync = await world.syncer(vault, remote);
    const first = await sync.sync();
    expect(first.uploaded).toEqual(['ok.kenv']);
    expect(first.skipped.filter((s) => s.reason === 'unsafe-name').map((s) => s.path).sort()).toEqual(['C:', 'back\\slash.kenv', 'con.kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual(['ok.kenv']);
    const second = await sync.sync();
    expect(second.deletedLocal).toEqual([]);
    for (const name of ['C:/drive.kenv', 'back\\slash.kenv', 'con.kenv', 'ok.kenv']) expect((await lstat(join(vault, name))).isFile()).toBe(true);
  });

  it('keys that would land in Kenv folders under another case, or as devices or streams, are ignored', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const body = await kenvMessage('hostile');
    for (const key of ['.KENV-SYNC/index.kenv', '.Kenv-Trash/x.kenv', 'a/con.kenv', 'a.kenv:stream.kenv', 'tab\there.kenv']) {
      await putRemote(remote, key, body);
    }
    const report = await (await world.syncer(vault, remote)).sync();
    expect(report.downloaded).toEqual([]);
    expect(report.skipped.filter((s) => s.reason === 'unsafe-remote-key')).toHaveLength(5);
    expect(await localFiles(vault, true)).toEqual(['.kenv-sync/index.json']);
  });
});

describe('names that are one file on macOS and Windows', () => {
  it('remote keys differing only in case or Unicode form end in one conflict copy, not one more every run', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const upper = await kenvMessage('upper');
    const lower = await kenvMessage('lower');
    await putRemote(remote, 'Report.kenv', upper);
    await putRemote(remote, 'report.kenv', lower);
    await putRemote(remote, 'caf\u00e9.kenv', await kenvMessage('composed'));
    await putRemote(remote, 'cafe\u0301.kenv', await kenvMessage('decomposed'));
    const sync = await world.syncer(vault, remote);
    const first = await sync.sync();
    expect(first.failed).toEqual([]);
    expect(first.conflicts.map((c) => c.path).sort()).toEqual(['Report.kenv', 'cafe\u0301.kenv']);
    const copy = first.conflicts.find((c) => c.path === 'Report.kenv')!.conflictCopy;
    expect(copy).toMatch(/^Report \(conflict .*\)\.kenv$/);
    expect(await readLocal(vault, 'Report.kenv')).toEqual(upper);
    expect(await readLocal(vault, copy)).toEqual(lower);
    const keys = await remoteKeys(world.s3, remote);
    expect(keys).toHaveLength(4);
    expect(keys).not.toContain('report.kenv');
    for (let run = 0; run < 2; run++) {
      const again = await sync.sync();
      expect(again.conflicts).toEqual([]);
      expect(again.uploaded.length + again.downloaded.length + again.deletedLocal.length + again.deletedRemote.length).toBe(0);
    }
    expect(await localFiles(vault)).toHaveLength(4);
    expect(await remoteKeys(world.s3, remote)).toEqual(keys);
  });

  it('a local file differing only in case from another is reported and never uploaded', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'Notes.kenv', 'N');
    await writeKenv(vault, 'notes.kenv', 'n');
    const sync = await world.syncer(vault, remote);
    for (let run = 0; run < 2; run++) {
      const report = await sync.sync();
      expect(report.skipped).toContainEqual(expect.objectContaining({ path: 'notes.kenv', reason: 'unsafe-name' }));
    }
    expect(await remoteKeys(world.s3, remote)).toEqual(['Notes.kenv']);
    expect(await localFiles(vault)).toEqual(['Notes.kenv', 'notes.kenv']);
  });
});

describe('the mass-deletion guard', () => {
  it('a prefix emptied by someone else stops the sync before it trashes the vault', async () => {
    const { remote, vault, sync } = await syncedVault(world, 8);
    for (let i = 0; i < 8; i++) await deleteRemote(remote, `f${i}.kenv`);
    await expect(sync.sync()).rejects.toMatchObject({ code: 'SYNC_MASS_DELETE', message: expect.stringMatching(/8 of the vault folder's 8 files.*--max-delete/) });
    expect(await localFiles(vault)).toHaveLength(8);
    expect(sync.status).toMatchObject({ state: 'error', errors: [expect.objectContaining({ code: 'SYNC_MASS_DELETE' })] });
    const allowed = await sync.sync({ maxDeletePercent: 100 });
    expect(allowed.deletedLocal).toHaveLength(8);
    expect(await localFiles(vault)).toEqual([]);
  });

  it('an emptied vault folder stops the sync before it deletes the objects on S3', async () => {
    const { remote, vault, sync } = await syncedVault(world, 7);
    for (let i = 0; i < 7; i++) await rm(join(vault, `f${i}.kenv`));
    await expect(sync.sync()).rejects.toMatchObject({ code: 'SYNC_MASS_DELETE' });
    expect(await remoteKeys(world.s3, remote)).toHaveLength(7);
  });

  it('lets through deletions of half the files or fewer, and of 5 files or fewer', async () => {
    const { remote, sync } = await syncedVault(world, 12);
    for (let i = 0; i < 6; i++) await deleteRemote(remote, `f${i}.kenv`);
    expect((await sync.sync()).deletedLocal).toHaveLength(6);
    const small = await syncedVault(world, 5);
    for (let i = 0; i < 5; i++) await deleteRemote(small.remote, `f${i}.kenv`);
    expect((await small.sync.sync()).deletedLocal).toHaveLength(5);
  });
});
