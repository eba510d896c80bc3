import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { encryptBatch } from '../../../electron/core/kms/batch.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { createKmsClient } from '../../../electron/core/kms/client.js';
import { describeThrottle, type ThrottleNotice } from '../../../electron/core/kms/throttle.js';
import { LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let inFlight = 0;
let peak = 0;
let client: KMSClient;

beforeAll(async () => {
  kms = await fixture.start();
  // The product's client with its retry policy, made short: no SDK retry (its throttling backoff is 0.5-20 s), then
  // Kenv's backoff with waits of at most 20 ms (real timers), within the default budget of a minute per call.
  client = createKmsClient(
    { region: 'us-east-1', endpoint: kms.url, credentials: LOCAL_CREDENTIALS },
    { sdkRetryMode: 'standard', sdkMaxAttempts: 1, baseDelayMs: 2, maxDelayMs: 20 },
  );
  client.middlewareStack.add((next) => async (args) => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    try {
      return await next(args);
    } finally {
      inFlight -= 1;
    }
  }, { step: 'initialize', name: 'countInFlight' });
});
afterAll(async () => {
  client.destroy();
  await fixture.closeAll();
});

function makeFiles(n: number): string[] {
  const dir = join(fixture.tempDir(), 'in');
  mkdirSync(dir);
  return Array.from({ length: n }, (_, i) => {
    const path = join(dir, `file-${i}.txt`);
    writeFileSync(path, `content of file ${i}\n`);
    return path;
  });
}

describe('encryptBatch against the local KMS', () => {
  it('500 files, the first 50 KMS calls throttled, cache off: every file done, at most 4 KMS calls in flight', async () => {
    const files = makeFiles(500);
    const before = kms.counts().GenerateDataKey ?? 0;
    peak = 0;
    kms.throttleNext(50);
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => client });
    const notices: ThrottleNotice[] = [];
    const results = await encryptBatch(files, { keyring, cache: false, concurrency: 4, onThrottle: (n) => notices.push(n) });
    expect(results.flatMap((r) => (r.ok ? [] : [{ input: r.input, ...r.error }]))).toEqual([]);
    expect(notices.length).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
    expect((kms.counts().GenerateDataKey ?? 0) - before).toBe(550);
    const sample = results[499]!;
    if (!sample.ok) throw new Error('unreachable');
    const out = join(fixture.tempDir(), 'back.txt');
    await decryptFile(sample.outputPath, { keyring, outputPath: out });
    expect(readFileSync(out, 'utf8')).toBe('content of file 499\n');
  });

  it('200 files, 50 consecutive throttles, data key cache on: every file done, each wait reported', async () => {
    // The demonstrated fault: files that shared one throttled GenerateDataKey all failed after the SDK's 3 attempts.
    const files = makeFiles(200);
    kms.throttleNext(50);
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => client });
    const lines: string[] = [];
    const results = await encryptBatch(files, { keyring, onThrottle: (n) => lines.push(`${n.input}: ${describeThrottle(n)}`) });
    expect(results.flatMap((r) => (r.ok ? [] : [{ input: r.input, ...r.error }]))).toEqual([]);
    expect(lines.length).toBeGreaterThanOrEqual(20);
    expect(lines[0]).toMatch(/: KMS is throttling; retrying in 1 s$/);
  });

  it('a throttling that outlasts the budget fails with KMS_THROTTLED counting every attempt', async () => {
    const impatient = createKmsClient(
      { region: 'us-east-1', endpoint: kms.url, credentials: LOCAL_CREDENTIALS },
      { sdkRetryMode: 'standard', sdkMaxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, budgetMs: 25, random: () => 0.99 },
    );
    kms.throttleNext(100);
    try {
      const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => impatient });
      const [result] = await encryptBatch(makeFiles(1), { keyring });
      expect(result).toMatchObject({ ok: false, error: { code: 'KMS_THROTTLED' } });
      if (result?.ok !== false) throw new Error('unreachable');
      expect(result.error.message).toContain('after 3 attempts');
    } finally {
      kms.throttleNext(0);
      impatient.destroy();
    }
  });

  it('1,000 files with the data key cache on: a handful of GenerateDataKey calls, distinct message ids, all decrypt', async () => {
    const files = makeFiles(1000);
    const before = kms.counts().GenerateDataKey ?? 0;
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => client });
    const results = await encryptBatch(files, { keyring, context: { batch: 'b1' }, concurrency: 8 });
    expect(results.filter((r) => !r.ok).slice(0, 1)).toEqual([]);
    expect(results.every((r) => r.ok)).toBe(true);
    const calls = (kms.counts().GenerateDataKey ?? 0) - before;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(3);
    const ids = new Set(results.map((r) => (r.ok ? r.messageId : '')));
    expect(ids.size).toBe(1000);
    for (const i of [0, 555, 999]) {
      const r = results[i]!;
      if (!r.ok) throw new Error('unreachable');
      const out = join(fixture.tempDir(), `back-${i}.txt`);
      await decryptFile(r.outputPath, { keyring: new KmsKeyring({ clients: () => client }), outputPath: out });
      expect(readFileSync(out, 'utf8')).toBe(`content of file ${i}\n`);
    }
  });

  it('a batch crossing the data key limits at full concurrency: every file decrypts to its own plaintext', async () => {
    // Each data key serves 3 files, so entries fill and are evicted while 8 files are in flight: a file must never be
    // sealed with the key of an entry zeroed on its eviction.
    const files = makeFiles(60);
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => client });
    const results = await encryptBatch(files, { keyring, cache: { maxMessages: 3 }, concurrency: 8 });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const opener = new KmsKeyring({ clients: () => client });
    for (const [i, r] of results.entries()) {
      if (!r.ok) throw new Error('unreachable');
      const out = join(fixture.tempDir(), `back-${i}.txt`);
      await decryptFile(r.outputPath, { keyring: opener, outputPath: out });
      expect(readFileSync(out, 'utf8')).toBe(`content of file ${i}\n`);
    }
  });

  it('a denied file fails alone with its code; the others finish', async () => {
    const files = makeFiles(5);
    kms.deny({ operation: 'GenerateDataKey', key: DEMO_KEY_ALIAS });
    try {
      const results = await encryptBatch(files, { keyring: new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => client }), cache: false });
      expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(5).fill('KMS_ACCESS_DENIED'));
    } finally {
      kms.allow();
    }
  });
});
