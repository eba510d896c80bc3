/**
 * A test's own time limit, raised to the whole run's when `npm run coverage` measures it.
 *
 * A timeout written on a test (`it(title, fn, 180_000)`) wins over Vitest's `--testTimeout`, so under coverage (every
 * process instrumented, on a loaded machine) a slow test ran out of its usual limit and its part failed for lack of
 * time, not of a fault. test/support/coverage.mjs sets KENV_TEST_TIMEOUT_MS to its own limit.
 */
export function timeLimit(ms: number): number {
  const measured = Number(process.env.KENV_TEST_TIMEOUT_MS);
  return Number.isFinite(measured) && measured > ms ? measured : ms;
}
