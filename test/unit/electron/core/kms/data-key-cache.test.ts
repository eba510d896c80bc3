import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Keyring, WrapRequest } from '../../../../../electron/core/keyring/types.js';
import { DataKeyCache } from '../../../../../electron/core/kms/data-key-cache.js';

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

describe('DataKeyCache', () => {
  it('reuses one data key up to maxMessages, then generates the next', async () => {
    const inner = countingKeyring();
    const cache = new DataKeyCache(inner, { maxAgeMs: 60_000, maxMessages: 3, maxBytes: 1e9 });
    const keys = [];
    for (let i = 0; i < 7; i++) keys.push((await cache.keyringFor(10).wrapDataKey(req())).dataKey.toString('hex'));
    expect(inner.generated).toBe(3);
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[2]);
  });

  it('ends an entry at maxBytes and bypasses the cache for a message larger than maxBytes', async () => {
    const inner = countingKeyring();
    const cache = new DataKeyCache(inner, { maxAgeMs: 60_000, maxMessages: 100, maxBytes: 100 });
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
    const cache = new DataKeyCache(inner, { maxAgeMs: 500, maxMessages: 100, maxBytes: 1e9 }, { now: () => now });
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
    const cache = new DataKeyCache(inner);
    await cache.keyringFor(1).wrapDataKey(req({ a: '1', b: '2' }));
    await cache.keyringFor(1).wrapDataKey(req({ b: '2', a: '1' }));
    await cache.keyringFor(1).wrapDataKey(req({ a: '1' }));
    expect(inner.generated).toBe(2);
  });

  it('concurrent misses share one generation', async () => {
    const inner = countingKeyring();
    const cache = new DataKeyCache(inner);
    await Promise.all(Array.from({ length: 20 }, () => cache.keyringFor(1).wrapDataKey(req())));
    expect(inner.generated).toBe(1);
  });

  it('hands out copies, so the caller zeroing its key does not damage the cache; dispose zeroes the cache', async () => {
    const inner = countingKeyring();
    const cache = new DataKeyCache(inner);
    const first = await cache.keyringFor(1).wrapDataKey(req());
    const copy = Buffer.from(first.dataKey);
    first.dataKey.fill(0);
    expect((await cache.keyringFor(1).wrapDataKey(req())).dataKey.equals(copy)).toBe(true);
    cache.dispose();
    await cache.keyringFor(1).wrapDataKey(req());
    expect(inner.generated).toBe(2);
  });
});
