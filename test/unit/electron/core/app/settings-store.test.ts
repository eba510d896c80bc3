// The settings file's store: what one caller saves is what every later read returns, however the calls overlap.
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SettingsStore } from '../../../../../electron/core/app/settings-store.js';

// readFile is wrapped so that a test can hold the first read of the file (a window's first `settings:get`).
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  return { ...real, readFile: vi.fn(real.readFile) };
});

afterEach(() => {
  vi.mocked(fs.readFile).mockReset();
});

const freshFolder = () => mkdtemp(join(tmpdir(), 'kenv-settings-'));

describe('SettingsStore', () => {
  it('keeps a change saved while the first read of the file is still under way (the window loading as the user saves)', async () => {
    const folder = await freshFolder();
    const store = SettingsStore.inFolder(folder);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const missing = () => Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    // The first read waits for `release`; any other read finds no file at once, as a first run does.
    vi.mocked(fs.readFile)
      .mockImplementationOnce(async () => {
        await held;
        throw missing();
      })
      .mockImplementation(async () => {
        throw missing();
      });

    const reading = store.get();
    const saving = store.update({ outputLocation: 'ask', deletePlaintextAfterEncrypt: true });
    // Every step the save can take without the held read is done before the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([reading, saving]);

    expect(await store.get()).toMatchObject({ outputLocation: 'ask', deletePlaintextAfterEncrypt: true });
    expect(JSON.parse(readFileSync(join(folder, 'settings.json'), 'utf8'))).toMatchObject({ outputLocation: 'ask', deletePlaintextAfterEncrypt: true });
  });

  it('two saves at once both count: the second does not put back what the first changed', async () => {
    const folder = await freshFolder();
    const store = SettingsStore.inFolder(folder);
    await store.get();
    // Saving the settings dialog while a job start records the key it used.
    await Promise.all([store.update({ deletePlaintextAfterEncrypt: true }), store.update({ lastKeyId: 'alias/finance' })]);

    expect(await store.get()).toMatchObject({ deletePlaintextAfterEncrypt: true, lastKeyId: 'alias/finance' });
    expect(await SettingsStore.inFolder(folder).get()).toMatchObject({ deletePlaintextAfterEncrypt: true, lastKeyId: 'alias/finance' });
  });
});
