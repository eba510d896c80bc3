import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

/**
 * The vault service as the handlers see it, scripted: what is bound, its conflicts and plaintext files, and a record
 * of what the handlers asked it to do. For the confirmations the handlers put in front of it.
 */
async function appWithScriptedVault(opts: { bound?: boolean; plain?: string[] } = {}) {
  const done: string[] = [];
  const state = (bound: boolean) => ({
    binding: bound ? { folder: '/home/ada/Vault', remote: 's3://team-bucket/vault/' } : null, status: 'idle', conflicts: [],
  }) as unknown as VaultState;
  const vaults = {
    current: async () => state(opts.bound ?? true),
    unbind: async () => (done.push('unbind'), state(false)),
    conflict: (path: string) => ({ path, conflictCopy: 'doc (conflict 2026-11-30 101500).kenv' }),
    resolveConflict: async (path: string, keep: string) => (done.push(`resolve ${path} ${keep}`), state(true)),
    plaintextFiles: async () => opts.plain ?? [],
    refresh: () => done.push('refresh'),
    followIdentity: async () => undefined,
  } as unknown as VaultSyncService;
  const app = await makeApp({ vaults });
  return { ...app, done };
}

describe('vault handlers that ask first', () => {
  it('vault:unbind asks natively naming the folder and bucket; no leaves the binding; with nothing bound it does not ask', async () => {
    const app = await appWithScriptedVault();
    expect(await app.registry.invoke('vault:unbind', {})).toMatchObject({ ok: true, value: { binding: { folder: '/home/ada/Vault' } } });
    expect(app.shell.asked).toEqual([{
      title: 'Unbind vault',
      message: 'Stop syncing Vault with s3://team-bucket/vault/?',
      detail: '/home/ada/Vault and s3://team-bucket/vault/ are left as they are; nothing is deleted. Kenv stops syncing them until you bind a folder again.',
      confirmLabel: 'Unbind',
    }]);
    expect(app.done).toEqual([]);
    app.shell.answer = true;
    expect(await app.registry.invoke('vault:unbind', {})).toMatchObject({ ok: true, value: { binding: null } });
    expect(app.done).toEqual(['unbind']);

    const unbound = await appWithScriptedVault({ bound: false });
    expect(await unbound.registry.invoke('vault:unbind', {})).toMatchObject({ ok: true, value: { binding: null } });
    expect(unbound.shell.asked).toEqual([]);
    expect(unbound.done).toEqual(['unbind']);
  });

  it('vault:resolveConflict says which version is kept and which goes to the trash; no changes nothing', async () => {
    const app = await appWithScriptedVault();
    const copy = 'doc (conflict 2026-11-30 101500).kenv';
    expect(await app.registry.invoke('vault:resolveConflict', { path: 'doc.kenv', keep: 'this' })).toMatchObject({ ok: true, value: { binding: { folder: '/home/ada/Vault' } } });
    expect(await app.registry.invoke('vault:resolveConflict', { path: 'doc.kenv', keep: 'other' })).toMatchObject({ ok: true });
    expect(app.shell.asked).toEqual([
      {
        title: 'Resolve conflict',
        message: 'Keep the version of doc.kenv on this computer?',
        detail: `doc.kenv is kept; ${copy} goes to the trash, and the bucket follows at the next sync.`,
        confirmLabel: 'Keep this version',
      },
      {
        title: 'Resolve conflict',
        message: 'Keep the other version of doc.kenv?',
        detail: `${copy} is kept as doc.kenv; doc.kenv goes to the trash, and the bucket follows at the next sync.`,
        confirmLabel: 'Keep this version',
      },
    ]);
    expect(app.done).toEqual([]);
    app.shell.answer = true;
    await app.registry.invoke('vault:resolveConflict', { path: 'doc.kenv', keep: 'other' });
    await app.registry.invoke('vault:resolveConflict', { path: 'doc.kenv', keep: 'this' });
    expect(app.done).toEqual(['resolve doc.kenv other', 'resolve doc.kenv this']);
  });

  it('vault:encryptPlaintext with none to encrypt says so and asks nothing', async () => {
    const app = await appWithScriptedVault({ plain: [] });
    expect(await app.registry.invoke('vault:encryptPlaintext', { keyIds: ['k'] })).toEqual({
      ok: false, error: { code: 'INVALID_ARGUMENT', message: 'The vault folder holds no plaintext files to encrypt.' },
    });
    expect(app.shell.asked).toEqual([]);
  });

  it('vault:encryptPlaintext names one file, or counts many and lists the first ten; no starts nothing', async () => {
    const one = await appWithScriptedVault({ plain: ['/home/ada/Vault/notes.txt'] });
    const start = vi.spyOn(one.services.jobs, 'start');
    expect(await one.registry.invoke('vault:encryptPlaintext', { keyIds: ['k'] })).toEqual({ ok: true, value: [] });
    expect(one.shell.asked).toEqual([{
      title: 'Encrypt plaintext in the vault',
      message: 'Encrypt notes.txt in the vault folder?',
      detail: 'Each is encrypted to a .kenv beside it, which then syncs. Once a .kenv reads back, its original goes to the trash.\n\n/home/ada/Vault/notes.txt',
      confirmLabel: 'Encrypt',
    }]);
    expect(start).not.toHaveBeenCalled();

    const names = (n: number) => Array.from({ length: n }, (_, i) => `/home/ada/Vault/f${i}.txt`);
    const ten = await appWithScriptedVault({ plain: names(10) });
    await ten.registry.invoke('vault:encryptPlaintext', { keyIds: ['k'] });
    expect(ten.shell.asked[0]).toMatchObject({ message: 'Encrypt 10 plaintext files in the vault folder?' });
    expect(ten.shell.asked[0]!.detail.split('\n\n')[1]).toBe(names(10).join('\n'));
    const twelve = await appWithScriptedVault({ plain: names(12) });
    await twelve.registry.invoke('vault:encryptPlaintext', { keyIds: ['k'] });
    expect(twelve.shell.asked[0]!.detail.split('\n\n')[1]).toBe(`${names(10).join('\n')}\nand 2 more`);
  });

  it('vault:encryptPlaintext, confirmed, encrypts each file beside itself with the keys, context and file-id setting, originals to the trash, then looks at the folder again', async () => {
    const app = await appWithScriptedVault({ plain: ['/home/ada/Vault/a.txt', '/home/ada/Vault/b.txt'] });
    await app.services.settings.update({ context: [{ key: 'team', value: 'finance' }], fileId: false, deletePlaintextAfterEncrypt: false });
    const start = vi.spyOn(app.services.jobs, 'start').mockReturnValue([]);
    let idle!: () => void;
    vi.spyOn(app.services.jobs, 'whenIdle').mockReturnValue(new Promise<void>((resolve) => (idle = resolve)));
    app.shell.answer = true;
    expect(await app.registry.invoke('vault:encryptPlaintext', { keyIds: ['alias/a', 'alias/b'] })).toEqual({ ok: true, value: [] });
    const spec = (path: string) => ({
      path, direction: 'encrypt', keyIds: ['alias/a', 'alias/b'], context: { team: 'finance' }, outDir: undefined, deletePlaintext: true, fileId: false,
    });
    expect(start.mock.calls).toEqual([[[spec('/home/ada/Vault/a.txt'), spec('/home/ada/Vault/b.txt')]]]);
    expect(app.done).toEqual([]);
    idle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(app.done).toEqual(['refresh']);
    await app.services.settings.update({ fileId: true });
    await app.registry.invoke('vault:encryptPlaintext', { keyIds: ['k'] });
    expect(start.mock.calls[1]![0]![0]).toMatchObject({ fileId: true });
  });

  it('vault:reveal shows the path the service located inside the folder', async () => {
    const app = await appWithScriptedVault();
    const locate = vi.fn(async (path: string) => `/home/ada/Vault/${path}`);
    app.services.vaults.locate = locate;
    expect(await app.registry.invoke('vault:reveal', { path: 'd/doc.kenv' })).toEqual({ ok: true, value: null });
    expect(locate.mock.calls).toEqual([['d/doc.kenv']]);
    expect(app.shell.opened).toEqual(['show:/home/ada/Vault/d/doc.kenv']);
  });
});
