// The vault panel's service and handlers against a real S3-compatible server (s3rver behind the enforcing proxy).
import { readdir, rm, writeFile } from 'node:fs/promises';
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VaultState } from '../../../shared/vault.js';
import { SettingsStore } from '../../../electron/core/app/settings-store.js';
import { VaultSyncService } from '../../../electron/core/app/vault-sync-service.js';
import { makeApp, RecordingSink, recordingShell } from '../../support/app-services.js';
import { writeKenv } from '../../support/kenv-fixtures.js';
import { localFiles, readLocal, remoteKeys, startSyncWorld, type SyncWorld } from '../sync/helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

const disposables: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const d of disposables.splice(0)) await d();
});

/** The handlers over a service whose S3 client comes from the environment, as in the app. */
async function vaultApp(extra: Partial<ConstructorParameters<typeof VaultSyncService>[0]> = {}) {
  const userData = join((await makeApp()).dir, 'user-data');
  const settings = SettingsStore.inFolder(userData);
  const events = new RecordingSink();
  // A long poll: the test drives syncs with "Sync now", watch mode only adds its first sync.
  const shell = recordingShell();
  const vaults = new VaultSyncService({ settings, events, watch: { pollMs: 3_600_000, debounceMs: 50 }, trash: (path) => shell.trashItem(path), ...extra });
  disposables.push(() => vaults.dispose());
  const app = await makeApp({ settings, events, vaults, shell });
  const statuses = () => events.events.filter((e) => e.event === 'vault:status').map((e) => e.payload as VaultState);
  // The user picks the folder in the folder dialog: the only way the page may bind it.
  const chooseInDialog = async (folder: string) => {
    shell.chooseFolder = async () => folder;
    expect(await app.registry.invoke('dialog:chooseFolder', {})).toEqual({ ok: true, value: folder });
  };
  return { ...app, shell, settings, events, statuses, chooseInDialog };
}

describe('vault panel service', () => {
  it('bind, Sync now: the file is in the bucket and the status says idle with nothing pending', async () => {
    const app = await vaultApp();
    const vault = await world.newVault();
    const remote = world.newRemote();
    await writeKenv(vault, 'report.kenv', 'quarterly numbers');

    await app.chooseInDialog(vault);
    const bound = await app.registry.invoke('vault:bind', { folder: vault, remote });
    expect(bound).toMatchObject({ ok: true, value: { binding: { folder: vault, remote, paused: false } } });
    const synced = await app.registry.invoke('vault:syncNow', {});
    expect(synced).toMatchObject({ ok: true, value: { status: { state: 'idle', toUpload: 0, toDownload: 0, conflicts: 0, errors: [] }, conflicts: [] } });
    expect((synced as { value: VaultState }).value.status.lastSyncAt).toEqual(expect.any(String));
    expect(await remoteKeys(world.s3, remote)).toEqual(['report.kenv']);

    const last = app.statuses().at(-1);
    expect(last).toMatchObject({ binding: { folder: vault, remote }, status: { state: 'idle', toUpload: 0, toDownload: 0, errors: [] } });
    expect(app.statuses().some((s) => s.status.state === 'scanning' || s.status.state === 'syncing')).toBe(true);
  });

  it('lists a conflict with both names until the kept copy is removed', async () => {
    const app = await vaultApp();
    const vault = await world.newVault();
    const remote = world.newRemote();
    await writeKenv(vault, 'doc.kenv', 'v1');
    await app.chooseInDialog(vault);
    await app.registry.invoke('vault:bind', { folder: vault, remote });
    await app.registry.invoke('vault:syncNow', {});
    // Watch mode would sync the local edit before the other machine's upload lands; pause to order the edits.
    expect(await app.registry.invoke('vault:pause', {})).toMatchObject({ ok: true, value: { binding: { paused: true } } });

    const other = await world.newVault();
    const otherSync = await world.syncer(other, remote);
    expect((await otherSync.sync()).failed).toEqual([]);
    const mine = await writeKenv(vault, 'doc.kenv', 'edited here');
    const theirs = await writeKenv(other, 'doc.kenv', 'edited on the other machine');
    expect((await otherSync.sync()).uploaded).toEqual(['doc.kenv']);

    const result = await app.registry.invoke('vault:syncNow', {});
    expect(result).toMatchObject({ ok: true, value: { status: { state: 'idle' } } });
    const { conflicts } = (result as { value: VaultState }).value;
    // Both versions side by side, as they are on disk: size and time.
    const version = (bytes: Buffer) => ({ size: bytes.length, modifiedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(conflicts).toEqual([{ path: 'doc.kenv', conflictCopy: expect.stringMatching(/^doc \(conflict .*\)\.kenv$/), local: version(mine), other: version(theirs) }]);
    const copy = conflicts[0]!.conflictCopy;
    expect(await readLocal(vault, 'doc.kenv')).toEqual(mine);
    expect(await readLocal(vault, copy)).toEqual(theirs);
    expect(app.statuses().at(-1)?.conflicts).toEqual(conflicts);

    // Keeping this machine's version: delete the other copy, and the conflict leaves the list.
    await rm(join(vault, copy));
    const after = await app.registry.invoke('vault:syncNow', {});
    expect(after).toMatchObject({ ok: true, value: { conflicts: [], status: { state: 'idle' } } });
    expect(await localFiles(vault)).toEqual(['doc.kenv']);
  });

  it('a sync stopped by the mass-deletion guard shows why, and "Allow these deletions once" lets it through after the dialog', async () => {
    const asked: string[] = [];
    let answer = false;
    const app = await vaultApp({ confirmDeletions: async (message) => (asked.push(message), answer) });
    const vault = await world.newVault();
    const remote = world.newRemote();
    for (let i = 0; i < 8; i++) await writeKenv(vault, `f${i}.kenv`, `file ${i}`);
    await app.chooseInDialog(vault);
    expect(await app.registry.invoke('vault:bind', { folder: vault, remote })).toMatchObject({ ok: true });
    await app.registry.invoke('vault:pause', {});
    await app.registry.invoke('vault:syncNow', {});
    expect(await app.registry.invoke('vault:allowDeletions', {})).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });

    const prefix = remote.slice(`s3://${world.bucket}/`.length);
    const keys = await remoteKeys(world.s3, remote);
    await world.s3.send(new DeleteObjectsCommand({ Bucket: world.bucket, Delete: { Objects: keys.map((k) => ({ Key: `${prefix}/${k}` })) } }));
    const stopped = await app.registry.invoke('vault:syncNow', {});
    expect(stopped).toMatchObject({ ok: true, value: { status: { state: 'error', errors: [{ code: 'SYNC_MASS_DELETE', message: expect.stringContaining('8 of') }] } } });
    expect(await localFiles(vault)).toHaveLength(8);

    expect(await app.registry.invoke('vault:allowDeletions', {})).toMatchObject({ ok: true, value: { status: { state: 'error' } } });
    expect(asked).toHaveLength(1);
    expect(await localFiles(vault)).toHaveLength(8);
    answer = true;
    expect(await app.registry.invoke('vault:allowDeletions', {})).toMatchObject({ ok: true, value: { status: { state: 'idle', errors: [] } } });
    expect(await localFiles(vault)).toEqual([]);
  });

  it('a saved binding resumes after a restart, and unbind forgets it', async () => {
    const app = await vaultApp();
    const vault = await world.newVault();
    const remote = world.newRemote();
    await app.chooseInDialog(vault);
    await app.registry.invoke('vault:bind', { folder: vault, remote });
    await app.registry.invoke('vault:pause', {});
    await app.services.vaults.dispose();

    const restarted = new VaultSyncService({ settings: app.settings, events: new RecordingSink() });
    disposables.push(() => restarted.dispose());
    expect(await restarted.start()).toMatchObject({ binding: { folder: vault, remote, paused: true } });
    expect(await restarted.unbind()).toMatchObject({ binding: null });
    expect((await app.settings.get()).vaultBinding).toBeNull();
  });
});

