import { CreateAliasCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsKeyCatalogue } from '../../../electron/core/app/key-catalogue.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { kmsClient, LocalKmsFixture } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await fixture.start();
  client = kmsClient(kms);
  const backup = await client.send(new CreateKeyCommand({ Description: 'Recovery key' }));
  await client.send(new CreateAliasCommand({ AliasName: 'alias/backup', TargetKeyId: backup.KeyMetadata!.KeyId! }));
});
afterAll(() => fixture.closeAll());

describe('kmsKeyCatalogue', () => {
  it('lists usable keys with aliases and descriptions, sorted by alias', async () => {
    const keys = await kmsKeyCatalogue(() => () => client).list();
    expect(keys.map((k) => [k.aliases, k.description])).toEqual([
      [['alias/backup'], 'Recovery key'],
      [['alias/kenv-demo'], 'Kenv demo key (local KMS)'],
    ]);
  });

  it('leaves out a key this identity may not encrypt under', async () => {
    kms.deny({ operation: 'GenerateDataKey', key: 'alias/backup' });
    try {
      const keys = await kmsKeyCatalogue(() => () => client).list();
      expect(keys.map((k) => k.aliases[0])).toEqual(['alias/kenv-demo']);
    } finally {
      kms.allow();
    }
  });

  it('a refused ListKeys is an error with a sentence, not an empty list', async () => {
    kms.deny({ operation: 'ListKeys', key: '*' });
    try {
      await expect(kmsKeyCatalogue(() => () => client).list()).rejects.toMatchObject({ code: 'KMS_ACCESS_DENIED' });
    } finally {
      kms.allow();
    }
  });
});
