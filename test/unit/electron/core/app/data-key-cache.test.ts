import { describe, expect, it } from 'vitest';
import { type CacheLimits, DataKeyCache } from '../../../../../electron/core/app/data-key-cache.js';
import type { Keyring } from '../../../../../electron/core/keyring/types.js';

function countingKeyring() {
  const calls = { wrap: 0, unwrap: 0 };
  const keyring: Keyring = {
    async wrapDataKey() {
      calls.wrap++;
      return { dataKey: Buffer.alloc(32, calls.wrap), edks: [{ providerId: 'aws-kms', providerInfo: Buffer.from('arn'), ciphertext: Buffer.from([calls.wrap]) }] };
    },
    async unwrapDataKey() {
      calls.unwrap++;
      return Buffer.alloc(32, 0xa0 + calls.unwrap);
    },
  };
  return { keyring, calls };
}

function setup(limits: Partial<CacheLimits> = {}) {
  let now = 1_000_000;
  const cache = new DataKeyCache(async () => ({ maxAgeSeconds: 300, maxMessages: 1000, maxBytes: 1_000_000, ...limits }), () => now);
  return { cache, advance: (ms: number) => { now += ms; }, ...countingKeyring() };
}

const wrapReq = { suiteId: 0x0478, context: { team: 'finance' } };
const edks = [{ providerId: 'aws-kms', providerInfo: Buffer.from('arn'), ciphertext: Buffer.from([1]) }];

describe('DataKeyCache', () => {
  it('reuses one data key for files under the same keys and context, as copies the caller may zero', async () => {
    const { cache, keyring, calls } = setup();
    const a = await cache.keyring(keyring, 'k1', 10).wrapDataKey(wrapReq);
    a.dataKey.fill(0);
    const b = await cache.keyring(keyring, 'k1', 10).wrapDataKey({ suiteId: 0x0478, context: { team: 'finance' } });
    expect(calls.wrap).toBe(1);
    expect(b.dataKey.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(b.edks).toEqual(a.edks);
  });

  it('keeps keys, suite and context apart', async () => {
    const { cache, keyring, calls } = setup();
    await cache.keyring(keyring, 'k1', 1).wrapDataKey(wrapReq);
    await cache.keyring(keyring, 'k2', 1).wrapDataKey(wrapReq);
    await cache.keyring(keyring, 'k1', 1).wrapDataKey({ ...wrapReq, context: { team: 'legal' } });
    await cache.keyring(keyring, 'k1', 1).wrapDataKey({ ...wrapReq, suiteId: 0x0578 });
    expect(calls.wrap).toBe(4);
  });

  it('stops reusing a key at the age limit', async () => {
    const { cache, keyring, calls, advance } = setup({ maxAgeSeconds: 60 });
    await cache.keyring(keyring, 'k', 1).wrapDataKey(wrapReq);
    advance(59_999);
    await cache.keyring(keyring, 'k', 1).wrapDataKey(wrapReq);
    advance(1);
    await cache.keyring(keyring, 'k', 1).wrapDataKey(wrapReq);
    expect(calls.wrap).toBe(2);
  });

  it('stops at the message limit and at the byte limit', async () => {
    const byMessages = setup({ maxMessages: 2 });
    for (let i = 0; i < 5; i++) await byMessages.cache.keyring(byMessages.keyring, 'k', 1).wrapDataKey(wrapReq);
    expect(byMessages.calls.wrap).toBe(3);
    const byBytes = setup({ maxBytes: 100 });
    for (let i = 0; i < 4; i++) await byBytes.cache.keyring(byBytes.keyring, 'k', 40).wrapDataKey(wrapReq);
    expect(byBytes.calls.wrap).toBe(2);
  });

  it('caches nothing when the age is 0 or a key may serve only one file', async () => {
    for (const limits of [{ maxAgeSeconds: 0 }, { maxMessages: 1 }]) {
      const { cache, keyring, calls } = setup(limits);
      await cache.keyring(keyring, 'k', 1).wrapDataKey(wrapReq);
      await cache.keyring(keyring, 'k', 1).wrapDataKey(wrapReq);
      expect(calls.wrap).toBe(2);
      expect(cache.size).toBe(0);
    }
  });

  it('shares one KMS Decrypt between files with the same wrapped key and context', async () => {
    const { cache, keyring, calls } = setup();
    const first = await cache.keyring(keyring, '', 1).unwrapDataKey({ suiteId: 0x0478, context: {}, edks });
    first.fill(0);
    const second = await cache.keyring(keyring, '', 1).unwrapDataKey({ suiteId: 0x0478, context: {}, edks });
    await cache.keyring(keyring, '', 1).unwrapDataKey({ suiteId: 0x0478, context: { other: 'x' }, edks });
    expect(calls.unwrap).toBe(2);
    expect(second.equals(Buffer.alloc(32, 0xa1))).toBe(true);
  });

  it('clear() forgets everything', async () => {
    const { cache, keyring, calls } = setup();
    await cache.keyring(keyring, 'k', 1).wrapDataKey(wrapReq);
    cache.clear();
    await cache.keyring(keyring, 'k', 1).wrapDataKey(wrapReq);
    expect(calls.wrap).toBe(2);
  });
});
