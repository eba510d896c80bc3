import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreVault } from '../../../electron/core/app/vault.js';
import { encryptFile } from '../../../electron/core/files.js';
import { KmsRsaKeyring } from '../../../electron/core/keyring/kms-rsa-keyring.js';
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
