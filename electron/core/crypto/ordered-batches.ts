/**
 * Keeps batch results in message order while several batches are in flight on the worker pool.
 *
 * The stream awaits the oldest batch once `limit` are in flight: that is both the ordering rule and the
 * memory bound (at most `limit` batches of plaintext and ciphertext exist at once).
 */
export class OrderedBatches<T> {
  private readonly queue: Promise<T>[] = [];

  constructor(readonly limit: number) {}

  get size(): number {
    return this.queue.length;
  }

  /** Adds a batch; resolves with the oldest results that had to be released to stay within the limit. */
  async add(result: Promise<T>): Promise<T[]> {
    // An unawaited rejection would be reported as unhandled before its turn comes: observe it now, rethrow in order.
    result.catch(() => undefined);
    this.queue.push(result);
    const released: T[] = [];
    while (this.queue.length > this.limit) released.push(await this.queue.shift()!);
    return released;
  }

  /** Waits for every batch still in flight, in order. */
  async drain(): Promise<T[]> {
    const released: T[] = [];
    while (this.queue.length > 0) released.push(await this.queue.shift()!);
    return released;
  }
}

/** Target plaintext bytes per batch handed to one worker: large enough to amortise the message passing. */
export const BATCH_TARGET_BYTES = 2 * 1024 * 1024;

/** Frames per batch for a frame length. */
export function framesPerBatch(frameLength: number): number {
  return Math.max(1, Math.floor(BATCH_TARGET_BYTES / frameLength));
}

/** Batches in flight per worker: enough to keep every worker busy while the main thread does I/O. */
export function batchesInFlight(poolSize: number): number {
  return poolSize * 2;
}
