import { describe, expect, it } from 'vitest';
import { KmsKeyring } from '../../../../../electron/core/keyring/kms-keyring.js';
import { KmsRsaDiscoveryKeyring } from '../../../../../electron/core/keyring/kms-rsa-keyring.js';
import { mrkMatchForDecrypt } from '../../../../../electron/core/keyring/mrk.js';
import type { KmsClientFactory } from '../../../../../electron/core/kms/client.js';
import { TrustedAccounts, parseTrustedAccounts, partitionOfRegion } from '../../../../../electron/core/kms/trust.js';

/** A KMS client factory that records every call and answers none. */
function recordingClients(): { clients: KmsClientFactory; calls: string[] } {
  const calls: string[] = [];
  const client = { send: async (cmd: { input: { KeyId?: string } }) => { calls.push(cmd.input.KeyId ?? ''); throw Object.assign(new Error('nope'), { name: 'NotFoundException' }); } };
  return { clients: (() => client) as unknown as KmsClientFactory, calls };
}

const edk = (providerId: string, arn: string) => ({ providerId, providerInfo: Buffer.from(arn), ciphertext: Buffer.alloc(64, 1) });
const req = (edks: ReturnType<typeof edk>[]) => ({ suiteId: 0x0478, context: {}, edks });

describe('trusted accounts: the discovery filter', () => {
  const mine = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const stranger = 'arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const china = 'arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  for (const providerId of ['aws-kms', 'aws-kms-rsa']) {
    it(`${providerId}: a key of an untrusted account or partition fails with UNTRUSTED_KEY_ACCOUNT and no KMS call`, async () => {
      const { clients, calls } = recordingClients();
      const trust = new TrustedAccounts([], 'aws', async () => '111122223333');
      const keyring = providerId === 'aws-kms' ? new KmsKeyring({ clients, trust }) : new KmsRsaDiscoveryKeyring({ clients, trust });
      await expect(keyring.unwrapDataKey(req([edk(providerId, stranger), edk(providerId, china)]))).rejects.toMatchObject({
        code: 'UNTRUSTED_KEY_ACCOUNT',
        message: expect.stringContaining('--trust-account 999988887777'),
      });
      expect(calls).toEqual([]);
    });

    it(`${providerId}: the identity's account and listed accounts are called`, async () => {
      const { clients, calls } = recordingClients();
      let stsCalls = 0;
      const trust = new TrustedAccounts(['999988887777'], 'aws', async () => (stsCalls++, '111122223333'));
      const keyring = providerId === 'aws-kms' ? new KmsKeyring({ clients, trust }) : new KmsRsaDiscoveryKeyring({ clients, trust });
      await expect(keyring.unwrapDataKey(req([edk(providerId, stranger), edk(providerId, mine)]))).rejects.toBeDefined();
      expect(new Set(calls)).toEqual(new Set([stranger, mine]));
      expect(stsCalls).toBe(1);
    });
  }

  it('does not ask STS when every key is in a listed account', async () => {
    const trust = new TrustedAccounts(['999988887777'], 'aws', async () => {
      throw new Error('STS must not be called');
    });
    expect(await trust.refusal(stranger)).toBeUndefined();
  });

  it('refuses account ids that are not 12 digits, and reads the profile setting', () => {
    expect(() => new TrustedAccounts(['12345'], 'aws', async () => '')).toThrow(/12 digits/);
    expect(parseTrustedAccounts(' 111122223333, 999988887777 444455556666 ')).toEqual(['111122223333', '999988887777', '444455556666']);
    expect(partitionOfRegion('cn-north-1')).toBe('aws-cn');
    expect(partitionOfRegion('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOfRegion('eu-west-1')).toBe('aws');
  });
});

describe('MRK match for decrypt (ESDK aws-kms-mrk-match-for-decrypt)', () => {
  const mrk = (region: string, account = '111122223333') => `arn:aws:kms:${region}:${account}:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7`;
  it('matches identical identifiers and multi-Region keys across Regions only', () => {
    expect(mrkMatchForDecrypt(mrk('us-east-1'), mrk('eu-west-1'))).toBe(true);
    expect(mrkMatchForDecrypt(mrk('us-east-1'), mrk('eu-west-1', '999988887777'))).toBe(false);
    const single = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(mrkMatchForDecrypt(single, single)).toBe(true);
    expect(mrkMatchForDecrypt(single, single.replace('us-east-1', 'eu-west-1'))).toBe(false);
    expect(mrkMatchForDecrypt('arn:aws:kms:us-east-1:111122223333:alias/mrk-x', 'arn:aws:kms:eu-west-1:111122223333:alias/mrk-x')).toBe(false);
  });

  it('discovery asks the replica in the home Region first, then the Region the key was wrapped in', async () => {
    const { clients, calls } = recordingClients();
    const trust = new TrustedAccounts([], 'aws', async () => '111122223333');
    await expect(new KmsKeyring({ clients, trust, region: 'eu-west-1' }).unwrapDataKey(req([edk('aws-kms', mrk('us-east-1'))]))).rejects.toBeDefined();
    expect(calls).toEqual([mrk('eu-west-1'), mrk('us-east-1')]);
  });
});
