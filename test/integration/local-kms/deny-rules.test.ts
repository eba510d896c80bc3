// The local KMS's deny rules: every form a key can be named in (id, ARN, alias, alias ARN, *) and the ReEncrypt
// permissions (ReEncryptFrom on the source, ReEncryptTo on the destination, or the operation name for both).
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, EncryptCommand, type KMSClient, ReEncryptCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DenyRule, LocalKms } from '../../../electron/core/local-kms/server.js';
import { kmsClient, LocalKmsFixture } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let client: KMSClient;
beforeAll(async () => {
  kms = await fixture.start();
  client = kmsClient(kms);
});
afterAll(async () => {
  client.destroy();
  await fixture.closeAll();
});

let seq = 0;
async function newKey(): Promise<{ keyId: string; arn: string; alias: string; aliasArn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'deny test' }));
  const alias = `alias/deny-${++seq}-${Date.now()}`;
  await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata!.KeyId! }));
  const aliasArn = KeyMetadata!.Arn!.replace(/:key\/.*$/, `:${alias}`);
  return { keyId: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn!, alias, aliasArn };
}

async function sealUnder(keyId: string): Promise<Uint8Array> {
  return (await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
}

const denied = { name: 'AccessDeniedException' };

describe('local KMS deny rules', () => {
  it.each(['keyId', 'arn', 'alias', 'aliasArn'] as const)('a Decrypt rule naming the key by %s denies Decrypt under that key only', async (form) => {
    const key = await newKey();
    const other = await newKey();
    const blob = await sealUnder(key.keyId);
    const otherBlob = await sealUnder(other.keyId);
    const rule: DenyRule = { operation: 'Decrypt', key: key[form] };
    kms.deny(rule);
    try {
      await expect(client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toMatchObject(denied);
      expect((await client.send(new DecryptCommand({ CiphertextBlob: otherBlob }))).Plaintext).toBeDefined();
      // Encrypt under the same key is another operation: allowed.
      expect((await sealUnder(key.keyId)).length).toBeGreaterThan(0);
    } finally {
      kms.allow(rule);
    }
    expect((await client.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext).toBeDefined();
  });

  it('ReEncryptFrom on the source key denies ReEncrypt from it, not to it', async () => {
    const [a, b] = [await newKey(), await newKey()];
    const rule: DenyRule = { operation: 'ReEncryptFrom', key: a.alias };
    kms.deny(rule);
    try {
      await expect(client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(a.keyId), DestinationKeyId: b.keyId }))).rejects.toMatchObject(denied);
      expect((await client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(b.keyId), DestinationKeyId: a.keyId }))).CiphertextBlob).toBeDefined();
    } finally {
      kms.allow(rule);
    }
  });

  it('ReEncryptTo on the destination key denies ReEncrypt to it, not from it', async () => {
    const [a, b] = [await newKey(), await newKey()];
    const rule: DenyRule = { operation: 'ReEncryptTo', key: b.arn };
    kms.deny(rule);
    try {
      await expect(client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(a.keyId), DestinationKeyId: b.keyId }))).rejects.toMatchObject(denied);
      expect((await client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(b.keyId), DestinationKeyId: a.keyId }))).CiphertextBlob).toBeDefined();
    } finally {
      kms.allow(rule);
    }
  });

  it('a rule on the operation name ReEncrypt denies it whichever side the key is on; a * key denies every key', async () => {
    const [a, b] = [await newKey(), await newKey()];
    const rule: DenyRule = { operation: 'ReEncrypt', key: a.keyId };
    kms.deny(rule);
    try {
      await expect(client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(a.keyId), DestinationKeyId: b.keyId }))).rejects.toMatchObject(denied);
      await expect(client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(b.keyId), DestinationKeyId: a.keyId }))).rejects.toMatchObject(denied);
    } finally {
      kms.allow(rule);
    }
    const every: DenyRule = { operation: 'ReEncrypt', key: '*' };
    kms.deny(every);
    try {
      await expect(client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(b.keyId), DestinationKeyId: b.keyId }))).rejects.toMatchObject(denied);
    } finally {
      kms.allow(every);
    }
  });
});
