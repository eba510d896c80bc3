import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decryptFile, encryptFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { defaultKmsClientFactory } from '../../../electron/core/kms/client.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

// Kenv's own KMS keyring, with clients built the product's way (SDK default chain), reaching the local KMS only
// through AWS_ENDPOINT_URL_KMS: the seam later issues build on.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let work: string;

beforeAll(async () => {
  kms = await fixture.start();
  work = fixture.tempDir();
  vi.stubEnv('HOME', work);
  vi.stubEnv('AWS_CONFIG_FILE', join(work, 'no-config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(work, 'no-credentials'));
  vi.stubEnv('AWS_ENDPOINT_URL_KMS', kms.url);
  vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_REGION', 'us-east-1');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await fixture.closeAll();
});

let n = 0;
function plainFile(content: string): string {
  const path = join(work, `plain-${++n}.txt`);
  writeFileSync(path, content);
  return path;
}

describe('Kenv KmsKeyring against the local KMS', () => {
  it('encrypts a file with alias/kenv-demo and decrypts it, one GenerateDataKey and one Decrypt', async () => {
    const before = kms.counts();
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: defaultKmsClientFactory() });
    const input = plainFile('local kms file');
    const { outputPath } = await encryptFile(input, { keyring, context: { project: 'kenv' } });
    const out = join(work, 'roundtrip.txt');
    const { info } = await decryptFile(outputPath, { keyring: new KmsKeyring({ clients: defaultKmsClientFactory() }), outputPath: out });
    expect(readFileSync(out, 'utf8')).toBe('local kms file');
    expect(info.encryptedDataKeys).toEqual([expect.objectContaining({ providerId: 'aws-kms', keyArn: kms.keys()[0]!.arn })]);
    expect(kms.counts().GenerateDataKey).toBe((before.GenerateDataKey ?? 0) + 1);
    expect(kms.counts().Decrypt).toBe((before.Decrypt ?? 0) + 1);
  });

  it('a deny rule on Decrypt becomes KMS_ACCESS_DENIED', async () => {
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: defaultKmsClientFactory() });
    const { outputPath } = await encryptFile(plainFile('x'), { keyring });
    kms.deny({ operation: 'Decrypt', key: DEMO_KEY_ALIAS });
    try {
      const discovery = new KmsKeyring({ clients: defaultKmsClientFactory() });
      await expect(decryptFile(outputPath, { keyring: discovery, outputPath: join(work, 'denied.txt') })).rejects.toMatchObject({
        code: 'KMS_ACCESS_DENIED',
      });
    } finally {
      kms.allow();
    }
  });

  it('the demo key addressed from another Region becomes KMS_KEY_NOT_FOUND', async () => {
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: defaultKmsClientFactory({ region: 'eu-west-1' }) });
    await expect(encryptFile(plainFile('x'), { keyring, outputPath: join(work, 'wrong-region.kenv') })).rejects.toMatchObject({
      code: 'KMS_KEY_NOT_FOUND',
    });
  });
});
