/** Runs `fn` over `items` with at most `limit` calls in flight; resolves when all have settled. */
export async function forEachLimit<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
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