describe('the vault as a place (issue 14)', () => {
  it('binds only after a first listing: a missing bucket and a denied listing are refused with the reason, nothing saved', async () => {
    let deny = false;
    const app = await vaultApp({
      s3Client: async () => {
        const client: S3Client = world.server.client();
        client.middlewareStack.add((next) => async (args) => {
          if (deny) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
          return next(args);
        }, { step: 'initialize', name: 'denyAll' });
        return client;
      },
    });
    const vault = await world.newVault();
    await app.chooseInDialog(vault);
    expect(await app.registry.invoke('vault:bind', { folder: vault, remote: 's3://no-such-bucket/team' })).toMatchObject({
      ok: false, error: { code: 'S3_NO_SUCH_BUCKET', message: expect.stringMatching(/^The folder was not bound: The bucket does not exist/) },
    });
    deny = true;
    expect(await app.registry.invoke('vault:bind', { folder: vault, remote: world.newRemote() })).toMatchObject({
      ok: false, error: { code: 'S3_ACCESS_DENIED', message: expect.stringMatching(/^The folder was not bound: S3 denied access/) },
    });
    expect((await app.settings.get()).vaultBinding ?? null).toBeNull();
    expect(await app.registry.invoke('vault:get', {})).toMatchObject({ ok: true, value: { binding: null } });
    // Nothing was written into the folder either.
    expect(await readdir(vault)).toEqual([]);
  });

  it('lists the files with their state: plaintext found in the folder is named, not "Up to date"', async () => {
    const app = await vaultApp();
    const vault = await world.newVault();
    await writeKenv(vault, 'sealed.kenv', 'sealed');
    await writeFile(join(vault, 'notes.txt'), 'plaintext dropped in by hand');
    await app.chooseInDialog(vault);
    const bound = await app.registry.invoke('vault:bind', { folder: vault, remote: world.newRemote() });
    // The first listing, before any sync: the .kenv waits for upload.
    expect((bound as { value: VaultState }).value.files?.files).toEqual([
      { path: 'notes.txt', state: 'plaintext', size: null, detail: 'not encrypted: never uploaded' },
      { path: 'sealed.kenv', state: 'upload', size: expect.any(Number) },
    ]);
    const synced = (await app.registry.invoke('vault:syncNow', {})) as { value: VaultState };
    expect(synced.value.files).toEqual({ total: 2, files: [
      { path: 'notes.txt', state: 'plaintext', size: null, detail: 'not encrypted: never uploaded' },
      { path: 'sealed.kenv', state: 'synced', size: expect.any(Number) },
    ] });
  });

  it('resolves a conflict: the chosen version stays under the name, the other goes to the trash, after a native yes', async () => {
    const app = await vaultApp();
    const vault = await world.newVault();
    const remote = world.newRemote();
    await writeKenv(vault, 'doc.kenv', 'v1');
    await app.chooseInDialog(vault);
    await app.registry.invoke('vault:bind', { folder: vault, remote });
    await app.registry.invoke('vault:syncNow', {});
    await app.registry.invoke('vault:pause', {});
    const other = await world.newVault();
    const otherSync = await world.syncer(other, remote);
    await otherSync.sync();
    const mine = await writeKenv(vault, 'doc.kenv', 'edited here');
    const theirs = await writeKenv(other, 'doc.kenv', 'edited on the other machine');
    await otherSync.sync();
    const { conflicts } = ((await app.registry.invoke('vault:syncNow', {})) as { value: VaultState }).value;
    const copy = conflicts[0]!.conflictCopy;

    // "Cancel" in the native dialog: nothing moves.
    expect(await app.registry.invoke('vault:resolveConflict', { path: 'doc.kenv', keep: 'other' })).toMatchObject({ ok: true, value: { conflicts: [{ path: 'doc.kenv' }] } });
    expect(app.shell.asked.at(-1)).toMatchObject({ message: 'Keep the other version of doc.kenv?', detail: expect.stringContaining(`${copy} is kept as doc.kenv; doc.kenv goes to the trash`) });
    expect(await readLocal(vault, 'doc.kenv')).toEqual(mine);

    app.shell.answer = true;
    expect(await app.registry.invoke('vault:resolveConflict', { path: 'doc.kenv', keep: 'other' })).toMatchObject({ ok: true, value: { conflicts: [] } });
    expect(await readLocal(vault, 'doc.kenv')).toEqual(theirs);
    expect(await localFiles(vault)).toEqual(['doc.kenv']);
    expect(app.shell.trashed).toEqual([join(vault, 'doc.kenv')]);
    // A path that is not a conflict the service kept is refused.
    expect(await app.registry.invoke('vault:resolveConflict', { path: 'doc.kenv', keep: 'this' })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });

  it('a binding without a profile follows the identity bar; one with its own profile keeps it', async () => {
    const asked: (string | undefined)[] = [];
    let identityProfile: string | null = 'dev';
    const app = await vaultApp({
      identityProfile: async () => identityProfile,
      s3Client: async (o) => {
        asked.push(o.profile);
        return world.server.client();
      },
    });
    const vault = await world.newVault();
    await app.chooseInDialog(vault);
    expect(await app.registry.invoke('vault:bind', { folder: vault, remote: world.newRemote() })).toMatchObject({ ok: true, value: { binding: { profile: null }, profileInUse: 'dev' } });
    identityProfile = 'prod';
    expect(await app.services.vaults.followIdentity()).toMatchObject({ binding: { profile: null }, profileInUse: 'prod' });
    expect(asked).toEqual(['dev', 'prod']);

    app.shell.answer = true;
    await app.registry.invoke('vault:unbind', {});
    expect(await app.registry.invoke('vault:bind', { folder: vault, remote: world.newRemote(), profile: 'audit' })).toMatchObject({ ok: true, value: { profileInUse: 'audit' } });
    identityProfile = 'dev';
    expect(await app.services.vaults.followIdentity()).toMatchObject({ profileInUse: 'audit' });
    expect(asked).toEqual(['dev', 'prod', 'audit']);
  });

  it('a binding with an SSE-KMS key uploads with server-side encryption under it', async () => {
    const app = await vaultApp();
    const vault = await world.newVault();
    const remote = world.newRemote();
    await writeKenv(vault, 'report.kenv', 'numbers');
    await app.chooseInDialog(vault);
    const seen = world.server.proxy.sseWrites.length;
    expect(await app.registry.invoke('vault:bind', { folder: vault, remote, sseKmsKeyId: 'alias/bucket-key' })).toMatchObject({ ok: true, value: { binding: { sseKmsKeyId: 'alias/bucket-key' } } });
    await app.registry.invoke('vault:syncNow', {});
    const writes = world.server.proxy.sseWrites.slice(seen).filter((w) => !w.key.includes('.kenv-sync/'));
    expect(writes).toEqual([{ key: expect.stringMatching(/report\.kenv$/), sse: 'aws:kms', kmsKeyId: 'alias/bucket-key' }]);
    expect((await app.settings.get()).vaultBinding).toMatchObject({ sseKmsKeyId: 'alias/bucket-key' });
  });
});
