import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { VaultState } from '../../../../../shared/vault.js';
import { VaultSyncService } from '../../../../../electron/core/app/vault-sync-service.js';
import { makeApp, RecordingSink } from '../../../../support/app-services.js';
import { SettingsStore } from '../../../../../electron/core/app/settings-store.js';

const disposables: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const d of disposables.splice(0)) await d();
});

/**
 * An app whose vault service talks to a port where nothing listens, except that listing answers (empty) while
 * `listing.ok`: bind's first listing succeeds, syncs fail fast.
 */
async function appWithUnreachableS3(listing = { ok: true }) {
  const userData = join((await makeApp()).dir, 'user-data');
  const settings = SettingsStore.inFolder(userData);
  const events = new RecordingSink();
  const vaults = new VaultSyncService({
    settings, events,
    s3Client: async () => {
      const client = new S3Client({
        endpoint: 'http://127.0.0.1:9', region: 'eu-west-1', forcePathStyle: true, maxAttempts: 1,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      });
      client.middlewareStack.add((next, context) => async (args) => {
        if (listing.ok && context.commandName === 'ListObjectsV2Command') return { output: { $metadata: {}, Contents: [], IsTruncated: false }, response: {} };
        return next(args);
      }, { step: 'initialize', name: 'emptyListing' });
      return client;
    },
    watch: { pollMs: 3_600_000, backoffMs: 3_600_000 },
  });
  const app = await makeApp({ settings, events, vaults });
  disposables.push(() => vaults.dispose());
  return { ...app, userData, events };
}

/** The user picks `folder` in the folder dialog, the only way a vault folder is granted. */
async function chooseInDialog(app: Awaited<ReturnType<typeof makeApp>>, folder: string): Promise<void> {
  app.shell.chooseFolder = async () => folder;
  expect(await app.registry.invoke('dialog:chooseFolder', {})).toEqual({ ok: true, value: folder });
}

