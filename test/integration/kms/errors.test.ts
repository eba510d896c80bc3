import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, DisableKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient,
  ListAliasesCommand, ReEncryptCommand, ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KenvError } from '../../../electron/core/errors.js';
import { type AwsFailureContext, kmsError } from '../../../electron/core/kms/errors.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { refusingEndpoint } from '../../support/http.js';
import { kmsClient, LocalKmsFixture } from '../../support/local-kms.js';

// Each failure the issue names, produced by the real SDK against the local KMS, then mapped.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let client: KMSClient;
const arns: Record<string, string> = {};

async function mapped<T>(call: () => Promise<T>, ctx: AwsFailureContext): Promise<KenvError> {
  try {
    await call();
  } catch (e) {
    return kmsError(e, ctx);
  }
  throw new Error('the call succeeded');
}

beforeAll(async () => {
  kms = await fixture.start({ region: 'eu-west-1' });
  client = kmsClient(kms, 'eu-west-1');
  for (const name of ['main', 'other', 'disabled', 'doomed']) {
    const meta = (await client.send(new CreateKeyCommand({ Description: name }))).KeyMetadata!;
    await client.send(new CreateAliasCommand({ AliasName: `alias/${name}`, TargetKeyId: meta.KeyId! }));
    arns[name] = meta.Arn!;
  }
  await client.send(new DisableKeyCommand({ KeyId: arns.disabled }));
  await client.send(new ScheduleKeyDeletionCommand({ KeyId: arns.doomed, PendingWindowInDays: 7 }));
});
afterAll(async () => {
  client.destroy();
  await fixture.closeAll();
});

