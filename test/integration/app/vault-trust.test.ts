import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreVault } from '../../../electron/core/app/vault.js';
import { encryptFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { KmsRsaKeyring } from '../../../electron/core/keyring/kms-rsa-keyring.js';
import { PrivateOpens } from '../../../electron/core/app/private-open.js';
import { RecordingSink, recordingShell } from '../../support/app-services.js';
import { parseRecipient, formatRecipient } from '../../../electron/core/keyring/recipient.js';
import { TrustedAccounts } from '../../../electron/core/kms/trust.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { LocalKmsFixture, kmsClient } from '../../support/local-kms.js';

// The app's decrypt: recipient files open through KMS, and a stranger's file is refused before any KMS call.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let rsaArn: string;
let recipientText: string;
beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  rsaArn = (await kmsClient(kms).send(new CreateKeyCommand({ KeySpec: 'RSA_2048' }))).KeyMetadata!.Arn!;
  const pub = await kmsClient(kms).send(new GetPublicKeyCommand({ KeyId: rsaArn }));
  recipientText = formatRecipient(rsaArn, 'RSAES_OAEP_SHA_256', pub.PublicKey!);
});
afterAll(() => fixture.closeAll());

const signal = new AbortController().signal;
const trust = async () => ({ trust: new TrustedAccounts([], 'aws', async () => '111122223333'), region: 'us-east-1' });

async function sealedFor(text: string, name: string): Promise<string> {
  const input = join(dir, name);
  writeFileSync(input, `secret ${name}`);
  const keyring = new KmsRsaKeyring(parseRecipient(text, 'recipient'));
  return (await encryptFile(input, { keyring, context: {} })).outputPath;
}

describe('the app decrypts with trusted accounts only', () => {
  it('opens a file made for a recipient of the trusted account', async () => {
    const vault = coreVault(() => () => kmsClient(kms), { trust });
    const sealed = await sealedFor(recipientText, 'ok.txt');
    const out = await vault.decryptFile(sealed, { outDir: join(dir, 'out'), onProgress: () => undefined, signal });
    expect(out.bytesOut).toBe('secret ok.txt'.length);
  });

  it("refuses a stranger's file with UNTRUSTED_KEY_ACCOUNT before any KMS call", async () => {
    const vault = coreVault(() => () => kmsClient(kms), { trust });
    const sealed = await sealedFor(recipientText.replace(rsaArn, rsaArn.replace(':111122223333:', ':999988887777:')), 'stranger.txt');
    const before = kms.counts();
    await expect(vault.decryptFile(sealed, { outDir: join(dir, 'out2'), onProgress: () => undefined, signal })).rejects.toMatchObject({
      code: 'UNTRUSTED_KEY_ACCOUNT',
    });
    expect(kms.counts()).toEqual(before);
  });
});

/**
 * A .kenv naming a symmetric KMS key of account 999988887777: made under the local key, then its key ARN rewritten
 * (same length; the header tag no longer verifies, but the trusted-accounts filter comes before any of that).
 */
async function strangersKmsFile(name: string): Promise<string> {
  const input = join(dir, name);
  writeFileSync(input, `secret ${name}`);
  const path = (await encryptFile(input, { keyring: new KmsKeyring({ keyIds: ['alias/kenv-demo'], clients: () => kmsClient(kms) }), context: {} })).outputPath;
  const bytes = readFileSync(path);
  const at = bytes.indexOf(':111122223333:key/');
  bytes.write(':999988887777:key/', at, 'latin1');
  writeFileSync(path, bytes);
  return path;
}

/** Every KMS operation the local server answered except STS (the identity's own account may be asked of STS). */
function kmsCalls(): Record<string, number> {
  return Object.fromEntries(Object.entries(kms.counts()).filter(([op]) => !op.startsWith('sts:')));
}

describe('every app path that opens a data key applies the trusted accounts before any KMS call', () => {
  it('Open without saving (private:open) refuses a stranger\'s file, KMS never called, no private folder left', async () => {
    const vault = coreVault(() => () => kmsClient(kms), { trust });
    const root = fixture.tempDir();
    const opens = new PrivateOpens(vault, recordingShell(), new RecordingSink(), root);
    for (const sealed of [await strangersKmsFile('open-kms.txt'), await sealedFor(recipientText.replace(rsaArn, rsaArn.replace(':111122223333:', ':999988887777:')), 'open-rsa.txt')]) {
      const before = kmsCalls();
      await expect(opens.open(sealed)).rejects.toMatchObject({ code: 'UNTRUSTED_KEY_ACCOUNT', message: expect.stringContaining('999988887777') });
      expect(kmsCalls()).toEqual(before);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('Check vault (verifyFolder) reports a stranger\'s file as UNTRUSTED_KEY_ACCOUNT without calling KMS', async () => {
    const vault = coreVault(() => () => kmsClient(kms), { trust });
    const folder = fixture.tempDir();
    const kmsFile = await strangersKmsFile('check-kms.txt');
    writeFileSync(join(folder, 'kms.kenv'), readFileSync(kmsFile));
    writeFileSync(join(folder, 'rsa.kenv'), readFileSync(await sealedFor(recipientText.replace(rsaArn, rsaArn.replace(':111122223333:', ':999988887777:')), 'check-rsa.txt')));
    const before = kmsCalls();
    const results = await vault.verifyFolder!(folder);
    expect(results.map((r) => [r.path, r.error?.code]).sort()).toEqual([['kms.kenv', 'UNTRUSTED_KEY_ACCOUNT'], ['rsa.kenv', 'UNTRUSTED_KEY_ACCOUNT']]);
    expect(kmsCalls()).toEqual(before);
  });

  it('Check vault applies the data-key cap of the settings', async () => {
    const vault = coreVault(() => () => kmsClient(kms), { trust, maxDataKeys: async () => 1 });
    const folder = fixture.tempDir();
    const input = join(dir, 'two-keys.txt');
    writeFileSync(input, 'two keys');
    const two = (await encryptFile(input, { keyring: new KmsKeyring({ keyIds: ['alias/kenv-demo', 'alias/kenv-demo'], clients: () => kmsClient(kms) }), context: {} })).outputPath;
    writeFileSync(join(folder, 'two.kenv'), readFileSync(two));
    const before = kmsCalls();
    expect((await vault.verifyFolder!(folder)).map((r) => r.error?.code)).toEqual(['TOO_MANY_DATA_KEYS']);
    expect(kmsCalls()).toEqual(before);
  });
});
