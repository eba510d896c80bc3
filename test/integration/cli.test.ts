import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CreateKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../electron/core/local-kms/server.js';
import { isPartialName } from '../../electron/core/partials.js';
import { runKenv, problems } from '../support/cli.js';
import { LocalKmsFixture, kmsClient, localKmsEnv } from '../support/local-kms.js';

// End to end through the built CLI against the local KMS server, reached the way a user reaches any KMS endpoint.
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

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function newKey(): Promise<string> {
  const out = await kmsClient(kms).send(new CreateKeyCommand({ Description: 'cli test key' }));
  return out.KeyMetadata!.Arn!;
}

describe('kenv encrypt / decrypt against a KMS endpoint', () => {
  it('round-trips a 100 MiB file byte-exact', async () => {
    const plaintext = randomBytes(100 * 1024 * 1024);
    const input = file('big.bin', plaintext);
    const enc = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--context', 'team=payments'], { env });
    expect(problems(enc.stderr)).toEqual([]);
    expect(enc.code).toBe(0);
    const out = join(dir, 'out');
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', out, '--context', 'team=payments'], { env });
    expect(problems(dec.stderr)).toEqual([]);
    expect(dec.code).toBe(0);
    expect(readFileSync(join(out, 'big.bin')).equals(plaintext)).toBe(true);
  });

  it('fails a wrong encryption context with its own message, leaving no output', async () => {
    const input = file('ctx.txt', Buffer.from('context bound'));
    expect((await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--context', 'team=payments'], { env })).code).toBe(0);
    const out = join(dir, 'ctx-out');
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', out, '--context', 'team=marketing'], { env });
    expect(dec.code).toBe(1);
    expect(dec.stderr).toContain('[CONTEXT_MISMATCH]');
    expect(dec.stderr).toContain('team=payments');
    expect(dec.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'ctx.txt'))).toBe(false);
  });

  it('fails on a disabled key with its own message', async () => {
    const key = await newKey();
    const input = file('disabled.txt', Buffer.from('soon disabled'));
    expect((await runKenv(['encrypt', input, '--key', key], { env })).code).toBe(0);
    await kmsClient(kms).send(new DisableKeyCommand({ KeyId: key }));
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'disabled-out')], { env });
    expect(dec.code).toBe(1);
    expect(dec.stderr).toContain('[KMS_KEY_DISABLED]');
    expect(dec.stderr).toContain(key);
    expect(existsSync(join(dir, 'disabled-out', 'disabled.txt'))).toBe(false);
  });

  it('fails a denied Decrypt with its own message naming the missing permission', async () => {
    const key = await newKey();
    const input = file('denied.txt', Buffer.from('not for you'));
    expect((await runKenv(['encrypt', input, '--key', key], { env })).code).toBe(0);
    kms.deny({ operation: 'Decrypt', key });
    try {
      const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'denied-out')], { env });
      expect(dec.code).toBe(1);
      expect(dec.stderr).toContain('[KMS_ACCESS_DENIED]');
      expect(dec.stderr).toContain('kms:Decrypt');
    } finally {
      kms.allow({ operation: 'Decrypt', key });
    }
  });

  it('opens a file encrypted under two keys with either key', async () => {
    const [first, second] = [await newKey(), await newKey()];
    const plaintext = randomBytes(3000);
    const input = file('two.bin', plaintext);
    expect((await runKenv(['encrypt', input, '--key', first, '--key', second], { env })).code).toBe(0);
    const info = JSON.parse((await runKenv(['inspect', `${input}.kenv`, '--json'], { env })).stdout.toString()) as {
      encryptedDataKeys: { keyArn: string }[];
    };
    expect(info.encryptedDataKeys.map((k) => k.keyArn)).toEqual([first, second]);
    for (const [open, denied] of [
      [second, first],
      [first, second],
    ] as const) {
      kms.deny({ operation: 'Decrypt', key: denied });
      try {
        const out = join(dir, `two-${open.slice(-6)}`);
        const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', out], { env });
        expect(problems(dec.stderr)).toEqual([]);
        expect(readFileSync(join(out, 'two.bin')).equals(plaintext)).toBe(true);
      } finally {
        kms.allow({ operation: 'Decrypt', key: denied });
      }
    }
  });

  it('lists every key tried, and why, when none opens', async () => {
    const [first, second] = [await newKey(), await newKey()];
    const input = file('none.bin', Buffer.from('x'));
    expect((await runKenv(['encrypt', input, '--key', first, '--key', second], { env })).code).toBe(0);
    await kmsClient(kms).send(new DisableKeyCommand({ KeyId: first }));
    kms.deny({ operation: 'Decrypt', key: second });
    try {
      const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'none-out')], { env });
      expect(dec.code).toBe(1);
      expect(dec.stderr).toContain('[NO_KEY_OPENED]');
      expect(dec.stderr).toContain(first);
      expect(dec.stderr).toContain(second);
      expect(dec.stderr).toContain('disabled');
      expect(dec.stderr).toContain('kms:Decrypt');
    } finally {
      kms.allow();
    }
  });

  it('signs with --sign and verifies on decrypt', async () => {
    const plaintext = randomBytes(5000);
    const input = file('signed.bin', plaintext);
    expect((await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--sign', '--frame-size', '1KiB'], { env })).code).toBe(0);
    const inspect = await runKenv(['inspect', `${input}.kenv`], { env });
    expect(inspect.stdout.toString()).toContain('0x0578');
    expect(inspect.stdout.toString()).toContain('1024 bytes');
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'signed-out')], { env });
    expect(dec.code).toBe(0);
    expect(readFileSync(join(dir, 'signed-out', 'signed.bin')).equals(plaintext)).toBe(true);
  });

  it('streams stdin to stdout with "-"', async () => {
    const plaintext = randomBytes(2 * 1024 * 1024 + 3);
    const enc = await runKenv(['encrypt', '-', '--key', 'alias/kenv-demo'], { env, input: plaintext });
    expect(enc.code).toBe(0);
    expect(enc.stdout[0]).toBe(0x02);
    const dec = await runKenv(['decrypt', '-'], { env, input: enc.stdout });
    expect(dec.code).toBe(0);
    expect(dec.stdout.equals(plaintext)).toBe(true);
  });

  it('never overwrites an existing file without --force', async () => {
    const input = file('keep.txt', Buffer.from('original'));
    expect((await runKenv(['encrypt', input, '--key', 'alias/kenv-demo'], { env })).code).toBe(0);
    const again = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[OUTPUT_EXISTS]');
    const dec = await runKenv(['decrypt', `${input}.kenv`], { env });
    expect(dec.code).toBe(1);
    expect(readFileSync(input, 'utf8')).toBe('original');
    writeFileSync(input, 'changed');
    const forced = await runKenv(['decrypt', `${input}.kenv`, '--force'], { env });
    expect(forced.code).toBe(0);
    expect(readFileSync(input, 'utf8')).toBe('original');
  });

  it('encrypts and decrypts with a raw AES key and no KMS at all', async () => {
    const keyFile = file('raw.key', Buffer.from(randomBytes(32).toString('base64') + '\n'));
    const input = file('offline.txt', Buffer.from('offline secret'));
    const raw = ['--raw-aes-key', keyFile, '--raw-aes-namespace', 'kenv-offline', '--raw-aes-name', 'laptop'];
    const offline = { ...env, AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9' };
    expect((await runKenv(['encrypt', input, ...raw], { env: offline })).code).toBe(0);
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'raw-out'), ...raw], { env: offline });
    expect(problems(dec.stderr)).toEqual([]);
    expect(readFileSync(join(dir, 'raw-out', 'offline.txt'), 'utf8')).toBe('offline secret');
  });

  it('inspects without any KMS call', async () => {
    const input = file('look.txt', Buffer.from('look'));
    expect((await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--context', 'a=b'], { env })).code).toBe(0);
    const before = { ...kms.counts() };
    const shown = await runKenv(['inspect', `${input}.kenv`], { env });
    expect(shown.code).toBe(0);
    expect(shown.stdout.toString()).toMatch(/a = b/);
    expect(shown.stdout.toString()).toMatch(/arn:aws:kms:us-east-1:111122223333:key\//);
    expect(kms.counts()).toEqual(before);
  });

  it('exits 2 on a usage error and 1 on a failed operation, with one line on stderr', async () => {
    const usage = await runKenv(['encrypt'], { env });
    expect(usage.code).toBe(2);
    const badSize = await runKenv(['encrypt', 'x', '--key', 'alias/kenv-demo', '--frame-size', 'huge'], { env });
    expect(badSize.code).toBe(2);
    const noKey = await runKenv(['encrypt', file('no-key.txt', Buffer.from('x'))], { env });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--key');
    const missing = await runKenv(['decrypt', join(dir, 'missing.kenv')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('missing.kenv');
    expect(missing.stderr).toContain('[INPUT_NOT_FOUND]');
  });

  it('leaves no temporary file behind after a successful encrypt, a refused decrypt and a successful decrypt', async () => {
    // Self-contained: it makes its own outputs, so it proves something when run alone or in any order.
    const input = file('leftovers.txt', Buffer.from('nothing partial stays'));
    expect((await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--context', 'a=b'], { env })).code).toBe(0);
    expect((await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'leftovers-no'), '--context', 'a=c'], { env })).code).toBe(1);
    expect((await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'leftovers-ok'), '--context', 'a=b'], { env })).code).toBe(0);
    expect(readFileSync(join(dir, 'leftovers-ok', 'leftovers.txt'), 'utf8')).toBe('nothing partial stays');
    // Temporary outputs are hidden files named …partial (whatever their exact pattern); none may remain anywhere in dir.
    const leftovers = readdirSync(dir, { recursive: true }).map(String).filter((n) => isPartialName(basename(n)) || /partial/.test(n));
    expect(leftovers).toEqual([]);
  });
});

