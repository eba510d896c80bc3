import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, Settings } from '../../../shared/ipc.js';
import { coreVault } from '../../../electron/core/app/vault.js';
import { encryptFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { LocalKmsFixture, kmsClient } from '../../support/local-kms.js';

// The app's setting "Most data keys per file" (default 10) reaches decryption: a file over it is refused before
// any KMS call.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let kenvPath: string;

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  const second = (await kmsClient(kms).send(new CreateKeyCommand({ Description: 'second' }))).KeyMetadata!.Arn!;
  writeFileSync(join(dir, 'two-keys.txt'), 'two keys');
  kenvPath = (await encryptFile(join(dir, 'two-keys.txt'), { keyring: new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS, second], clients: () => kmsClient(kms) }) })).outputPath;
});
afterAll(() => fixture.closeAll());

describe('the app setting for the most data keys per file', () => {
  it('defaults to 10 and takes 1 to 65535', () => {
    expect(DEFAULT_SETTINGS.maxDataKeys).toBe(10);
    expect(Settings.safeParse({ ...DEFAULT_SETTINGS, maxDataKeys: 0 }).success).toBe(false);
    expect(Settings.safeParse({ ...DEFAULT_SETTINGS, maxDataKeys: 65_535 }).success).toBe(true);
  });

  it('a file with more data keys than the setting is refused before any KMS call', async () => {
    let setting = 1;
    const vault = coreVault(() => () => kmsClient(kms), { maxDataKeys: async () => setting });
    const before = kms.counts().Decrypt ?? 0;
    const opts = { outDir: join(dir, 'out'), onProgress: () => undefined, signal: new AbortController().signal };
    await expect(vault.decryptFile(kenvPath, opts)).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(kms.counts().Decrypt ?? 0).toBe(before);
    setting = 2;
    await expect(vault.decryptFile(kenvPath, opts)).resolves.toMatchObject({ bytesOut: 8 });
  });
});
