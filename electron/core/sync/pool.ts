/**
 * Runs `fn` over `items` with at most `limit` calls in flight.
 *
 * After the first failure no new item starts; the calls in flight finish, then the first error is thrown.
 * Callers that want every item attempted catch inside `fn`.
 */
export async function forEachLimit<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    for (let next = iterator.next(); !next.done && !failure; next = iterator.next()) {
      try {
        await fn(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failure) throw failure.error;
}

/**
 * A budget of bytes shared by everything that holds a buffer of one kind at once (the part buffers of every
 * multipart upload of a sync). `use` waits until `bytes` fit under the limit; a request larger than the whole
 * budget runs alone, so it is never starved. Waiters are served in arrival order.
 */
export class ByteBudget {
  private inUse = 0;
  private readonly waiting: { bytes: number; start: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Bytes held now (by running calls, and by waiters already let in). */
  get held(): number {
    return this.inUse;
  }

  /** Runs `fn` while holding `bytes` of the budget. */
  async use<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    if (this.waiting.length || !this.fits(bytes)) await new Promise<void>((start) => this.waiting.push({ bytes, start }));
    else this.inUse += bytes;
    try {
      return await fn();
    } finally {
      this.inUse -= bytes;
      this.wake();
    }
  }

  private fits(bytes: number): boolean {
    return this.inUse === 0 || this.inUse + bytes <= this.limit;
  }

  /** Lets waiters in, in order, while the first fits; their bytes are counted before they resume. */
  private wake(): void {
    for (let next = this.waiting[0]; next && this.fits(next.bytes); next = this.waiting[0]) {
      this.waiting.shift();
      this.inUse += next.bytes;
      next.start();
    }
  }
}
