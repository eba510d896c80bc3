// The vault panel's service and handlers against a real S3-compatible server (s3rver behind the enforcing proxy).
import { rm } from 'node:fs/promises';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VaultState } from '../../../shared/vault.js';
import { SettingsStore } from '../../../electron/core/app/settings-store.js';
import { VaultSyncService } from '../../../electron/core/app/vault-sync-service.js';
import { makeApp, RecordingSink } from '../../support/app-services.js';
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
async function vaultApp(extra: { confirmDeletions?: (message: string) => Promise<boolean> } = {}) {
  const userData = join((await makeApp()).dir, 'user-data');
  const settings = SettingsStore.inFolder(userData);
  const events = new RecordingSink();
  // A long poll: the test drives syncs with "Sync now", watch mode only adds its first sync.
  const vaults = new VaultSyncService({ settings, events, watch: { pollMs: 3_600_000, debounceMs: 50 }, ...extra });
  disposables.push(() => vaults.dispose());
  const app = await makeApp({ settings, events, vaults });
  const statuses = () => events.events.filter((e) => e.event === 'vault:status').map((e) => e.payload as VaultState);
  // The user picks the folder in the folder dialog: the only way the page may bind it.
  const chooseInDialog = async (folder: string) => {
    app.shell.chooseFolder = async () => folder;
    expect(await app.registry.invoke('dialog:chooseFolder', {})).toEqual({ ok: true, value: folder });
  };
  return { ...app, settings, events, statuses, chooseInDialog };
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
    expect(conflicts).toEqual([{ path: 'doc.kenv', conflictCopy: expect.stringMatching(/^doc \(conflict .*\)\.kenv$/) }]);
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
