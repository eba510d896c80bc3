import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../../../../electron/core/kms/limit.js';

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
