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
