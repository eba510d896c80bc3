import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { runKenv } from '../../support/cli.js';
import { LocalKmsFixture, localKmsEnv } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  env = localKmsEnv(kms, dir);
});
afterAll(() => fixture.closeAll());

describe('kenv keygen', () => {
  it('writes 32 random bytes with mode 0600 that work as a raw AES key, and never overwrites one', async () => {
    const key = join(dir, 'laptop.key');
    // Counted from here: the other tests of this file may run first (shuffled order) and call GenerateRandom.
    const before = kms.counts().GenerateRandom ?? 0;
    const r = await runKenv(['keygen', key], { env });
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toMatch(/^wrote a 256-bit raw AES key to .*laptop\.key/);
    expect(r.code).toBe(0);
    expect(readFileSync(key)).toHaveLength(32);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect((kms.counts().GenerateRandom ?? 0) - before).toBe(0);

    const first = readFileSync(key);
    const again = await runKenv(['keygen', key], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[OUTPUT_EXISTS]');
    expect(readFileSync(key).equals(first)).toBe(true);

    const file = join(dir, 'notes.md');
    writeFileSync(file, 'raw key round trip');
    const raw = ['--raw-aes-key', key, '--raw-aes-namespace', 'kenv', '--raw-aes-name', 'laptop'];
    expect((await runKenv(['encrypt', file, ...raw], { env })).code).toBe(0);
    const dec = await runKenv(['decrypt', `${file}.kenv`, ...raw, '--out', join(dir, 'out')], { env });
    expect(dec.code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'notes.md'), 'utf8')).toBe('raw key round trip');
  });

  it('takes the bytes from KMS GenerateRandom with --kms-random', async () => {
    const key = join(dir, 'hsm.key');
    const before = kms.counts().GenerateRandom ?? 0;
    const r = await runKenv(['keygen', key, '--kms-random'], { env });
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr.toString()).toContain('KMS GenerateRandom');
    expect((kms.counts().GenerateRandom ?? 0) - before).toBe(1);
    expect(readFileSync(key)).toHaveLength(32);
    expect(statSync(key).mode & 0o777).toBe(0o600);
  });

  it('writes nothing when KMS refuses GenerateRandom', async () => {
    kms.deny({ operation: 'GenerateRandom', key: '*' });
    try {
      const key = join(dir, 'denied.key');
      const r = await runKenv(['keygen', key, '--kms-random'], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('[KMS_ACCESS_DENIED]');
      expect(r.stderr).toContain('kms:GenerateRandom');
      expect(() => statSync(key)).toThrow();
    } finally {
      kms.allow();
    }
  });
});
