import { describe, expect, it } from 'vitest';
import { createKmsClient, defaultKmsClientFactory } from '../../../../../electron/core/kms/client.js';
import { type ThrottleNotice, throttleBackoffMiddleware, withThrottleScope } from '../../../../../electron/core/kms/throttle.js';

function throttled(attempts = 3): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400, attempts } });
}

/** Runs the middleware over a `next` that throws `failures` throttling errors, then answers. */
async function run(failures: number, opts: Parameters<typeof throttleBackoffMiddleware>[0]) {
  const waits: number[] = [];
  let calls = 0;
  const handler = throttleBackoffMiddleware({ random: () => 0.5, ...opts, sleep: async (ms) => void waits.push(ms) })(
    async () => {
      calls++;
      if (calls <= failures) throw throttled();
      return { output: { ok: true }, response: {} };
    },
    { commandName: 'GenerateDataKeyCommand' },
  );
  const outcome = await handler({ input: {} }).then(() => 'ok', (e: unknown) => e);
  return { waits, calls, outcome };
}

describe("Kenv's throttling backoff", () => {
  it('waits a jittered, doubling, capped time before each new try', async () => {
    const { waits, outcome } = await run(6, { baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 60_000 });
    expect(outcome).toBe('ok');
    expect(waits).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('gives up when the next wait would pass the budget, counting every SDK attempt', async () => {
    const { waits, calls, outcome } = await run(100, { baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 1000 });
    expect(waits).toEqual([50, 100, 200, 400]);
    expect(calls).toBe(5);
    expect(outcome).toMatchObject({ name: 'ThrottlingException', $metadata: { attempts: 15 } });
  });

  it('passes other errors through untouched, without waiting', async () => {
    const waits: number[] = [];
    const denied = Object.assign(new Error('no'), { name: 'AccessDeniedException' });
    const handler = throttleBackoffMiddleware({ sleep: async (ms) => void waits.push(ms) })(async () => { throw denied; }, {});
    await expect(handler({ input: {} })).rejects.toBe(denied);
    expect(waits).toEqual([]);
  });

  it('tells the scope the work runs in, and a cancelled scope stops waiting', async () => {
    const notices: ThrottleNotice[] = [];
    const { outcome } = await withThrottleScope({ onThrottle: (n) => notices.push(n) }, () => run(2, {}));
    expect(outcome).toBe('ok');
    expect(notices.map((n) => [n.operation, n.retry])).toEqual([['GenerateDataKey', 1], ['GenerateDataKey', 2]]);
    const abort = new AbortController();
    abort.abort();
    const cancelled = await withThrottleScope({ signal: abort.signal }, () => run(2, {}));
    expect(cancelled.outcome).toMatchObject({ name: 'ThrottlingException' });
    expect(cancelled.waits).toEqual([]);
  });

  it("every client from kms/client.ts (createKmsClient and the default factory) uses the SDK's adaptive retry mode, with the backoff around it", async () => {
    for (const client of [createKmsClient({ region: 'us-east-1' }), defaultKmsClientFactory()('us-east-1')]) {
      expect(((await client.config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
      expect(client.middlewareStack.identify().some((m) => m.startsWith('kenvThrottleBackoff'))).toBe(true);
      client.destroy();
    }
  });
});
