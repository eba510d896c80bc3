import { constants, createHash, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, GetPublicKeyCommand, ReplicateKeyCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { LocalKmsFixture, kmsClient } from '../../support/local-kms.js';

// Many CLI runs and RSA key generation: on a loaded 2-core machine these take minutes, not seconds.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });
const fixture = new LocalKmsFixture();
let kms: LocalKms;
beforeAll(async () => {
  kms = await fixture.start();
});
afterAll(() => fixture.closeAll());

async function rsaKey(spec: 'RSA_2048' | 'RSA_3072' | 'RSA_4096', usage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' = 'ENCRYPT_DECRYPT'): Promise<string> {
  return (await kmsClient(kms).send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }))).KeyMetadata!.Arn!;
}

describe('local KMS RSA keys', () => {
  for (const [spec, bits, maxSha256, maxSha1] of [['RSA_2048', 2048, 190, 214], ['RSA_3072', 3072, 318, 342], ['RSA_4096', 4096, 446, 470]] as const) {
    it(`${spec}: CreateKey, GetPublicKey, Encrypt up to the limit, Decrypt with the algorithm`, async () => {
      const client = kmsClient(kms);
      const arn = await rsaKey(spec);
      const meta = (await client.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!;
      expect(meta).toMatchObject({ KeySpec: spec, KeyUsage: 'ENCRYPT_DECRYPT', EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] });
      const pub = await client.send(new GetPublicKeyCommand({ KeyId: arn }));
      expect(pub).toMatchObject({ KeyId: arn, KeySpec: spec, KeyUsage: 'ENCRYPT_DECRYPT' });
      const publicKey = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: 'der', type: 'spki' });
      expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(bits);

      for (const [algorithm, max] of [['RSAES_OAEP_SHA_256', maxSha256], ['RSAES_OAEP_SHA_1', maxSha1]] as const) {
        const plaintext = randomBytes(max);
        const enc = await client.send(new EncryptCommand({ KeyId: arn, Plaintext: plaintext, EncryptionAlgorithm: algorithm }));
        expect(enc.EncryptionAlgorithm).toBe(algorithm);
        const dec = await client.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: algorithm }));
        expect(Buffer.from(dec.Plaintext!).equals(plaintext)).toBe(true);
        await expect(client.send(new EncryptCommand({ KeyId: arn, Plaintext: randomBytes(max + 1), EncryptionAlgorithm: algorithm }))).rejects.toMatchObject({
          name: 'ValidationException',
        });
      }
      // Encrypted outside KMS with the public key alone, as a recipient does.
      const outside = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('hello'));
      const dec = await client.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: outside, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
      expect(Buffer.from(dec.Plaintext!).toString()).toBe('hello');
    });
  }

  it('answers the real service errors for wrong algorithms, key usages and missing KeyId', async () => {
    const client = kmsClient(kms);
    const arn = await rsaKey('RSA_2048');
    const enc = await client.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    // The other OAEP hash does not open it.
    await expect(client.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
    });
    // RSA keys need an RSA algorithm; symmetric keys refuse one.
    await expect(client.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: enc.CiphertextBlob }))).rejects.toMatchObject({ name: 'InvalidKeyUsageException' });
    await expect(client.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('x') }))).rejects.toMatchObject({ name: 'InvalidKeyUsageException' });
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await expect(
      client.send(new EncryptCommand({ KeyId: symmetric, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
    ).rejects.toMatchObject({ name: 'InvalidKeyUsageException' });
    await expect(client.send(new GetPublicKeyCommand({ KeyId: symmetric }))).rejects.toMatchObject({ name: 'UnsupportedOperationException' });
    // RSA keys make no data keys; signing keys neither encrypt nor decrypt.
    await expect(client.send(new GenerateDataKeyCommand({ KeyId: arn, NumberOfBytes: 32 }))).rejects.toMatchObject({ name: 'InvalidKeyUsageException' });
    const signing = await rsaKey('RSA_2048', 'SIGN_VERIFY');
    expect((await client.send(new GetPublicKeyCommand({ KeyId: signing }))).KeyUsage).toBe('SIGN_VERIFY');
    await expect(
      client.send(new EncryptCommand({ KeyId: signing, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
    ).rejects.toMatchObject({ name: 'InvalidKeyUsageException' });
    // An RSA ciphertext names no key: without KeyId KMS cannot decrypt it.
    await expect(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
    });
    await expect(client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256' }))).rejects.toMatchObject({ name: 'UnsupportedOperationException' });
  });
});

describe('local KMS multi-Region keys', () => {
  it('ReplicateKey copies the key material: a ciphertext of the primary decrypts with the replica', async () => {
    const east = kmsClient(kms, 'us-east-1');
    const west = kmsClient(kms, 'eu-west-1');
    const primary = (await east.send(new CreateKeyCommand({ MultiRegion: true, Description: 'mrk' }))).KeyMetadata!;
    expect(primary.KeyId).toMatch(/^mrk-/);
    const out = await east.send(new ReplicateKeyCommand({ KeyId: primary.Arn!, ReplicaRegion: 'eu-west-1' }));
    const replicaArn = primary.Arn!.replace('us-east-1', 'eu-west-1');
    expect(out.ReplicaKeyMetadata).toMatchObject({ Arn: replicaArn, KeyId: primary.KeyId, MultiRegion: true });
    expect(out.ReplicaKeyMetadata!.MultiRegionConfiguration).toMatchObject({ MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: primary.Arn, Region: 'us-east-1' } });
    const described = (await east.send(new DescribeKeyCommand({ KeyId: primary.Arn! }))).KeyMetadata!;
    expect(described.MultiRegionConfiguration).toMatchObject({ MultiRegionKeyType: 'PRIMARY', ReplicaKeys: [{ Arn: replicaArn, Region: 'eu-west-1' }] });

    const context = { file: 'report' };
    const enc = await east.send(new EncryptCommand({ KeyId: primary.Arn!, Plaintext: Buffer.from('data key'), EncryptionContext: context }));
    const dec = await west.send(new DecryptCommand({ KeyId: replicaArn, CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }));
    expect(dec.KeyId).toBe(replicaArn);
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('data key');

    await expect(east.send(new ReplicateKeyCommand({ KeyId: primary.Arn!, ReplicaRegion: 'eu-west-1' }))).rejects.toMatchObject({ name: 'AlreadyExistsException' });
    await expect(west.send(new ReplicateKeyCommand({ KeyId: replicaArn, ReplicaRegion: 'ap-south-1' }))).rejects.toMatchObject({ name: 'UnsupportedOperationException' });
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await expect(east.send(new ReplicateKeyCommand({ KeyId: single, ReplicaRegion: 'eu-west-1' }))).rejects.toMatchObject({ name: 'UnsupportedOperationException' });
  });

  it('keeps an RSA key across a restart: the same public key after it', async () => {
    const dir = fixture.tempDir();
    const first = await fixture.start({ stateDir: dir });
    const arn = (await kmsClient(first).send(new CreateKeyCommand({ KeySpec: 'RSA_2048' }))).KeyMetadata!.Arn!;
    const pem1 = (await kmsClient(first).send(new GetPublicKeyCommand({ KeyId: arn }))).PublicKey!;
    await first.close();
    const second = await fixture.start({ stateDir: dir });
    const pem2 = (await kmsClient(second).send(new GetPublicKeyCommand({ KeyId: arn }))).PublicKey!;
    expect(createHash('sha256').update(pem2).digest('hex')).toBe(createHash('sha256').update(pem1).digest('hex'));
  });
});
