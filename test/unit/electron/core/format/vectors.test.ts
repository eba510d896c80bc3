import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import { decryptBuffer } from '../../../../support/streams.js';

// Official ESDK decrypt vectors (ESDK-NET 4.0.1), copied from the shared conformance folder into test/fixtures.
const root = join(import.meta.dirname, '../../../../fixtures/esdk-vectors-v4-Net-4.0.1');

interface Manifest {
  keys: string;
  tests: Record<
    string,
    {
      ciphertext: string;
      'master-keys': { type: string; key: string; 'provider-id': string }[];
      'encryption-context'?: Record<string, string>;
      result: { output: { plaintext: string } };
    }
  >;
}

const fileUrl = (u: string): string => join(root, u.replace('file://', ''));
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest;
const keys = JSON.parse(readFileSync(fileUrl(manifest.keys), 'utf8')) as { keys: Record<string, { material: string }> };

describe('ESDK-NET 4.0.1 decrypt vectors', () => {
  const names = Object.keys(manifest.tests);

  it('has the vectors the manifest lists', () => {
    expect(names.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of names) {
    it(`decrypts ${name}`, async () => {
      const test = manifest.tests[name]!;
      const masterKey = test['master-keys'][0]!;
      const keyring = new RawAesKeyring({
        namespace: masterKey['provider-id'],
        name: masterKey.key,
        key: Buffer.from(keys.keys[masterKey.key]!.material, 'base64'),
      });
      const ciphertext = readFileSync(fileUrl(test.ciphertext));
      const expected = readFileSync(fileUrl(test.result.output.plaintext));
      const plaintext = await decryptBuffer(ciphertext, { keyring, requiredContext: test['encryption-context'] ?? {} }, 777);
      expect(plaintext.equals(expected)).toBe(true);
    });
  }

  it('refuses a required-context vector when the required pairs are not supplied', async () => {
    const name = names.find((n) => n.includes('RequiredEncryptionContext'))!;
    const test = manifest.tests[name]!;
    const keyring = new RawAesKeyring({
      namespace: 'aws-raw-vectors-persistant',
      name: 'aes-256',
      key: Buffer.from(keys.keys['aes-256']!.material, 'base64'),
    });
    await expect(decryptBuffer(readFileSync(fileUrl(test.ciphertext)), { keyring })).rejects.toMatchObject({ code: 'NO_KEY_OPENED' });
  });
});