describe('kenv decrypt --key', () => {
  it('opens a file when --key names its key by alias, and refuses keys that did not wrap it', async () => {
    const plaintext = Buffer.from('strict');
    const input = file('strict.txt', plaintext);
    expect((await runKenv(['encrypt', input, '--key', 'alias/kenv-demo'], { env })).code).toBe(0);
    const ok = await runKenv(['decrypt', `${input}.kenv`, '--key', 'alias/kenv-demo', '--out', join(dir, 'strict-ok')], { env });
    expect(problems(ok.stderr)).toEqual([]);
    expect(readFileSync(join(dir, 'strict-ok', 'strict.txt')).equals(plaintext)).toBe(true);
    const other = await newKey();
    const refused = await runKenv(['decrypt', `${input}.kenv`, '--key', other, '--out', join(dir, 'strict-no')], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[NO_KEY_OPENED]');
    expect(existsSync(join(dir, 'strict-no', 'strict.txt'))).toBe(false);
  });
});

describe('kenv batch, rewrap, seal through the CLI', () => {
  it('encrypts many files as one batch that shares a data key', async () => {
    const inputs = Array.from({ length: 20 }, (_, i) => file(`batch-${i}.txt`, Buffer.from(`file ${i}`)));
    const before = kms.counts().GenerateDataKey ?? 0;
    // Without the per-file audit id (issue 13), whose context would give each file a data key of its own.
    const enc = await runKenv(['encrypt', ...inputs, '--key', 'alias/kenv-demo', '--out', join(dir, 'batch'), '--no-file-id'], { env });
    expect(problems(enc.stderr)).toEqual([]);
    expect(enc.code).toBe(0);
    expect((kms.counts().GenerateDataKey ?? 0) - before).toBe(1);
    const dec = await runKenv(['decrypt', ...inputs.map((_, i) => join(dir, 'batch', `batch-${i}.txt.kenv`)), '--out', join(dir, 'batch-out')], { env });
    expect(dec.code).toBe(0);
    for (let i = 0; i < 20; i++) expect(readFileSync(join(dir, 'batch-out', `batch-${i}.txt`), 'utf8')).toBe(`file ${i}`);
  });

  it('rewraps a file to another key: it opens with the new key and no longer with the old', async () => {
    const [from, to] = [await newKey(), await newKey()];
    const input = file('rewrap.txt', Buffer.from('moving keys'));
    expect((await runKenv(['encrypt', input, '--key', from], { env })).code).toBe(0);
    const rewrap = await runKenv(['rewrap', `${input}.kenv`, '--to-key', to], { env });
    expect(problems(rewrap.stderr)).toEqual([]);
    expect(rewrap.code).toBe(0);
    const info = JSON.parse((await runKenv(['inspect', `${input}.kenv`, '--json'], { env })).stdout.toString()) as {
      encryptedDataKeys: { keyArn: string }[];
    };
    expect(info.encryptedDataKeys.map((k) => k.keyArn)).toEqual([to]);
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'rewrap-out')], { env });
    expect(readFileSync(join(dir, 'rewrap-out', 'rewrap.txt'), 'utf8')).toBe('moving keys');
    const strictOld = await runKenv(['decrypt', `${input}.kenv`, '--key', from, '--out', join(dir, 'rewrap-old')], { env });
    expect(strictOld.code).toBe(1);
    expect(dec.code).toBe(0);
  });

  it('seals and unseals a secret, and refuses one over 4 KB', async () => {
    const sealed = await runKenv(['seal', '--key', 'alias/kenv-demo', '--context', 'app=api'], { env, input: Buffer.from('s3cr3t-token') });
    expect(sealed.code).toBe(0);
    const text = sealed.stdout.toString().trim();
    expect(text).toMatch(/^[A-Za-z0-9+/=]+$/);
    const unsealed = await runKenv(['unseal', '--context', 'app=api'], { env, input: Buffer.from(text) });
    expect(unsealed.code).toBe(0);
    expect(unsealed.stdout.toString()).toBe('s3cr3t-token');
    const big = await runKenv(['seal', '--key', 'alias/kenv-demo'], { env, input: Buffer.alloc(4097, 1) });
    expect(big.code).toBe(1);
    expect(big.stderr).toContain('SECRET_TOO_LARGE');
    expect(big.stderr).toContain('kenv encrypt');
  });
});
