import { describe, expect, it } from 'vitest';
import { ByteBudget, forEachLimit } from '../../../../../electron/core/sync/pool.js';

/** A promise with its resolve function, to hold a call open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('ByteBudget', () => {
  it('never lets the bytes held go over the limit, and lets every call run', async () => {
    const budget = new ByteBudget(100);
    let peak = 0;
    const sizes = [40, 40, 40, 30, 70, 10, 60, 100, 1];
    await forEachLimit(sizes, sizes.length, (bytes) =>
      budget.use(bytes, async () => {
        peak = Math.max(peak, budget.held);
        await ticks(2);
      }),
    );
    expect(peak).toBeLessThanOrEqual(100);
    expect(budget.held).toBe(0);
  });

  it('holds a call back until enough bytes are given back, then runs it', async () => {
    const budget = new ByteBudget(100);
    const first = gate();
    const running = budget.use(80, () => first.promise);
    let secondRan = false;
    const second = budget.use(30, async () => {
      secondRan = true;
    });
    await ticks();
    expect(secondRan).toBe(false);
    first.open();
    await Promise.all([running, second]);
    expect(secondRan).toBe(true);
  });

  it('runs a call larger than the whole budget alone instead of never', async () => {
    const budget = new ByteBudget(100);
    let held = -1;
    await budget.use(500, async () => {
      held = budget.held;
    });
    expect(held).toBe(500);
  });

  it('serves waiters in arrival order: a small one does not overtake a large one', async () => {
    const budget = new ByteBudget(100);
    const first = gate();
    const order: string[] = [];
    const a = budget.use(60, () => first.promise);
    const large = budget.use(90, async () => void order.push('large'));
    const small = budget.use(10, async () => void order.push('small'));
    await ticks();
    expect(order).toEqual([]);
    first.open();
    await Promise.all([a, large, small]);
    expect(order).toEqual(['large', 'small']);
  });

  it('gives its bytes back when the call fails', async () => {
    const budget = new ByteBudget(100);
    await expect(budget.use(100, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(budget.held).toBe(0);
    await budget.use(100, async () => {});
  });
});
