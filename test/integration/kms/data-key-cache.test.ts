// One data key cache for the CLI and the app (issue 14): both paths draw data keys from the core's DataKeyCache,
// within limits in the settings' shape, against the local KMS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../shared/ipc.js';
import { SettingsStore } from '../../../electron/core/app/settings-store.js';
import { coreVault } from '../../../electron/core/app/vault.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { encryptBatch } from '../../../electron/core/kms/batch.js';
import { DataKeyCache, DEFAULT_CACHE_LIMITS } from '../../../electron/core/kms/data-key-cache.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { kmsClient, LocalKmsFixture } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
beforeAll(async () => {
  kms = await fixture.start();
});
afterAll(async () => {
  await fixture.closeAll();
});

function files(prefix: string, n: number): string[] {
  const dir = fixture.tempDir();
  return Array.from({ length: n }, (_, i) => {
    const path = join(dir, `${prefix}-${i}.txt`);
    writeFileSync(path, `${prefix} ${i}`);
    return path;
  });
}

describe('one data key cache', () => {
  it('kenv encrypt batches and the app\'s jobs both draw data keys from the core\'s DataKeyCache, within the settings\' limits', async () => {
    const client = kmsClient(kms);
    const clients = () => client;
    const generated = () => kms.counts().GenerateDataKey ?? 0;
    const drawn = vi.spyOn(DataKeyCache.prototype, 'keyring');
    try {
      // The settings' limits: two files per data key.
      const limits = { ...DEFAULT_SETTINGS.cache, maxMessages: 2 };

      // The CLI: `kenv encrypt a b c d e` runs encryptBatch with the cache on.
      let before = generated();
      const results = await encryptBatch(files('cli', 5), { keyring: new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients }), cache: limits, concurrency: 1 });
      expect(results.every((r) => r.ok)).toBe(true);
      expect(generated() - before).toBe(3);
      expect(drawn).toHaveBeenCalledTimes(5);

      // The app: the shell builds the cache from the settings file, and every job's file goes through it.
      const settings = SettingsStore.inFolder(fixture.tempDir());
      await settings.update({ cache: limits });
      const vault = coreVault(() => clients, { cache: new DataKeyCache(async () => (await settings.get()).cache) });
      before = generated();
      for (const path of files('app', 5)) {
        await vault.encryptFile(path, { keyIds: [DEMO_KEY_ALIAS], context: {}, fileId: false, onProgress: () => undefined, signal: new AbortController().signal });
      }
      expect(generated() - before).toBe(3);
      expect(drawn).toHaveBeenCalledTimes(10);

      // And the CLI's defaults are the settings' defaults.
      expect(DEFAULT_SETTINGS.cache).toEqual(DEFAULT_CACHE_LIMITS);
    } finally {
      drawn.mockRestore();
      client.destroy();
    }
  });
});