describe('kmsError on real SDK failures from the local KMS', () => {
  it.each([
    ['GenerateDataKey', () => client.send(new GenerateDataKeyCommand({ KeyId: 'alias/main', KeySpec: 'AES_256' }))],
    ['Encrypt', () => client.send(new EncryptCommand({ KeyId: 'alias/main', Plaintext: Buffer.from('x') }))],
  ] as const)('access denied on %s names the kms: action, alias and ARN', async (operation, call) => {
    kms.deny({ operation, key: 'alias/main' });
    try {
      const e = await mapped(call, { operation, alias: 'alias/main', keyArn: arns.main, region: 'eu-west-1' });
      expect(e.code).toBe('KMS_ACCESS_DENIED');
      expect(e.message).toContain(`kms:${operation}`);
      expect(e.message).toContain(`alias/main (${arns.main})`);
    } finally {
      kms.allow();
    }
  });

  it('access denied on Decrypt and ReEncrypt names the action', async () => {
    const blob = (await client.send(new EncryptCommand({ KeyId: 'alias/main', Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    kms.deny({ operation: 'Decrypt', key: 'alias/main' });
    kms.deny({ operation: 'ReEncrypt', key: '*' });
    try {
      const d = await mapped(() => client.send(new DecryptCommand({ CiphertextBlob: blob })), { operation: 'Decrypt', keyArn: arns.main, region: 'eu-west-1' });
      expect(d).toMatchObject({ code: 'KMS_ACCESS_DENIED', message: expect.stringContaining('kms:Decrypt') });
      const r = await mapped(() => client.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: 'alias/other' })), { operation: 'ReEncrypt', keyArn: arns.other });
      expect(r).toMatchObject({ code: 'KMS_ACCESS_DENIED', message: expect.stringContaining('kms:ReEncrypt') });
    } finally {
      kms.allow();
    }
  });

  it('access denied on ListAliases', async () => {
    kms.deny({ operation: 'ListAliases', key: '*' });
    try {
      const e = await mapped(() => client.send(new ListAliasesCommand({})), { operation: 'ListAliases', region: 'eu-west-1' });
      expect(e).toMatchObject({ code: 'KMS_ACCESS_DENIED', message: expect.stringContaining('kms:ListAliases') });
    } finally {
      kms.allow();
    }
  });

  it('a disabled key', async () => {
    const e = await mapped(() => client.send(new GenerateDataKeyCommand({ KeyId: 'alias/disabled', KeySpec: 'AES_256' })), { operation: 'GenerateDataKey', alias: 'alias/disabled', keyArn: arns.disabled });
    expect(e).toMatchObject({ code: 'KMS_KEY_DISABLED', message: expect.stringContaining(arns.disabled!) });
  });

  it('a key pending deletion', async () => {
    const e = await mapped(() => client.send(new GenerateDataKeyCommand({ KeyId: 'alias/doomed', KeySpec: 'AES_256' })), { operation: 'GenerateDataKey', alias: 'alias/doomed' });
    expect(e.code).toBe('KMS_KEY_PENDING_DELETION');
  });

  it('a key that does not exist', async () => {
    const e = await mapped(() => client.send(new GenerateDataKeyCommand({ KeyId: 'alias/nope', KeySpec: 'AES_256' })), { operation: 'GenerateDataKey', keyId: 'alias/nope', region: 'eu-west-1' });
    expect(e).toMatchObject({ code: 'KMS_KEY_NOT_FOUND', message: expect.stringContaining('alias/nope') });
  });

  it('a key ARN of another Region', async () => {
    const east = kmsClient(kms, 'us-east-1');
    try {
      const e = await mapped(() => east.send(new GenerateDataKeyCommand({ KeyId: arns.main, KeySpec: 'AES_256' })), { operation: 'GenerateDataKey', keyArn: arns.main, region: 'us-east-1' });
      expect(e).toMatchObject({ code: 'KMS_WRONG_REGION', message: expect.stringContaining('--region eu-west-1') });
    } finally {
      east.destroy();
    }
  });

  it('an encryption context that does not match', async () => {
    const blob = (await client.send(new EncryptCommand({ KeyId: 'alias/main', Plaintext: Buffer.from('x'), EncryptionContext: { project: 'a' } }))).CiphertextBlob!;
    const e = await mapped(() => client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { project: 'b' } })), { operation: 'Decrypt', keyArn: arns.main });
    expect(e).toMatchObject({ code: 'KMS_INVALID_CIPHERTEXT', message: expect.stringContaining('encryption context') });
  });

  it('a ciphertext that is not for the key given', async () => {
    const blob = (await client.send(new EncryptCommand({ KeyId: 'alias/main', Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    const e = await mapped(() => client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: arns.other })), { operation: 'Decrypt', keyArn: arns.other });
    expect(e).toMatchObject({ code: 'KMS_INCORRECT_KEY', message: expect.stringContaining(arns.other!) });
  });

  it('throttled after the retries', async () => {
    kms.throttleNext(3);
    const e = await mapped(() => client.send(new GenerateDataKeyCommand({ KeyId: 'alias/main', KeySpec: 'AES_256' })), { operation: 'GenerateDataKey', alias: 'alias/main' });
    expect(e).toMatchObject({ code: 'KMS_THROTTLED', message: expect.stringContaining('after 3 attempts') });
  });

  it('network unreachable', async () => {
    const refusing = await refusingEndpoint();
    const dead = new KMSClient({ region: 'eu-west-1', endpoint: refusing.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    const e = await mapped(() => dead.send(new GenerateDataKeyCommand({ KeyId: 'alias/main', KeySpec: 'AES_256' })), { operation: 'GenerateDataKey', region: 'eu-west-1' });
    expect(e.code).toBe('NETWORK_REFUSED');
    dead.destroy();
    await refusing.close();
  });

  it('no credentials at all', async () => {
    const none = new KMSClient({
      region: 'eu-west-1', endpoint: kms.url,
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      },
    });
    const e = await mapped(() => none.send(new GenerateDataKeyCommand({ KeyId: 'alias/main', KeySpec: 'AES_256' })), { operation: 'GenerateDataKey' });
    // (With a profile that ~/.aws does not define, the same answer is PROFILE_NOT_FOUND: aws/network-errors.test.ts.)
    expect(e).toMatchObject({ code: 'NO_CREDENTIALS', message: expect.stringContaining('kenv login') });
    none.destroy();
  });
});
