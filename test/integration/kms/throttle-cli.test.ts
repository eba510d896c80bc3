import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { runKenv } from '../../support/cli.js';
import { LocalKmsFixture, localKmsEnv } from '../../support/local-kms.js';

// The built CLI with its default retry policy; AWS_MAX_ATTEMPTS=1 takes the SDK's own retries out of the way so
// every throttled answer reaches Kenv's backoff (waits of up to 0.5, 1 and 2 s).
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  env = {
    ...localKmsEnv(kms, dir),
    AWS_MAX_ATTEMPTS: '1',
  };
});
afterAll(() => fixture.closeAll());

describe('kenv while KMS throttles', () => {
  it('waits out three throttled answers, saying so on stderr, and encrypts the file', async () => {
    const input = join(dir, 'a.txt');
    writeFileSync(input, 'throttled but done');
    kms.throttleNext(3);
    const run = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo'], { env });
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^kenv: KMS is throttling; retrying in 1 s \(GenerateDataKey\)$/),
      expect.stringMatching(/^kenv: KMS is throttling; retrying in 1 s \(GenerateDataKey\)$/),
      expect.stringMatching(/^kenv: KMS is throttling; retrying in [12] s \(GenerateDataKey\)$/),
      `encrypted ${input} -> ${input}.kenv`,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe('');
  });
});
