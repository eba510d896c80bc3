import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Keyring, WrapRequest } from '../../../../../electron/core/keyring/types.js';
import { type CacheLimits, DataKeyCache, DEFAULT_CACHE_LIMITS } from '../../../../../electron/core/kms/data-key-cache.js';

/** The cache over one keyring, the way a `kenv encrypt` batch uses it (one scope). */
function batchCache(inner: Keyring, limits: CacheLimits = DEFAULT_CACHE_LIMITS, opts: { now?: () => number } = {}) {
  const cache = new DataKeyCache(limits, opts);
  return { keyringFor: (bytes: number) => cache.keyring(inner, '', bytes), dispose: () => cache.clear() };
}

/** A keyring that counts the data keys it generates (what GenerateDataKey would cost). */
function countingKeyring(): Keyring & { generated: number } {
  const k = {
    generated: 0,
    async wrapDataKey(req: WrapRequest) {
      if (req.dataKey) return { dataKey: Buffer.from(req.dataKey), edks: [] };
      k.generated += 1;
      await new Promise((r) => setImmediate(r));
      return { dataKey: randomBytes(32), edks: [{ providerId: 'test', providerInfo: Buffer.from(String(k.generated)), ciphertext: Buffer.alloc(1) }] };
    },
    async unwrapDataKey() {
      return Buffer.alloc(32);
    },
  };
  return k;
}

const req = (context: Record<string, string> = {}): WrapRequest => ({ suiteId: 0x0478, context });

describe('DataKeyCache, as a batch uses it', () => {
  it('reuses one data key up to maxMessages, then generates the next', async () => {
    const inner = countingKeyring();
    const cache = batchCache(inner, { maxAgeSeconds: 60, maxMessages: 3, maxBytes: 1e9 });
    const keys = [];
    for (let i = 0; i < 7; i++) keys.push((await cache.keyringFor(10).wrapDataKey(req())).dataKey.toString('hex'));
    expect(inner.generated).toBe(3);
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[2]);
  });

  it('ends an entry at maxBytes and bypasses the cache for a message larger than maxBytes', async () => {
    const inner = countingKeyring();
    const cache = batchCache(inner, { maxAgeSeconds: 60, maxMessages: 100, maxBytes: 100 });
    await cache.keyringFor(60).wrapDataKey(req());
    await cache.keyringFor(40).wrapDataKey(req());
    expect(inner.generated).toBe(1);
    await cache.keyringFor(1).wrapDataKey(req());
    expect(inner.generated).toBe(2);
    await cache.keyringFor(101).wrapDataKey(req());
    await cache.keyringFor(101).wrapDataKey(req());
    expect(inner.generated).toBe(4);
  });

  it('ends an entry at maxAge (by the injected clock)', async () => {
    let now = 1000;
    const inner = countingKeyring();
    const cache = batchCache(inner, { maxAgeSeconds: 0.5, maxMessages: 100, maxBytes: 1e9 }, { now: () => now });
    await cache.keyringFor(1).wrapDataKey(req());
    now += 499;
    await cache.keyringFor(1).wrapDataKey(req());
    expect(inner.generated).toBe(1);
    now += 1;
    await cache.keyringFor(1).wrapDataKey(req());
    expect(inner.generated).toBe(2);
  });

  it('keeps entries apart per encryption context, whatever the key order', async () => {
    const inner = countingKeyring();
    const cache = batchCache(inner);
    await cache.keyringFor(1).wrapDataKey(req({ a: '1', b: '2' }));
    await cache.keyringFor(1).wrapDataKey(req({ b: '2', a: '1' }));
    await cache.keyringFor(1).wrapDataKey(req({ a: '1' }));
    expect(inner.generated).toBe(2);
  });

  it('concurrent misses share one generation', async () => {
    const inner = countingKeyring();
    const cache = batchCache(inner);
    await Promise.all(Array.from({ length: 20 }, () => cache.keyringFor(1).wrapDataKey(req())));
    expect(inner.generated).toBe(1);
  });

  it('concurrent files across the message limit each get the data key their encrypted data key wraps, never a zeroed one', async () => {
    // The fault: the cache handed out the entry and copied its key a microtask later; a file arriving in between found
    // the entry full, evicted it and zeroed its key, so the file before it was sealed with a zero key under the real
    // encrypted data key, and could never be opened again.
    const inner = countingKeyring();
    const wrapped = new Map<string, string>();
    const recording: Keyring = {
      wrapDataKey: async (r) => {
        const out = await inner.wrapDataKey(r);
        for (const edk of out.edks) wrapped.set(edk.providerInfo.toString(), out.dataKey.toString('hex'));
        return out;
      },
      unwrapDataKey: (r) => inner.unwrapDataKey(r),
    };
    const cache = batchCache(recording, { maxAgeSeconds: 60, maxMessages: 2, maxBytes: 1e9 });
    const results = await Promise.all(Array.from({ length: 12 }, () => cache.keyringFor(1).wrapDataKey(req())));
    for (const r of results) {
      expect(r.dataKey.equals(Buffer.alloc(32))).toBe(false);
      expect(r.dataKey.toString('hex')).toBe(wrapped.get(r.edks[0]!.providerInfo.toString()));
    }
    expect(inner.generated).toBe(6);
  });

  it('hands out copies, so the caller zeroing its key does not damage the cache; dispose zeroes the cache', async () => {
    const inner = countingKeyring();
    const cache = batchCache(inner);
    const first = await cache.keyringFor(1).wrapDataKey(req());
    const copy = Buffer.from(first.dataKey);
    first.dataKey.fill(0);
    expect((await cache.keyringFor(1).wrapDataKey(req())).dataKey.equals(copy)).toBe(true);
    cache.dispose();
    await cache.keyringFor(1).wrapDataKey(req());
    expect(inner.generated).toBe(2);
  });
});


function countingAppKeyring() {
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
  const cache = new DataKeyCache(async () => ({ maxAgeSeconds: 300, maxMessages: 1000, maxBytes: 1_000_000, ...limits }), { now: () => now });
  return { cache, advance: (ms: number) => { now += ms; }, ...countingAppKeyring() };
}

const wrapReq = { suiteId: 0x0478, context: { team: 'finance' } };
const edks = [{ providerId: 'aws-kms', providerInfo: Buffer.from('arn'), ciphertext: Buffer.from([1]) }];

describe('DataKeyCache, as the app uses it (limits from the settings, read on every use)', () => {
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
