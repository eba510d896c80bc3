import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  AlreadyExistsException,
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  KMSInvalidStateException,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  NotFoundException,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { kmsClient, LOCAL_CREDENTIALS, newAliasedKey, useLocalKms } from '../../support/local-kms.js';

const local = useLocalKms();
const { fixture } = local;

/** A key of its own for one test, with a fresh alias. */
function newKey(c: KMSClient = local.client): Promise<{ keyId: string; arn: string; alias: string }> {
  return newAliasedKey(c);
}

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | undefined): string => Buffer.from(b!).toString('utf8');

describe('local KMS: key management through the real SDK', () => {
  it('CreateKey makes an enabled symmetric key with an ARN in the request Region and the fixed account', async () => {
    const { KeyMetadata: m } = await local.client.send(new CreateKeyCommand({ Description: 'round trip' }));
    expect(m!.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(m).toMatchObject({
      Arn: `arn:aws:kms:us-east-1:111122223333:key/${m!.KeyId}`,
      AWSAccountId: '111122223333',
      Description: 'round trip',
      Enabled: true,
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    });
    expect(m!.CreationDate).toBeInstanceOf(Date);
  });

  it('CreateKey with MultiRegion makes an mrk- key', async () => {
    const { KeyMetadata: m } = await local.client.send(new CreateKeyCommand({ MultiRegion: true }));
    expect(m!.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(m!.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${m!.KeyId}`);
    expect(m).toMatchObject({ MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY' } });
  });

  it('DescribeKey answers the same metadata by key id and by key ARN', async () => {
    const { keyId, arn } = await newKey();
    const byId = await local.client.send(new DescribeKeyCommand({ KeyId: keyId }));
    const byArn = await local.client.send(new DescribeKeyCommand({ KeyId: arn }));
    expect(byId.KeyMetadata).toEqual(byArn.KeyMetadata);
    expect(byId.KeyMetadata!.Arn).toBe(arn);
  });

  it('ListKeys lists every key of the Region and pages with Limit and Marker', async () => {
    await newKey();
    await newKey();
    const all = await local.client.send(new ListKeysCommand({}));
    expect(all.Truncated).toBe(false);
    expect(all.Keys!.length).toBeGreaterThanOrEqual(3); // the demo key and the two above
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await local.client.send(new ListKeysCommand({ Limit: 1, ...(marker ? { Marker: marker } : {}) }));
      expect(page.Keys).toHaveLength(1);
      seen.push(page.Keys![0]!.KeyArn!);
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    expect(seen).toEqual(all.Keys!.map((k) => k.KeyArn));
  });

  it('CreateAlias and ListAliases: the alias appears, with its ARN and target, also filtered by KeyId', async () => {
    const { keyId, alias } = await newKey();
    const filtered = await local.client.send(new ListAliasesCommand({ KeyId: keyId }));
    expect(filtered.Aliases).toEqual([
      expect.objectContaining({ AliasName: alias, AliasArn: `arn:aws:kms:us-east-1:111122223333:${alias}`, TargetKeyId: keyId }),
    ]);
    const all = await local.client.send(new ListAliasesCommand({}));
    expect(all.Aliases!.map((a) => a.AliasName)).toEqual(expect.arrayContaining([alias, DEMO_KEY_ALIAS]));
  });

  it('CreateAlias with a name in use answers AlreadyExistsException', async () => {
    const { keyId, alias } = await newKey();
    const e = await local.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AlreadyExistsException);
    expect(e).toMatchObject({ name: 'AlreadyExistsException', $metadata: { httpStatusCode: 400 } });
  });

  it('CreateAlias refuses an alias as target and a malformed name with ValidationException', async () => {
    const { keyId, alias } = await newKey();
    await expect(local.client.send(new CreateAliasCommand({ AliasName: 'alias/other-x', TargetKeyId: alias }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(local.client.send(new CreateAliasCommand({ AliasName: 'not-an-alias', TargetKeyId: keyId }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('UpdateAlias points an alias at another key', async () => {
    const a = await newKey();
    const b = await newKey();
    await local.client.send(new UpdateAliasCommand({ AliasName: a.alias, TargetKeyId: b.keyId }));
    const m = await local.client.send(new DescribeKeyCommand({ KeyId: a.alias }));
    expect(m.KeyMetadata!.KeyId).toBe(b.keyId);
  });

  it('DeleteAlias removes the alias; the key stays; deleting it again is NotFoundException', async () => {
    const { keyId, alias } = await newKey();
    await local.client.send(new DeleteAliasCommand({ AliasName: alias }));
    await expect(local.client.send(new DescribeKeyCommand({ KeyId: alias }))).rejects.toBeInstanceOf(NotFoundException);
    expect((await local.client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyId).toBe(keyId);
    await expect(local.client.send(new DeleteAliasCommand({ AliasName: alias }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  it('an unknown key id answers NotFoundException naming the key ARN', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const e = await local.client.send(new DescribeKeyCommand({ KeyId: missing })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotFoundException);
    expect((e as Error).message).toContain(`arn:aws:kms:us-east-1:111122223333:key/${missing}`);
  });

  it('DisableKey makes Encrypt, Decrypt and GenerateDataKey answer DisabledException; EnableKey restores them', async () => {
    const { keyId } = await newKey();
    const { CiphertextBlob } = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('x') }));
    await local.client.send(new DisableKeyCommand({ KeyId: keyId }));
    expect((await local.client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ Enabled: false, KeyState: 'Disabled' });

    const e = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('x') })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DisabledException);
    expect(e).toMatchObject({ name: 'DisabledException', message: expect.stringContaining('is disabled') });
    await expect(local.client.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: 'DisabledException' });
    await expect(local.client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }))).rejects.toMatchObject({
      name: 'DisabledException',
    });

    await local.client.send(new EnableKeyCommand({ KeyId: keyId }));
    expect(text((await local.client.send(new DecryptCommand({ CiphertextBlob }))).Plaintext)).toBe('x');
  });

  it('ScheduleKeyDeletion puts the key in PendingDeletion, where every use is KMSInvalidStateException', async () => {
    const { keyId, arn } = await newKey();
    const { CiphertextBlob } = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('x') }));
    const scheduled = await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);

    const m = (await local.client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(m).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false, PendingDeletionWindowInDays: 7 });
    const e = await local.client.send(new DecryptCommand({ CiphertextBlob })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KMSInvalidStateException);
    expect(e).toMatchObject({ name: 'KMSInvalidStateException', message: `${arn} is pending deletion.` });
    for (const command of [
      new EncryptCommand({ KeyId: keyId, Plaintext: utf8('x') }),
      new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 }),
      new EnableKeyCommand({ KeyId: keyId }),
      new DisableKeyCommand({ KeyId: keyId }),
      new ScheduleKeyDeletionCommand({ KeyId: keyId }),
    ]) {
      await expect(local.client.send(command as EncryptCommand)).rejects.toMatchObject({ name: 'KMSInvalidStateException' });
    }
  });

  it('CancelKeyDeletion brings a pending key back disabled; cancelling a key not pending is KMSInvalidStateException', async () => {
    const { keyId, arn } = await newKey();
    await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId }));
    expect(await local.client.send(new CancelKeyDeletionCommand({ KeyId: keyId }))).toMatchObject({ KeyId: arn });
    const m = (await local.client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(m.KeyState).toBe('Disabled');
    expect(m.DeletionDate).toBeUndefined();
    await expect(local.client.send(new CancelKeyDeletionCommand({ KeyId: keyId }))).rejects.toMatchObject({
      name: 'KMSInvalidStateException',
    });
  });

  it('key rotation: off by default, EnableKeyRotation turns it on with a period, off while pending deletion', async () => {
    const { keyId, arn } = await newKey();
    expect(await local.client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: false });
    await local.client.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 180 }));
    expect(await local.client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({
      KeyId: arn,
      KeyRotationEnabled: true,
      RotationPeriodInDays: 180,
    });

    await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId }));
    expect(await local.client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: false });
    await local.client.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect(await local.client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: true });

    await expect(local.client.send(new EnableKeyRotationCommand({ KeyId: keyId }))).rejects.toMatchObject({ name: 'DisabledException' });
    await local.client.send(new EnableKeyCommand({ KeyId: keyId }));
    await local.client.send(new DisableKeyRotationCommand({ KeyId: keyId }));
    expect(await local.client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: false });
  });
});

describe('local KMS: cryptographic operations through the real SDK', () => {
  it('Encrypt and Decrypt round-trip with an encryption context, and Decrypt needs no KeyId', async () => {
    const { keyId, arn } = await newKey();
    const context = { purpose: 'test', 'file name': 'é.txt' };
    const enc = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('hello'), EncryptionContext: context }));
    expect(enc).toMatchObject({ KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(Buffer.from(enc.CiphertextBlob!).includes(Buffer.from('hello'))).toBe(false);

    const dec = await local.client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { ...context } }));
    expect(text(dec.Plaintext)).toBe('hello');
    expect(dec.KeyId).toBe(arn);
    const withKeyId = await local.client.send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: arn, EncryptionContext: context }),
    );
    expect(text(withKeyId.Plaintext)).toBe('hello');
  });

  it('Decrypt with a different encryption context answers InvalidCiphertextException', async () => {
    const { keyId } = await newKey();
    const context = { a: '1', b: '2' };
    const { CiphertextBlob } = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('x'), EncryptionContext: context }));
    const wrongs: (Record<string, string> | undefined)[] = [undefined, {}, { a: '1' }, { a: '1', b: '3' }, { a: '1', b: '2', c: '3' }, { ab: '12' }];
    for (const wrong of wrongs) {
      const e = await local.client.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: wrong })).catch((x: unknown) => x);
      expect(e, JSON.stringify(wrong)).toBeInstanceOf(InvalidCiphertextException);
      expect(e).toMatchObject({ name: 'InvalidCiphertextException', $metadata: { httpStatusCode: 400 } });
    }
  });

  it('an empty context and no context are the same context', async () => {
    const { keyId } = await newKey();
    const { CiphertextBlob } = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('x'), EncryptionContext: {} }));
    expect(text((await local.client.send(new DecryptCommand({ CiphertextBlob }))).Plaintext)).toBe('x');
  });

  it('a blob altered anywhere answers InvalidCiphertextException', async () => {
    const { keyId } = await newKey();
    const { CiphertextBlob } = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('sixteen bytes!!!') }));
    const blob = Buffer.from(CiphertextBlob!);
    for (let at = 0; at < blob.length; at++) {
      const altered = Buffer.from(blob);
      altered[at]! ^= 0x01;
      await expect(local.client.send(new DecryptCommand({ CiphertextBlob: altered })), `byte ${at}`).rejects.toMatchObject({
        name: 'InvalidCiphertextException',
      });
    }
    await expect(local.client.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, 20) }))).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
    });
  });

  it('Decrypt with a KeyId that is not the blob key answers IncorrectKeyException', async () => {
    const a = await newKey();
    const b = await newKey();
    const { CiphertextBlob } = await local.client.send(new EncryptCommand({ KeyId: a.keyId, Plaintext: utf8('x') }));
    const e = await local.client.send(new DecryptCommand({ CiphertextBlob, KeyId: b.alias })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IncorrectKeyException);
    expect(e).toMatchObject({ name: 'IncorrectKeyException', $metadata: { httpStatusCode: 400 } });
  });

  it('keys are addressed by key id, key ARN, alias name and alias ARN alike', async () => {
    const { keyId, arn, alias } = await newKey();
    const aliasArnText = `arn:aws:kms:us-east-1:111122223333:${alias}`;
    for (const ref of [keyId, arn, alias, aliasArnText]) {
      const { CiphertextBlob, KeyId } = await local.client.send(new EncryptCommand({ KeyId: ref, Plaintext: utf8(ref) }));
      expect(KeyId).toBe(arn);
      const dec = await local.client.send(new DecryptCommand({ CiphertextBlob, KeyId: ref }));
      expect(text(dec.Plaintext)).toBe(ref);
      expect((await local.client.send(new DescribeKeyCommand({ KeyId: ref }))).KeyMetadata!.Arn).toBe(arn);
    }
  });

  it('GenerateDataKey returns a plaintext key and a blob that decrypts to it (KeySpec and NumberOfBytes)', async () => {
    const { keyId, arn } = await newKey();
    const context = { file: 'a' };
    const g = await local.client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
    expect(g.KeyId).toBe(arn);
    expect(g.Plaintext).toHaveLength(32);
    const dec = await local.client.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: context }));
    expect(Buffer.from(dec.Plaintext!).equals(Buffer.from(g.Plaintext!))).toBe(true);

    expect((await local.client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_128' }))).Plaintext).toHaveLength(16);
    expect((await local.client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 64 }))).Plaintext).toHaveLength(64);
  });

  it('GenerateDataKey with both or neither of KeySpec and NumberOfBytes answers ValidationException', async () => {
    const { keyId } = await newKey();
    await expect(local.client.send(new GenerateDataKeyCommand({ KeyId: keyId }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      local.client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 })),
    ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });

  it('GenerateDataKeyWithoutPlaintext returns only the blob, which decrypts to a 32-byte key', async () => {
    const { keyId, arn } = await newKey();
    const g = await local.client.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    expect(g.KeyId).toBe(arn);
    expect(g).not.toHaveProperty('Plaintext');
    expect((await local.client.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob }))).Plaintext).toHaveLength(32);
  });

  it('ReEncrypt moves a blob to another key and context without showing the plaintext', async () => {
    const a = await newKey();
    const b = await newKey();
    const { CiphertextBlob } = await local.client.send(
      new EncryptCommand({ KeyId: a.keyId, Plaintext: utf8('moved'), EncryptionContext: { v: '1' } }),
    );
    const re = await local.client.send(
      new ReEncryptCommand({
        CiphertextBlob,
        SourceEncryptionContext: { v: '1' },
        DestinationKeyId: b.alias,
        DestinationEncryptionContext: { v: '2' },
      }),
    );
    expect(re).toMatchObject({ SourceKeyId: a.arn, KeyId: b.arn, DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    const dec = await local.client.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { v: '2' } }));
    expect(text(dec.Plaintext)).toBe('moved');
    expect(dec.KeyId).toBe(b.arn);
    await expect(
      local.client.send(new ReEncryptCommand({ CiphertextBlob, SourceEncryptionContext: { v: 'x' }, DestinationKeyId: b.keyId })),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('GenerateRandom returns exactly the bytes asked for, from 1 to 1024', async () => {
    for (const n of [1, 16, 32, 1024]) {
      expect((await local.client.send(new GenerateRandomCommand({ NumberOfBytes: n }))).Plaintext).toHaveLength(n);
    }
    const a = await local.client.send(new GenerateRandomCommand({ NumberOfBytes: 32 }));
    const b = await local.client.send(new GenerateRandomCommand({ NumberOfBytes: 32 }));
    expect(Buffer.from(a.Plaintext!).equals(Buffer.from(b.Plaintext!))).toBe(false);
  });

  it('GenerateRandom outside 1..1024 bytes answers ValidationException', async () => {
    for (const n of [0, 1025]) {
      await expect(local.client.send(new GenerateRandomCommand({ NumberOfBytes: n }))).rejects.toMatchObject({
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
      });
    }
  });

  it('Encrypt refuses an empty plaintext and one over 4096 bytes with ValidationException', async () => {
    const { keyId } = await newKey();
    expect((await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4096) }))).CiphertextBlob).toBeDefined();
    await expect(local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});

describe('local KMS: Regions', () => {
  it('a key created in one Region is NotFoundException from another, by id, ARN, alias and alias ARN', async () => {
    const { keyId, arn, alias } = await newKey();
    const elsewhere = kmsClient(local.kms, 'eu-west-1');
    try {
      for (const ref of [keyId, arn, alias, `arn:aws:kms:us-east-1:111122223333:${alias}`]) {
        const e = await elsewhere.send(new EncryptCommand({ KeyId: ref, Plaintext: utf8('x') })).catch((x: unknown) => x);
        expect(e, ref).toBeInstanceOf(NotFoundException);
        expect(e).toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 400 } });
      }
      const listed = await elsewhere.send(new ListKeysCommand({}));
      expect(listed.Keys!.map((k) => k.KeyId)).not.toContain(keyId);
    } finally {
      elsewhere.destroy();
    }
  });

  it('a blob from another Region, without KeyId, answers InvalidCiphertextException as real KMS does', async () => {
    const { keyId } = await newKey();
    const { CiphertextBlob } = await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8('x') }));
    const elsewhere = kmsClient(local.kms, 'eu-west-1');
    try {
      await expect(elsewhere.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    } finally {
      elsewhere.destroy();
    }
  });

  it('keys created from another Region get that Region in their ARN and live there', async () => {
    const elsewhere = kmsClient(local.kms, 'ap-southeast-2');
    try {
      const { KeyMetadata: m } = await elsewhere.send(new CreateKeyCommand({}));
      expect(m!.Arn).toBe(`arn:aws:kms:ap-southeast-2:111122223333:key/${m!.KeyId}`);
      const { CiphertextBlob } = await elsewhere.send(new EncryptCommand({ KeyId: m!.Arn, Plaintext: utf8('x') }));
      expect(text((await elsewhere.send(new DecryptCommand({ CiphertextBlob }))).Plaintext)).toBe('x');
      await expect(local.client.send(new DescribeKeyCommand({ KeyId: m!.KeyId }))).rejects.toMatchObject({ name: 'NotFoundException' });
      expect(local.kms.keys().find((k) => k.keyId === m!.KeyId)).toMatchObject({ region: 'ap-southeast-2', arn: m!.Arn });
    } finally {
      elsewhere.destroy();
    }
  });
});

describe('local KMS: the server', () => {
  it('is reached through AWS_ENDPOINT_URL_KMS with credentials and Region from the environment', async () => {
    const home = fixture.tempDir();
    vi.stubEnv('HOME', home);
    vi.stubEnv('AWS_CONFIG_FILE', join(home, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(home, 'credentials'));
    vi.stubEnv('AWS_ENDPOINT_URL_KMS', local.kms.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const fromEnv = new KMSClient({});
    try {
      const m = await fromEnv.send(new DescribeKeyCommand({ KeyId: DEMO_KEY_ALIAS }));
      expect(m.KeyMetadata!.Arn).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\//);
    } finally {
      fromEnv.destroy();
      vi.unstubAllEnvs();
    }
  });

  it('seeds a key with alias/kenv-demo on first start, and none with seedDemoKey: false', async () => {
    const seeded = await fixture.start();
    expect(seeded.keys()).toEqual([
      expect.objectContaining({ aliases: [DEMO_KEY_ALIAS], enabled: true, keyState: 'Enabled', region: 'us-east-1' }),
    ]);
    const empty = await fixture.start({ seedDemoKey: false });
    expect(empty.keys()).toEqual([]);
  });

  it('keeps keys, aliases, states and the demo key across a restart on the same state folder', async () => {
    const stateDir = fixture.tempDir();
    const first = await fixture.start({ stateDir });
    const c1 = kmsClient(first);
    const { keyId, alias } = await newKey(c1);
    await c1.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    const { CiphertextBlob } = await c1.send(new EncryptCommand({ KeyId: alias, Plaintext: utf8('kept'), EncryptionContext: { k: 'v' } }));
    const disabled = (await c1.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await c1.send(new DisableKeyCommand({ KeyId: disabled }));
    const before = first.keys();
    c1.destroy();
    await first.close();

    const second = await fixture.start({ stateDir });
    const c2 = kmsClient(second);
    try {
      expect(second.keys()).toEqual(before);
      expect(second.keys().filter((k) => k.aliases.includes(DEMO_KEY_ALIAS))).toHaveLength(1);
      const dec = await c2.send(new DecryptCommand({ CiphertextBlob, KeyId: alias, EncryptionContext: { k: 'v' } }));
      expect(text(dec.Plaintext)).toBe('kept');
      expect((await c2.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(true);
      expect((await c2.send(new DescribeKeyCommand({ KeyId: disabled }))).KeyMetadata!.KeyState).toBe('Disabled');
    } finally {
      c2.destroy();
    }
    expect(readdirSync(stateDir)).toEqual(['local-kms.json']);
    expect(JSON.parse(readFileSync(join(stateDir, 'local-kms.json'), 'utf8'))).toMatchObject({ version: 1 });
  });

  it('keys() lists a key with its ARN, id, Region, aliases and state', async () => {
    const own = await fixture.start();
    const c = kmsClient(own);
    try {
      const { keyId, arn, alias } = await newKey(c);
      await c.send(new DisableKeyCommand({ KeyId: keyId }));
      expect(own.keys()).toContainEqual({ arn, keyId, region: 'us-east-1', aliases: [alias], enabled: false, keyState: 'Disabled' });
    } finally {
      c.destroy();
    }
  });

  it('throttleFirst: with maxAttempts 1 the SDK surfaces ThrottlingException', async () => {
    const throttled = await fixture.start({ throttleFirst: 1 });
    const c = kmsClient(throttled, 'us-east-1', { maxAttempts: 1 });
    try {
      const e = await c.send(new GenerateRandomCommand({ NumberOfBytes: 8 })).catch((x: unknown) => x);
      expect(e).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      expect((await c.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext).toHaveLength(8);
    } finally {
      c.destroy();
    }
  });

  it('throttleFirst: with the default retries the SDK gets through after the throttled attempts', async () => {
    const throttled = await fixture.start({ throttleFirst: 2 });
    const c = kmsClient(throttled);
    try {
      const out = await c.send(new GenerateDataKeyCommand({ KeyId: DEMO_KEY_ALIAS, KeySpec: 'AES_256' }));
      expect(out.Plaintext).toHaveLength(32);
      expect(out.$metadata.attempts).toBe(3);
      expect(throttled.counts().GenerateDataKey).toBe(3);
    } finally {
      c.destroy();
    }
  });

  it('throttleNext(n) throttles the next n requests of a running server', async () => {
    const throttled = await fixture.start();
    const c = kmsClient(throttled, 'us-east-1', { maxAttempts: 1 });
    try {
      expect((await c.send(new GenerateRandomCommand({ NumberOfBytes: 4 }))).Plaintext).toHaveLength(4);
      throttled.throttleNext(1);
      await expect(c.send(new GenerateRandomCommand({ NumberOfBytes: 4 }))).rejects.toMatchObject({ name: 'ThrottlingException' });
      expect((await c.send(new GenerateRandomCommand({ NumberOfBytes: 4 }))).Plaintext).toHaveLength(4);
      expect(throttled.counts()).toEqual({ GenerateRandom: 3 });
    } finally {
      c.destroy();
    }
  });

  it('a deny rule answers AccessDeniedException in KMS words for that operation and key only; allow() lifts it', async () => {
    const guarded = await fixture.start({ deny: [{ operation: 'Decrypt', key: DEMO_KEY_ALIAS }] });
    const c = kmsClient(guarded);
    try {
      const demo = guarded.keys()[0]!;
      const { CiphertextBlob } = await c.send(new EncryptCommand({ KeyId: DEMO_KEY_ALIAS, Plaintext: utf8('x') }));
      const e = await c.send(new DecryptCommand({ CiphertextBlob })).catch((x: unknown) => x);
      expect(e).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
      expect((e as Error).message).toMatch(
        new RegExp(
          `^User: arn:aws:iam::111122223333:\\S+ is not authorized to perform: kms:Decrypt on resource: ${demo.arn} ` +
            'because no identity-based policy allows the kms:Decrypt action$',
        ),
      );

      const other = await newKey(c);
      const blob = (await c.send(new EncryptCommand({ KeyId: other.keyId, Plaintext: utf8('y') }))).CiphertextBlob;
      expect(text((await c.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext)).toBe('y');

      guarded.allow();
      expect(text((await c.send(new DecryptCommand({ CiphertextBlob }))).Plaintext)).toBe('x');

      guarded.deny({ operation: '*', key: '*' });
      await expect(c.send(new GenerateRandomCommand({ NumberOfBytes: 1 }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      guarded.allow({ operation: '*', key: '*' });
      expect((await c.send(new GenerateRandomCommand({ NumberOfBytes: 1 }))).Plaintext).toHaveLength(1);
    } finally {
      c.destroy();
    }
  });

  it('counts requests per operation', async () => {
    const counted = await fixture.start();
    const c = kmsClient(counted);
    try {
      for (let i = 0; i < 3; i++) await c.send(new GenerateDataKeyCommand({ KeyId: DEMO_KEY_ALIAS, KeySpec: 'AES_256' }));
      await c.send(new DescribeKeyCommand({ KeyId: DEMO_KEY_ALIAS }));
      await c.send(new DescribeKeyCommand({ KeyId: 'alias/missing' })).catch(() => undefined);
      expect(counted.counts()).toEqual({ GenerateDataKey: 3, DescribeKey: 2 });
    } finally {
      c.destroy();
    }
  });

  it('errors carry __type in the body and x-amzn-errortype in the header, with HTTP 400', async () => {
    const res = await post(local.kms, 'TrentService.DescribeKey', JSON.stringify({ KeyId: 'alias/missing' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('NotFoundException');
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await res.json()).toEqual({ __type: 'NotFoundException', message: expect.stringContaining('alias/missing') });
  });

  it('malformed JSON answers SerializationException in the AWS error shape', async () => {
    const res = await post(local.kms, 'TrentService.GenerateRandom', '{"NumberOfBytes": ');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(await res.json()).toEqual({ __type: 'SerializationException', message: expect.any(String) });
  });

  it('a JSON body that is not an object, or a field of the wrong type, answers SerializationException', async () => {
    for (const body of ['[]', '"x"', '{"NumberOfBytes": "32"}']) {
      const res = await post(local.kms, 'TrentService.GenerateRandom', body);
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { __type: string }).__type).toBe('SerializationException');
    }
  });

  it('an unknown or missing operation answers UnknownOperationException, through the SDK too', async () => {
    for (const target of ['TrentService.MakeCoffee', 'SomethingElse.Encrypt', undefined]) {
      const res = await post(local.kms, target, '{}');
      expect(res.status, target).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
      expect(((await res.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    }
    await expect(local.client.send(new ListGrantsCommand({ KeyId: DEMO_KEY_ALIAS }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('requests with no SigV4 Authorization header are served in us-east-1', async () => {
    const res = await post(local.kms, 'TrentService.DescribeKey', JSON.stringify({ KeyId: DEMO_KEY_ALIAS }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { KeyMetadata: { Arn: string; CreationDate: number } };
    expect(body.KeyMetadata.Arn).toMatch(/^arn:aws:kms:us-east-1:/);
    expect(typeof body.KeyMetadata.CreationDate).toBe('number');
  });
});

function post(server: LocalKms, target: string | undefined, body: string): Promise<Response> {
  return fetch(server.url + '/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', ...(target ? { 'x-amz-target': target } : {}) },
    body,
  });
}