describe('vault handlers', () => {
  it('vault:get with nothing bound says so, idle with no counts', async () => {
    const app = await makeApp();
    expect(await app.registry.invoke('vault:get', {})).toEqual({ ok: true, value: {
      binding: null, status: { state: 'idle', toUpload: 0, toDownload: 0, conflicts: 0, errors: [] }, conflicts: [],
    } });
  });

  it('vault:bind refuses malformed requests before the service sees them', async () => {
    const app = await makeApp();
    const folder = app.dir;
    for (const payload of [
      undefined, {}, { folder }, { remote: 's3://bucket/prefix' },
      { folder, remote: 'bucket/prefix' },
      { folder, remote: 'https://bucket.s3.amazonaws.com/prefix' },
      { folder, remote: 's3://' },
      { folder, remote: 's3://Upper_Case/prefix' },
      { folder, remote: 's3://ab/prefix' },
      { folder: '', remote: 's3://bucket/prefix' },
      { folder: 'a\0b', remote: 's3://bucket/prefix' },
      { folder, remote: 's3://bucket/prefix', region: 'not a region' },
      { folder, remote: 's3://bucket/prefix', profile: '' },
      { folder, remote: 's3://bucket/prefix', extra: true },
    ]) {
      expect(await app.registry.invoke('vault:bind', payload), JSON.stringify(payload)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    }
    expect((await app.services.settings.get()).vaultBinding ?? null).toBeNull();
  });

  it('vault:bind refuses a folder that does not exist, with the path in the sentence', async () => {
    const app = await makeApp();
    const missing = join(app.dir, 'no-such-folder');
    await mkdir(missing);
    await chooseInDialog(app, missing);
    await rmdir(missing);
    expect(await app.registry.invoke('vault:bind', { folder: missing, remote: 's3://bucket/team' }))
      .toMatchObject({ ok: false, error: { code: 'INPUT_NOT_FOUND', message: expect.stringContaining(missing) } });
  });

  it('syncNow, pause and resume with nothing bound say to bind a folder first', async () => {
    const app = await makeApp();
    for (const channel of ['vault:syncNow', 'vault:pause', 'vault:resume'] as const) {
      expect(await app.registry.invoke(channel, {})).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('Bind a folder') } });
    }
    expect(await app.registry.invoke('vault:syncNow', { now: true })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  });

  it('bind, pause, resume and unbind persist the binding in the settings file and send vault:status', async () => {
    const app = await appWithUnreachableS3();
    const folder = join(app.dir, 'vault');
    await mkdir(folder);
    await chooseInDialog(app, folder);
    const bound = await app.registry.invoke('vault:bind', { folder, remote: 's3://team-bucket/finance', profile: 'dev', region: 'eu-west-1' });
    expect(bound).toMatchObject({ ok: true, value: { binding: { folder, remote: 's3://team-bucket/finance', profile: 'dev', region: 'eu-west-1', paused: false } } });
    const saved = async () => JSON.parse(await readFile(join(app.userData, 'settings.json'), 'utf8')).vaultBinding;
    expect(await saved()).toEqual({ folder, remote: 's3://team-bucket/finance', profile: 'dev', region: 'eu-west-1', paused: false });

    expect(await app.registry.invoke('vault:pause', {})).toMatchObject({ ok: true, value: { binding: { paused: true } } });
    expect(await saved()).toMatchObject({ paused: true });
    expect(await app.registry.invoke('vault:resume', {})).toMatchObject({ ok: true, value: { binding: { paused: false } } });
    expect(await saved()).toMatchObject({ paused: false });

    // Unbinding asks natively first: "Cancel" keeps the binding.
    expect(await app.registry.invoke('vault:unbind', {})).toMatchObject({ ok: true, value: { binding: { folder } } });
    expect(await saved()).toMatchObject({ folder });
    app.shell.answer = true;
    expect(await app.registry.invoke('vault:unbind', {})).toMatchObject({ ok: true, value: { binding: null } });
    expect(await saved()).toBeNull();
    expect(app.shell.asked.map((q) => q.message)).toEqual(Array(2).fill('Stop syncing vault with s3://team-bucket/finance?'));
    const statuses = app.events.events.filter((e) => e.event === 'vault:status').map((e) => e.payload as VaultState);
    expect(statuses.some((s) => s.binding?.paused === true)).toBe(true);
    expect(statuses.at(-1)?.binding).toBeNull();
  });

  it('settings:update never changes the binding: only the vault channels do', async () => {
    const app = await appWithUnreachableS3();
    const folder = join(app.dir, 'vault');
    await mkdir(folder);
    await chooseInDialog(app, folder);
    await app.registry.invoke('vault:bind', { folder, remote: 's3://team-bucket/finance' });
    const stale = await app.registry.invoke('settings:update', { vaultBinding: null, outputLocation: 'ask' });
    expect(stale).toMatchObject({ ok: true, value: { outputLocation: 'ask', vaultBinding: { folder, remote: 's3://team-bucket/finance' } } });
    app.shell.answer = true;
    await app.registry.invoke('vault:unbind', {});
    const sneaky = await app.registry.invoke('settings:update', { vaultBinding: { folder, remote: 's3://other-bucket/x', profile: null, region: null, paused: false } });
    expect(sneaky).toMatchObject({ ok: true, value: { vaultBinding: null } });
    expect(await app.registry.invoke('vault:get', {})).toMatchObject({ ok: true, value: { binding: null } });
  });

  it('a sync that cannot reach S3 reports the error in the status instead of failing the call', async () => {
    const listing = { ok: true };
    const app = await appWithUnreachableS3(listing);
    const folder = join(app.dir, 'vault');
    await mkdir(folder);
    await chooseInDialog(app, folder);
    await app.registry.invoke('vault:bind', { folder, remote: 's3://team-bucket/finance' });
    listing.ok = false;
    const result = await app.registry.invoke('vault:syncNow', {});
    expect(result).toMatchObject({ ok: true, value: { status: { state: 'error', errors: [{ path: '', code: expect.any(String), message: expect.any(String) }] } } });
  });
});
