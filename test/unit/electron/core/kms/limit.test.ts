import { describe, expect, it } from 'vitest';
import { AdaptiveLimit, mapLimit } from '../../../../../electron/core/kms/limit.js';

describe('mapLimit', () => {
  it('keeps order and never exceeds the limit in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit(Array.from({ length: 40 }, (_, i) => i), 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(peak).toBe(3);
  });

  it('throws the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await expect(mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setImmediate(r));
      if (n === 1) throw new Error('boom');
      return n;
    })).rejects.toThrow('boom');
    expect(started).toEqual([0, 1, 2]);
  });

  it('maps an empty list to an empty list', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

describe('AdaptiveLimit', () => {
  it('halves on throttling down to 1 and grows back by one per success up to its maximum', () => {
    const limit = new AdaptiveLimit(8);
    const seen: number[] = [];
    for (const event of ['t', 't', 't', 't', 's', 's', 't', 's', 's', 's', 's', 's', 's', 's', 's']) {
      if (event === 't') limit.throttled();
      else limit.succeeded();
      seen.push(limit.current);
    }
    expect(seen).toEqual([4, 2, 1, 1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 8]);
  });

  it('mapLimit starts no call while the limit is below the calls in flight, and never more than the maximum', async () => {
    const limit = new AdaptiveLimit(4);
    let inFlight = 0;
    const startedWith: number[] = [];
    await mapLimit(Array.from({ length: 30 }, (_, i) => i), limit, async (n) => {
      inFlight++;
      startedWith.push(inFlight);
      expect(inFlight).toBeLessThanOrEqual(limit.current);
      await new Promise((r) => setImmediate(r));
      // Items 3 and 4 meet throttling: the batch falls to 1 in flight, then grows back one success at a time.
      if (n === 3 || n === 4) limit.throttled();
      else limit.succeeded();
      inFlight--;
    });
    expect(Math.max(...startedWith)).toBe(4);
    expect(startedWith).toContain(1);
  });
});

