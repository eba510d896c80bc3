import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import { describeEdk, noKeyOpened } from '../../../../../electron/core/keyring/attempts.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import type { EncryptedDataKey } from '../../../../../electron/core/keyring/types.js';

// Which data keys the raw AES keyring tries (its namespace and name only, with the ESDK's wrapping parameters), and
// the "no key opened" error that lists what was tried.

const key = randomBytes(32);
const keyring = new RawAesKeyring({ namespace: 'ns', name: 'k', key });
const context = { team: 'x' };

async function wrapped(): Promise<{ dataKey: Buffer; edk: EncryptedDataKey }> {
  const { dataKey, edks } = await keyring.wrapDataKey({ suiteId: 0x0478, context });
  return { dataKey, edk: edks[0]! };
}

async function failure(p: Promise<unknown>): Promise<KenvError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KenvError) return e;
    throw e;
  }
  throw new Error('it opened');
}

describe('RawAesKeyring', () => {
  it('wraps as the ESDK does: provider info = name, tag bits 128, IV length 12, IV; 48 bytes of ciphertext', async () => {
    const { dataKey, edk } = await wrapped();
    expect(dataKey).toHaveLength(32);
    expect(edk.providerId).toBe('ns');
    expect(edk.providerInfo).toHaveLength(1 + 8 + 12);
    expect(edk.providerInfo.subarray(0, 9)).toEqual(Buffer.from([0x6b, 0, 0, 0, 128, 0, 0, 0, 12]));
    expect(edk.ciphertext).toHaveLength(48);
    expect(await keyring.unwrapDataKey({ suiteId: 0x0478, context, edks: [edk] })).toEqual(dataKey);
  });

  it('wraps a data key another keyring generated', async () => {
    const given = randomBytes(32);
    const { dataKey, edks } = await keyring.wrapDataKey({ suiteId: 0x0478, context, dataKey: given });
    expect(dataKey).toEqual(given);
    expect(await keyring.unwrapDataKey({ suiteId: 0x0478, context, edks })).toEqual(given);
  });

  it('skips data keys of another namespace or name, and says which keys the file needs', async () => {
    const { edk } = await wrapped();
    const other = new RawAesKeyring({ namespace: 'ns', name: 'kk', key });
    const otherNs = new RawAesKeyring({ namespace: 'ns2', name: 'k', key });
    const longer = new RawAesKeyring({ namespace: 'ns', name: 'j', key }); // same length, other name
    // And the other way round: a data key of the longer name "kk" is not this keyring's "k", though it starts the same.
    const kk = await other.wrapDataKey({ suiteId: 0x0478, context });
    expect(keyring.tryUnwrap({ suiteId: 0x0478, context, edks: kk.edks })).toEqual([]);
    for (const kr of [other, otherNs, longer]) {
      expect(kr.tryUnwrap({ suiteId: 0x0478, context, edks: [edk] })).toEqual([]);
      const e = await failure(kr.unwrapDataKey({ suiteId: 0x0478, context, edks: [edk] }));
      expect(e.code).toBe('NO_KEY_OPENED');
      expect(e.message).toContain('its data key is wrapped only for raw AES key ns/k.');
    }
  });

  it('refuses other wrapping parameters without trying them', async () => {
    const { edk } = await wrapped();
    const variants: EncryptedDataKey[] = [];
    for (const [at, value] of [[4, 96], [8, 16]] as const) {
      const info = Buffer.from(edk.providerInfo);
      info[at] = value;
      variants.push({ ...edk, providerInfo: info });
    }
    variants.push({ ...edk, ciphertext: edk.ciphertext.subarray(0, 47) });
    variants.push({ ...edk, ciphertext: Buffer.concat([edk.ciphertext, Buffer.alloc(1)]) });
    for (const v of variants) {
      expect(keyring.tryUnwrap({ suiteId: 0x0478, context, edks: [v] })).toEqual([
        { key: 'raw AES key ns/k', code: 'NO_KEY_OPENED', reason: 'its wrapping parameters are not AES-256-GCM with a 12-byte IV' },
      ]);
    }
  });

  it('a data key that does not unwrap (other key bytes, other context, altered) is an attempt, and the next one is tried', async () => {
    const { dataKey, edk } = await wrapped();
    const stranger = new RawAesKeyring({ namespace: 'ns', name: 'k', key: randomBytes(32) });
    const failed = { key: 'raw AES key ns/k', code: 'NO_KEY_OPENED', reason: 'it did not unwrap: the key bytes differ from the ones used to encrypt, or the encryption context does not match' };
    expect(stranger.tryUnwrap({ suiteId: 0x0478, context, edks: [edk] })).toEqual([failed]);
    expect(keyring.tryUnwrap({ suiteId: 0x0478, context: { team: 'y' }, edks: [edk] })).toEqual([failed]);
    const altered = { ...edk, ciphertext: Buffer.from(edk.ciphertext) };
    altered.ciphertext[47]! ^= 1;
    expect(keyring.tryUnwrap({ suiteId: 0x0478, context, edks: [altered, edk] })).toEqual(dataKey);
    const e = await failure(keyring.unwrapDataKey({ suiteId: 0x0478, context, edks: [altered] }));
    expect(e.message).toBe(`No key could open this file's data key. Tried raw AES key ns/k: ${failed.reason}.`);
  });

  it('refuses keys that are not 32 bytes, without a namespace or name, or in the aws-kms namespace', () => {
    expect(() => new RawAesKeyring({ namespace: 'ns', name: 'k', key: Buffer.alloc(16) })).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY', message: 'A raw AES key must be 32 bytes (256 bits); this one has 16.' }),
    );
    for (const [namespace, name] of [['', 'k'], ['ns', '']] as const) {
      expect(() => new RawAesKeyring({ namespace, name, key })).toThrow(expect.objectContaining({ code: 'INVALID_KEY', message: 'A raw AES key needs a namespace and a name.' }));
    }
    for (const namespace of ['aws-kms', 'aws-kms-x']) {
      expect(() => new RawAesKeyring({ namespace, name: 'k', key })).toThrow(expect.objectContaining({ code: 'INVALID_KEY', message: expect.stringContaining('reserved for KMS keys') }));
    }
    expect(new RawAesKeyring({ namespace: 'my-aws-kms', name: 'k', key }).description).toBe('raw AES key my-aws-kms/k');
  });
});

