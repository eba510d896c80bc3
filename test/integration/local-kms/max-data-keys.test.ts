import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canOpenFile } from '../../../electron/core/app/proof.js';
import { decryptFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import type { EncryptedDataKey, Keyring } from '../../../electron/core/keyring/types.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { runKenv } from '../../support/cli.js';
import { LocalKmsFixture, kmsClient, localKmsEnv } from '../../support/local-kms.js';
import { encryptBuffer } from '../../support/streams.js';

// A header of 1,000 KMS data keys (well under the header size limit) must not make Kenv call KMS 1,000 times under
// the user's identity: it is refused right after the header is parsed, before any KMS call.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let env: Record<string, string>;
let message: Buffer;

/** What a crafted header holds: 999 data keys under made-up key ARNs, then the real one. */
function padded(inner: Keyring, junk: number): Keyring {
  return {
    async wrapDataKey(req) {
      const wrapped = await inner.wrapDataKey(req);
      const fake: EncryptedDataKey[] = Array.from({ length: junk }, () => ({
        providerId: 'aws-kms',
        providerInfo: Buffer.from(`arn:aws:kms:us-east-1:111122223333:key/${randomBytes(16).toString('hex')}`),
        ciphertext: randomBytes(64),
      }));
      return { dataKey: wrapped.dataKey, edks: [...fake, ...wrapped.edks] };
    },
    unwrapDataKey: (req) => inner.unwrapDataKey(req),
  };
}

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  env = localKmsEnv(kms, dir);
  const keyring = padded(new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => kmsClient(kms) }), 999);
  message = await encryptBuffer(Buffer.from('a thousand keys'), { keyring, maxEncryptedDataKeys: 1000 });
  writeFileSync(join(dir, 'many.kenv'), message);
});
afterAll(() => fixture.closeAll());

describe('a header of 1,000 KMS data keys', () => {
  it('is 1,000 data keys in well under the header size limit', () => {
    expect(message.readUInt16BE(1 + 2 + 32 + 2)).toBe(1000);
    expect(message.length).toBeLessThan(256 * 1024);
  });

  it('kenv decrypt refuses it with TOO_MANY_DATA_KEYS and makes no KMS call', async () => {
    const before = kms.counts().Decrypt ?? 0;
    const out = join(dir, 'out-cli');
    const result = await runKenv(['decrypt', join(dir, 'many.kenv'), '--out', out], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[TOO_MANY_DATA_KEYS]');
    expect(result.stderr).toMatch(/1,000 encrypted data keys.*limit of 10\b.*--max-data-keys 1000/);
    expect(kms.counts().Decrypt ?? 0).toBe(before);
    expect(existsSync(join(out, 'many'))).toBe(false);

    const piped = await runKenv(['decrypt', '-'], { env, input: message });
    expect(piped.code).toBe(1);
    expect(piped.stderr).toContain('[TOO_MANY_DATA_KEYS]');
    expect(piped.stdout.length).toBe(0);
    expect(kms.counts().Decrypt ?? 0).toBe(before);
  });

  it('decryptFile refuses it before any KMS call', async () => {
    const before = kms.counts().Decrypt ?? 0;
    await expect(decryptFile(join(dir, 'many.kenv'), { keyring: new KmsKeyring({ clients: () => kmsClient(kms) }), outputPath: join(dir, 'out.txt') })).rejects.toMatchObject({
      code: 'TOO_MANY_DATA_KEYS',
    });
    expect(kms.counts().Decrypt ?? 0).toBe(before);
  });

  it("the app's access check (files:canOpen) refuses it too, with no KMS call, not even a DryRun", async () => {
    const before = kms.counts().Decrypt ?? 0;
    await expect(canOpenFile(join(dir, 'many.kenv'), () => kmsClient(kms))).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(kms.counts().Decrypt ?? 0).toBe(before);
  });

  it('kenv verify refuses it the same way, before any KMS call', async () => {
    const before = kms.counts().Decrypt ?? 0;
    const result = await runKenv(['verify', join(dir, 'many.kenv')], { env });
    expect(result.code).toBe(1);
    expect(result.stdout.toString() + result.stderr.toString()).toContain('TOO_MANY_DATA_KEYS');
    expect(kms.counts().Decrypt ?? 0).toBe(before);
  });

  it('--max-data-keys 1000 lets a person who trusts the file open it', async () => {
    const out = join(dir, 'out-raised');
    const result = await runKenv(['decrypt', join(dir, 'many.kenv'), '--out', out, '--max-data-keys', '1000', '--key', kms.keys()[0]!.arn], { env });
    expect(result.stderr).toMatch(/^decrypted .*many\.kenv -> /);
    expect(result.code).toBe(0);
  });

  it('--max-data-keys takes 1 to 65535 only', async () => {
    for (const bad of ['0', '-1', 'ten', '65536']) {
      const result = await runKenv(['decrypt', join(dir, 'many.kenv'), '--max-data-keys', bad], { env });
      expect(result.code).toBe(2);
    }
  });
});
