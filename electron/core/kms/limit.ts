/**
 * A concurrency limit that halves when KMS throttles and grows back by one per success (AIMD, as TCP does), between
 * 1 and `max`.
 *
 * A batch that keeps its full concurrency while the account's quota is exhausted only adds to the throttling;
 * halving lets the burst pass, and the additive increase returns to full speed once calls succeed again.
 */
export class AdaptiveLimit {
  private value: number;

  constructor(readonly max: number) {
    this.max = Math.max(1, Math.floor(max));
    this.value = this.max;
  }

  /** Calls allowed in flight now. */
  get current(): number {
    return this.value;
  }

  throttled(): void {
    this.value = Math.max(1, Math.floor(this.value / 2));
  }

  succeeded(): void {
    this.value = Math.min(this.max, this.value + 1);
  }
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping the order of the results.
 *
 * KMS request quotas are shared by the whole account and Region, so every fan-out of KMS calls goes through this.
 * `limit` is a number, or an AdaptiveLimit read before each call starts (calls in flight are never interrupted).
 * The first rejection is thrown after the calls in flight settle; no new calls start after it.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number | AdaptiveLimit, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const allowed = () => (typeof limit === 'number' ? limit : limit.current);
  const workers = typeof limit === 'number' ? limit : limit.max;
  let next = 0;
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  // Workers over the current limit park here until a call finishes and the limit may have grown.
  let parked: (() => void)[] = [];
  const wake = () => {
    const woken = parked;
    parked = [];
    for (const resume of woken) resume();
  };
  async function worker(): Promise<void> {
    while (!failure && next < items.length) {
      if (inFlight >= allowed()) {
        await new Promise<void>((resume) => parked.push(resume));
        continue;
      }
      const index = next++;
      inFlight++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      } finally {
        inFlight--;
        wake();
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