describe('noKeyOpened and describeEdk', () => {
  it('keeps the one specific code when every attempt failed the same way, and lists every attempt otherwise', () => {
    const denied = { key: 'a', code: 'KMS_ACCESS_DENIED' as const, reason: 'denied a.' };
    const e = noKeyOpened([], [denied, { ...denied, key: 'b', reason: 'denied b.' }]);
    expect(e.code).toBe('KMS_ACCESS_DENIED');
    expect(e.message).toBe('denied a. Also: denied b.');
    const mixed = noKeyOpened([], [denied, { key: 'b', code: 'NO_KEY_OPENED', reason: 'no' }]);
    expect(mixed.code).toBe('NO_KEY_OPENED');
    expect(mixed.message).toBe("No key could open this file's data key. Tried a: denied a.; b: no.");
    const plain = noKeyOpened([], [{ key: 'b', code: 'NO_KEY_OPENED', reason: 'no' }]);
    expect(plain.message).toBe("No key could open this file's data key. Tried b: no.");
  });

  it('names each kind of data key once', async () => {
    const { edk } = await wrapped();
    const kms = { providerId: 'aws-kms', providerInfo: Buffer.from('arn:k'), ciphertext: Buffer.alloc(1) };
    const rsa = { providerId: 'rsa-ns', providerInfo: Buffer.from('rsa-name'), ciphertext: Buffer.alloc(1) };
    expect(describeEdk(edk)).toBe('raw AES key ns/k');
    expect(describeEdk(kms)).toBe('arn:k');
    expect(describeEdk({ ...kms, providerId: 'aws-kms-rsa' })).toBe('KMS RSA key arn:k');
    expect(describeEdk(rsa)).toBe('raw RSA key rsa-ns/rsa-name');
    // 20 bytes or fewer cannot be name || parameters || IV.
    expect(describeEdk({ ...rsa, providerInfo: edk.providerInfo.subarray(1) })).toMatch(/^raw RSA key rsa-ns\//);
    const notTag = Buffer.from(edk.providerInfo);
    notTag[4] = 96;
    expect(describeEdk({ ...edk, providerInfo: notTag })).toMatch(/^raw RSA key ns\//);
    const notAes = Buffer.from(edk.providerInfo);
    notAes[8] = 16;
    expect(describeEdk({ ...edk, providerInfo: notAes })).toMatch(/^raw RSA key ns\//);
    const e = noKeyOpened([kms, kms, edk], []);
    expect(e.message).toBe(
      'None of the given keys can open this file: its data key is wrapped only for arn:k; raw AES key ns/k. Decrypt with one of those keys (for raw AES: --raw-aes-key, --raw-aes-namespace, --raw-aes-name; for raw RSA: --raw-rsa-key with the private key, --raw-rsa-namespace, --raw-rsa-name, --raw-rsa-padding).',
    );
  });
});
