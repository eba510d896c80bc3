import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Job } from '../../../../../shared/ipc.js';
import { makeApp } from '../../../../support/app-services.js';
import { MAX_FINISHED_JOBS } from '../../../../../electron/core/app/jobs.js';

/** An app the user has handed its temporary folder to (as if dropped), for tests about what the handlers do. */
async function grantedApp(): Promise<Awaited<ReturnType<typeof makeApp>>> {
  const app = await makeApp();
  await app.grants.grant(app.dir, 'drop');
  return app;
}

async function startAndWait(app: Awaited<ReturnType<typeof makeApp>>, request: unknown): Promise<Job[]> {
  const started = await app.registry.invoke('jobs:start', request);
  expect(started.ok).toBe(true);
  await app.services.jobs.whenIdle();
  const list = await app.registry.invoke('jobs:list', {});
  return (list as { value: Job[] }).value;
}

describe('registerHandlers', () => {
  it('files:plan expands folders into one mixed batch: .kenv decrypts, the rest encrypts', async () => {
    const app = await grantedApp();
    await mkdir(join(app.dir, 'docs', 'deep'), { recursive: true });
    await writeFile(join(app.dir, 'docs', 'a.txt'), 'a');
    await writeFile(join(app.dir, 'docs', 'deep', 'b.KENV'), 'b');
    await writeFile(join(app.dir, 'c.pdf'), 'cc');
    const result = await app.registry.invoke('files:plan', { paths: [join(app.dir, 'docs'), join(app.dir, 'c.pdf')] });
    expect(result).toEqual({ ok: true, value: [
      { path: join(app.dir, 'docs', 'a.txt'), name: 'a.txt', size: 1, direction: 'encrypt' },
      { path: join(app.dir, 'docs', 'deep', 'b.KENV'), name: 'b.KENV', size: 1, direction: 'decrypt' },
      { path: join(app.dir, 'c.pdf'), name: 'c.pdf', size: 2, direction: 'encrypt' },
    ] });
  });

  it('files:plan says which file is missing', async () => {
    const app = await grantedApp();
    const result = await app.registry.invoke('files:plan', { paths: [join(app.dir, 'gone.txt')] });
    expect(result).toMatchObject({ ok: false, error: { code: 'INPUT_NOT_FOUND', message: expect.stringContaining('gone.txt') } });
  });

  it('jobs:start refuses to encrypt without a key and without default keys', async () => {
    const app = await grantedApp();
    await writeFile(join(app.dir, 'a.txt'), 'a');
    const result = await app.registry.invoke('jobs:start', { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: [], outDir: null });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_KEY' } });
    expect(app.vault.calls).toHaveLength(0);
  });

  it('jobs:start encrypts with the chosen keys and the context from settings, and remembers the key', async () => {
    const app = await grantedApp();
    await app.services.settings.update({ context: [{ key: 'team', value: 'finance' }] });
    await writeFile(join(app.dir, 'a.txt'), 'a');
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: ['alias/main', 'alias/backup'], outDir: null });
    expect(jobs).toMatchObject([{ state: 'done', direction: 'encrypt', outputPath: join(app.dir, 'a.txt.kenv'), inputDeleted: false }]);
    expect(app.vault.calls[0]).toEqual({ op: 'encrypt', path: join(app.dir, 'a.txt'), opts: { keyIds: ['alias/main', 'alias/backup'], context: { team: 'finance' }, outDir: undefined } });
    expect((await app.services.settings.get()).lastKeyId).toBe('alias/main');
    await access(join(app.dir, 'a.txt'));
  });

  it('jobs:start falls back to the default keys and the vault folder', async () => {
    const app = await grantedApp();
    await app.services.settings.update({ defaultKeyIds: ['alias/default'], outputLocation: 'vault-folder', vaultFolder: join(app.dir, 'vault') });
    await writeFile(join(app.dir, 'a.txt'), 'a');
    await startAndWait(app, { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: [], outDir: null });
    expect(app.vault.calls[0]?.opts).toMatchObject({ keyIds: ['alias/default'], outDir: join(app.dir, 'vault') });
  });

  it('jobs:start writes next to the file when the output setting says so, even with a vault folder set', async () => {
    const app = await grantedApp();
    await app.services.settings.update({ outputLocation: 'next-to-file', vaultFolder: join(app.dir, 'vault') });
    await writeFile(join(app.dir, 'a.txt'), 'a');
    await startAndWait(app, { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: null });
    expect(app.vault.calls[0]?.opts).toMatchObject({ outDir: undefined });
  });

  it('moves the plaintext to the trash after encrypting only when the setting is on, and only after the output reads back', async () => {
    const app = await grantedApp();
    await app.services.settings.update({ deletePlaintextAfterEncrypt: true });
    await writeFile(join(app.dir, 'a.txt'), 'a');
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: null });
    expect(jobs[0]).toMatchObject({ state: 'done', inputDeleted: true });
    expect(app.vault.calls.map((c) => c.op)).toEqual(['encrypt', 'inspect']);
    await expect(access(join(app.dir, 'a.txt'))).rejects.toThrow();
    expect(app.shell.trashed).toEqual([join(app.dir, 'a.txt')]);
  });

  it('a failed decrypt carries its error sentence, and retry runs it again', async () => {
    const app = await grantedApp();
    const path = join(app.dir, 'tampered.kenv');
    await writeFile(path, 'sealed');
    const jobs = await startAndWait(app, { files: [{ path, direction: 'decrypt' }], keyIds: [], outDir: null });
    expect(jobs[0]).toMatchObject({ state: 'failed', error: { code: 'FRAME_TAMPERED', message: expect.stringContaining('changed after it was encrypted') } });
    const retried = await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id });
    expect(retried).toMatchObject({ ok: true, value: { state: 'queued' } });
    await app.services.jobs.whenIdle();
    expect(app.vault.calls.filter((c) => c.op === 'decrypt')).toHaveLength(2);
  });

  it('after OUTPUT_EXISTS, "keep both" writes under a free name the main process picks, and never replaces', async () => {
    const app = await grantedApp();
    const calls: { outputName: unknown; force: unknown }[] = [];
    app.services.vault.decryptFile = async (_path, opts) => {
      calls.push({ outputName: opts.outputName, force: opts.force });
      if (!opts.outputName) throw Object.assign(new Error('exists'), { code: 'OUTPUT_EXISTS', message: 'exists' });
      return { outputPath: join(app.dir, opts.outputName), bytesOut: 7 };
    };
    await writeFile(join(app.dir, 'report.pdf.kenv'), 'sealed');
    await writeFile(join(app.dir, 'report.pdf'), 'there');
    await writeFile(join(app.dir, 'report (2).pdf'), 'there too');
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'report.pdf.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, keepBoth: true })).toMatchObject({ ok: true });
    await app.services.jobs.whenIdle();
    expect(calls.map((c) => c.outputName)).toEqual([undefined, 'report (3).pdf']);
    expect(calls.every((c) => !c.force)).toBe(true);
    expect(app.services.jobs.list()[0]).toMatchObject({ state: 'done', outputBytes: 7, outputPath: join(app.dir, 'report (3).pdf') });
    expect(app.shell.asked).toEqual([]);
  });

  it('"choose folder" asks the dialog (which grants) and retries there; keep both is refused for a job that did not stop at a file', async () => {
    const app = await grantedApp();
    const outDirs: unknown[] = [];
    app.services.vault.decryptFile = async (_path, opts) => {
      outDirs.push(opts.outDir);
      if (!opts.outDir) throw Object.assign(new Error('exists'), { code: 'OUTPUT_EXISTS', message: 'exists' });
      return { outputPath: join(opts.outDir, 'a'), bytesOut: 1 };
    };
    await writeFile(join(app.dir, 'a.kenv'), 'sealed');
    const other = join(app.dir, 'other');
    await mkdir(other);
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'a.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    app.shell.chooseFolder = async () => other;
    expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, chooseFolder: true })).toMatchObject({ ok: true });
    await app.services.jobs.whenIdle();
    expect(outDirs).toEqual([undefined, other]);
    expect(await app.grants.allows(other, 'vault-folder')).toBe(true); // granted as a folder dialog's answer
    expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, keepBoth: true })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('clear finished removes done, failed and cancelled jobs; the list keeps at most MAX_FINISHED_JOBS', async () => {
    const app = await grantedApp();
    app.services.vault.encryptFile = async (path) => ({ outputPath: `${path}.kenv`, bytesIn: 1, bytesOut: 2 });
    const files = Array.from({ length: MAX_FINISHED_JOBS + 5 }, (_, i) => ({ path: join(app.dir, `f${i}.txt`), direction: 'encrypt' as const }));
    for (const f of files) await writeFile(f.path, 'x');
    await startAndWait(app, { files, keyIds: ['k'], outDir: null });
    const kept = app.services.jobs.list();
    expect(kept).toHaveLength(MAX_FINISHED_JOBS);
    expect(kept[0]!.name).toBe('f5.txt');
    expect(kept[0]).toMatchObject({ outputBytes: 2, keyIds: ['k'] });
    expect(await app.registry.invoke('jobs:clearFinished', {})).toEqual({ ok: true, value: [] });
    expect(await app.registry.invoke('jobs:list', {})).toEqual({ ok: true, value: [] });
  });

  it('retry with replace passes force to the vault, and OUTPUT_EXISTS gets a sentence for the window', async () => {
    const app = await grantedApp();
    const forces: unknown[] = [];
    app.services.vault.decryptFile = async (path, opts) => {
      forces.push(opts.force);
      if (!opts.force) throw Object.assign(new Error('exists'), { code: 'OUTPUT_EXISTS', message: `${join(app.dir, 'a')} exists already; nothing was overwritten. Use --force to replace it.` });
      return { outputPath: join(app.dir, 'a'), bytesOut: 1 };
    };
    await writeFile(join(app.dir, 'a.kenv'), 'sealed');
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'a.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    expect(jobs[0]).toMatchObject({ state: 'failed', error: { code: 'OUTPUT_EXISTS' } });
    expect(jobs[0]!.error!.message).not.toContain('--force');
    expect(jobs[0]!.error!.message).toContain('already exists');
    app.shell.answer = true;
    expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, replace: true })).toMatchObject({ ok: true });
    await app.services.jobs.whenIdle();
    expect(forces).toEqual([undefined, true]);
    expect(app.shell.asked).toMatchObject([{ title: 'Replace file', message: 'Replace a?', detail: expect.stringContaining(join(app.dir, 'a')), confirmLabel: 'Replace' }]);
  });

  it('cancels a running job through its signal, and a whole batch', async () => {
    const app = await grantedApp();
    const started: string[] = [];
    app.services.vault.decryptFile = (path, opts) => new Promise((_resolve, reject) => {
      started.push(path);
      opts.signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
    for (const n of ['1', '2', '3']) await writeFile(join(app.dir, `${n}.kenv`), 'sealed');
    const result = await app.registry.invoke('jobs:start', { files: ['1', '2', '3'].map((n) => ({ path: join(app.dir, `${n}.kenv`), direction: 'decrypt' })), keyIds: [], outDir: null });
    const jobs = (result as { value: Job[] }).value;
    expect(await app.registry.invoke('jobs:cancel', { jobId: jobs[0]!.id })).toEqual({ ok: true, value: null });
    await new Promise((r) => setImmediate(r));
    expect(await app.registry.invoke('jobs:cancel', { batchId: jobs[0]!.batchId })).toEqual({ ok: true, value: null });
    await app.services.jobs.whenIdle();
    const list = (await app.registry.invoke('jobs:list', {}) as { value: Job[] }).value;
    expect(list.map((j) => j.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(started).toEqual(['1', '2', '3'].map((n) => join(app.dir, `${n}.kenv`)));
  });

  it('emits every job change as jobs:changed', async () => {
    const app = await grantedApp();
    await writeFile(join(app.dir, 'a.txt'), 'a');
    await startAndWait(app, { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: null });
    const states = app.events.events.filter((e) => e.event === 'jobs:changed').map((e) => (e.payload as Job).state);
    expect(states[0]).toBe('queued');
    expect(states).toContain('running');
    expect(states.at(-1)).toBe('done');
    const revisions = app.events.events.filter((e) => e.event === 'jobs:changed').map((e) => (e.payload as Job).revision);
    expect(revisions).toEqual(revisions.map((_, i) => i + 1));
  });

  it('the OS default app opens only what a finished job wrote; the file manager shows anything handed over', async () => {
    const app = await grantedApp();
    expect(await app.registry.invoke('shell:openPath', { path: '/usr/bin/xterm' })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    await writeFile(join(app.dir, 'a.txt'), 'a');
    await startAndWait(app, { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: null });
    expect(await app.registry.invoke('shell:openPath', { path: join(app.dir, 'a.txt') })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    expect(await app.registry.invoke('shell:showInFolder', { path: join(app.dir, 'a.txt.kenv') })).toEqual({ ok: true, value: null });
    expect(await app.registry.invoke('shell:openPath', { path: join(app.dir, 'a.txt.kenv') })).toEqual({ ok: true, value: null });
    expect(app.shell.opened).toEqual([`show:${join(app.dir, 'a.txt.kenv')}`, `open:${join(app.dir, 'a.txt.kenv')}`]);
  });

  it('files:inspect returns the header data with name and size, without a KMS call', async () => {
    const app = await grantedApp();
    await writeFile(join(app.dir, 'a.kenv'), 'sealed');
    const result = await app.registry.invoke('files:inspect', { path: join(app.dir, 'a.kenv') });
    expect(result).toMatchObject({ ok: true, value: { name: 'a.kenv', size: 6, suiteId: 0x0478 } });
  });

  it('settings:update validates, persists atomically and survives a restart', async () => {
    const app = await makeApp();
    expect(await app.registry.invoke('settings:update', { deletePlaintextAfterEncrypt: 'yes' })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await app.registry.invoke('settings:update', { outputLocation: 'ask', context: [{ key: 'project', value: 'atlas' }] })).toMatchObject({ ok: true });
    const file = join(app.dir, 'user-data', 'settings.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ outputLocation: 'ask', context: [{ key: 'project', value: 'atlas' }], deletePlaintextAfterEncrypt: false });
    const again = await makeApp();
    const { SettingsStore } = await import('../../../../../electron/core/app/settings-store.js');
    expect(await new SettingsStore(file).get()).toMatchObject({ outputLocation: 'ask' });
    expect(await again.registry.invoke('settings:get', {})).toMatchObject({ ok: true, value: { outputLocation: 'next-to-file', deletePlaintextAfterEncrypt: false } });
  });

  it('a damaged settings file falls back to defaults field by field', async () => {
    const app = await makeApp();
    const file = join(app.dir, 'user-data', 'settings.json');
    await mkdir(join(app.dir, 'user-data'), { recursive: true });
    await writeFile(file, JSON.stringify({ outputLocation: 'moon', deletePlaintextAfterEncrypt: true }));
    expect(await app.registry.invoke('settings:get', {})).toMatchObject({ ok: true, value: { outputLocation: 'next-to-file', deletePlaintextAfterEncrypt: true } });
  });

  it('app:takeOpenedFiles hands over queued opens once, then they arrive as events', async () => {
    const app = await makeApp();
    for (const name of ['report q3.kenv', 'b.kenv', 'c.kenv']) await writeFile(join(app.dir, name), 'sealed');
    await app.services.openRequests.add([`file://${join(app.dir, 'report%20q3.kenv')}`, '--inspect', join(app.dir, 'b.kenv'), join(app.dir, 'gone.kenv')]);
    expect(await app.registry.invoke('app:takeOpenedFiles', {})).toEqual({ ok: true, value: [join(app.dir, 'report q3.kenv'), join(app.dir, 'b.kenv')] });
    expect(await app.registry.invoke('app:takeOpenedFiles', {})).toEqual({ ok: true, value: [] });
    await app.services.openRequests.add([join(app.dir, 'c.kenv')]);
    expect(app.events.events).toContainEqual({ event: 'files:opened', payload: [join(app.dir, 'c.kenv')] });
    // What the OS handed over may be read, and nothing beside it.
    expect(await app.registry.invoke('files:inspect', { path: join(app.dir, 'c.kenv') })).toMatchObject({ ok: true });
    await writeFile(join(app.dir, 'd.kenv'), 'sealed');
    expect(await app.registry.invoke('files:inspect', { path: join(app.dir, 'd.kenv') })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });

  it('identity:signIn reports the new identity to every window', async () => {
    const app = await makeApp();
    expect(await app.registry.invoke('identity:signIn', {})).toMatchObject({ ok: true, value: { status: 'signed-in' } });
    expect(app.events.events.some((e) => e.event === 'identity:changed')).toBe(true);
  });

  it('jobs:start: originals are trashed after encrypting only, file ids follow the setting, a decrypt does not change the last key, a mixed batch needs a key', async () => {
    const app = await grantedApp();
    await writeFile(join(app.dir, 'a.txt'), 'a');
    await writeFile(join(app.dir, 'b.kenv'), 'b');
    await app.services.settings.update({ deletePlaintextAfterEncrypt: true, fileId: false, lastKeyId: 'alias/last' });
    const start = vi.spyOn(app.services.jobs, 'start').mockReturnValue([]);
    const mixed = { files: [{ path: join(app.dir, 'b.kenv'), direction: 'decrypt' }, { path: join(app.dir, 'a.txt'), direction: 'encrypt' }], outDir: null };
    expect(await app.registry.invoke('jobs:start', { ...mixed, keyIds: [] })).toMatchObject({
      ok: false, error: { code: 'INVALID_KEY', message: 'Choose a KMS key to encrypt with, then start again.' },
    });
    expect(await app.registry.invoke('jobs:start', { files: [mixed.files[0]], keyIds: ['alias/other'], outDir: null })).toMatchObject({ ok: true });
    expect((await app.services.settings.get()).lastKeyId).toBe('alias/last');
    expect(await app.registry.invoke('jobs:start', { ...mixed, keyIds: ['k'] })).toMatchObject({ ok: true });
    expect(start.mock.calls[1]![0].map((spec) => [spec.direction, spec.deletePlaintext, spec.fileId])).toEqual([['decrypt', false, false], ['encrypt', true, false]]);
    await app.services.settings.update({ fileId: true });
    await app.registry.invoke('jobs:start', { ...mixed, keyIds: ['k'] });
    await app.services.settings.update({ fileId: undefined });
    expect(start.mock.calls.slice(2).map((call) => call[0][0]!.fileId)).toEqual([true]);
  });

  it('the file and folder dialogs grant what they return, skip what has gone, and a cancelled dialog grants nothing', async () => {
    const app = await makeApp();
    await writeFile(join(app.dir, 'a.txt'), 'a');
    app.shell.chooseFiles = async () => [join(app.dir, 'a.txt'), join(app.dir, 'gone.txt')];
    expect(await app.registry.invoke('dialog:chooseFiles', {})).toEqual({ ok: true, value: [join(app.dir, 'a.txt')] });
    expect(await app.grants.allows(join(app.dir, 'a.txt'), 'read')).toBe(true);
    app.shell.chooseFiles = async () => [];
    expect(await app.registry.invoke('dialog:chooseFiles', {})).toEqual({ ok: true, value: [] });
    expect(await app.registry.invoke('dialog:chooseFolder', {})).toEqual({ ok: true, value: null });
    app.shell.chooseFolder = async () => join(app.dir, 'gone');
    expect(await app.registry.invoke('dialog:chooseFolder', {})).toEqual({ ok: true, value: null });
    app.shell.chooseFolder = async () => app.dir;
    expect(await app.registry.invoke('dialog:chooseFolder', {})).toEqual({ ok: true, value: app.dir });
    expect(await app.grants.allows(app.dir, 'vault-folder')).toBe(true);
  });

  it('"choose folder" on retry: a cancelled dialog is CANCELLED, a folder that has gone is NOT_ALLOWED, and nothing is retried', async () => {
    const app = await grantedApp();
    app.services.vault.decryptFile = async () => {
      throw Object.assign(new Error('exists'), { code: 'OUTPUT_EXISTS', message: 'exists' });
    };
    await writeFile(join(app.dir, 'a.kenv'), 'sealed');
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'a.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    const retry = vi.spyOn(app.services.jobs, 'retry');
    expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, chooseFolder: true })).toMatchObject({
      ok: false, error: { code: 'CANCELLED', message: 'No folder was chosen; nothing was written.' },
    });
    app.shell.chooseFolder = async () => join(app.dir, 'gone');
    expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, chooseFolder: true })).toMatchObject({
      ok: false, error: { code: 'NOT_ALLOWED', message: 'Kenv cannot write into that folder. Choose another one.' },
    });
    expect(retry).not.toHaveBeenCalled();
  });

  it('turning on "move originals to the trash" asks a native confirmation that says what it does; no means nothing saved', async () => {
    const app = await grantedApp();
    expect(await app.registry.invoke('settings:update', { deletePlaintextAfterEncrypt: true })).toMatchObject({
      ok: false, error: { code: 'NOT_ALLOWED', message: 'Moving originals to the trash stays off: it was not confirmed. The settings were not saved.' },
    });
    expect(app.shell.asked).toEqual([{
      title: 'Move originals to the trash',
      message: 'Move each original file to the trash after encrypting it?',
      detail: 'Once a file\'s .kenv is written and reads back, Kenv moves the original to the trash. Without access to the KMS key, nobody can open the .kenv, not even you.',
      confirmLabel: 'Move originals to the trash',
    }]);
    expect((await app.services.settings.get()).deletePlaintextAfterEncrypt).toBe(false);
  });

  it('settings:update checks a vault folder only when it changes: clearing it or sending the current one back needs no grant', async () => {
    const app = await makeApp();
    const vault = join(app.dir, 'vault');
    await mkdir(vault);
    await app.services.settings.update({ vaultFolder: vault });
    expect(await app.registry.invoke('settings:update', { vaultFolder: vault, outputLocation: 'vault-folder' })).toMatchObject({ ok: true });
    expect(await app.registry.invoke('settings:update', { vaultFolder: null })).toMatchObject({ ok: true });
    expect((await app.services.settings.get()).vaultFolder).toBeNull();
    expect(await app.registry.invoke('settings:update', { vaultFolder: vault })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });
  it('"keep both" for a job that did not stop at an existing file is refused with a sentence that says to retry instead', async () => {
    const app = await grantedApp();
    await writeFile(join(app.dir, 'a.txt'), 'a');
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'a.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: null });
    const retry = vi.spyOn(app.services.jobs, 'retry');
    for (const choice of [{ keepBoth: true }, { chooseFolder: true }]) {
      expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, ...choice })).toEqual({
        ok: false, error: { code: 'INVALID_ARGUMENT', message: 'That file did not stop at an existing file; choose Retry instead.' },
      });
    }
    expect(retry).not.toHaveBeenCalled();
  });

  it('retry with replace, not confirmed, is NOT_ALLOWED naming the file, and nothing is retried', async () => {
    const app = await grantedApp();
    app.services.vault.decryptFile = async () => {
      throw Object.assign(new Error('exists'), { code: 'OUTPUT_EXISTS', message: 'exists' });
    };
    await writeFile(join(app.dir, 'a.kenv'), 'sealed');
    const jobs = await startAndWait(app, { files: [{ path: join(app.dir, 'a.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    const retry = vi.spyOn(app.services.jobs, 'retry');
    expect(await app.registry.invoke('jobs:retry', { jobId: jobs[0]!.id, replace: true })).toEqual({
      ok: false, error: { code: 'NOT_ALLOWED', message: 'a was not replaced: the replacement was not confirmed. Nothing was changed.' },
    });
    expect(app.shell.asked).toEqual([{
      title: 'Replace file',
      message: 'Replace a?',
      detail: `${join(app.dir, 'a')} already exists. Replacing it overwrites it with the file Kenv is about to write; the current contents are lost.`,
      confirmLabel: 'Replace',
    }]);
    expect(retry).not.toHaveBeenCalled();
  });

  it('private:reencrypt, private:close and private:list hand the id to the private opens and return their answer', async () => {
    const app = await makeApp();
    const file = { id: 'p1', kenvPath: join(app.dir, 'a.kenv'), plainPath: join(app.dir, 'private', 'a'), name: 'a', edited: false, state: 'open' };
    const reencrypt = vi.spyOn(app.services.privateOpens, 'reencrypt').mockResolvedValue(file as never);
    const close = vi.spyOn(app.services.privateOpens, 'close').mockReturnValue(undefined);
    const list = vi.spyOn(app.services.privateOpens, 'list').mockReturnValue([file] as never);
    expect(await app.registry.invoke('private:reencrypt', { id: 'p1' })).toEqual({ ok: true, value: file });
    expect(reencrypt.mock.calls).toEqual([['p1']]);
    expect(await app.registry.invoke('private:close', { id: 'p2' })).toEqual({ ok: true, value: null });
    expect(close.mock.calls).toEqual([['p2']]);
    expect(await app.registry.invoke('private:list', {})).toEqual({ ok: true, value: [file] });
    expect(list).toHaveBeenCalledTimes(1);
  });
});
