import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { runKenv, problems } from '../../support/cli.js';
import { LocalKmsFixture } from '../../support/local-kms.js';
import { startS3Server, type S3TestServer } from '../../support/s3-server.js';
import { timeLimit } from '../../support/timeouts.js';

// kenv verify through the built CLI, against the local KMS and the S3 harness.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let s3: S3TestServer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  kms = await fixture.start();
  s3 = await startS3Server();
  await s3.createBucket('proof');
  dir = fixture.tempDir();
  env = { ...s3.env(), AWS_ENDPOINT_URL_KMS: kms.url, AWS_ENDPOINT_URL_STS: kms.url, HOME: dir };
});
afterAll(async () => {
  await s3?.close();
  await fixture.closeAll();
});

/** Encrypts `bytes` with the CLI into `sub/name.kenv` and returns the .kenv path. */
async function encrypted(sub: string, name: string, bytes: Buffer, extra: string[] = []): Promise<string> {
  const folder = join(dir, sub);
  mkdirSync(folder, { recursive: true });
  const input = join(folder, name);
  writeFileSync(input, bytes);
  const r = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--frame-size', '4096', ...extra], { env });
  expect(problems(r.stderr)).toEqual([]);
  return `${input}.kenv`;
}

function flipByte(path: string, fromEnd: number): void {
  const bytes = readFileSync(path);
  bytes[bytes.length - fromEnd]! ^= 0x01;
  writeFileSync(path, bytes);
}

describe('kenv verify', () => {
  it('passes an intact file, signed or not, and writes nothing', async () => {
    const plain = await encrypted('intact', 'a.bin', randomBytes(50_000));
    const signed = await encrypted('intact', 'b.bin', randomBytes(50_000), ['--sign']);
    const before = readdirSync(join(dir, 'intact')).sort();
    const r = await runKenv(['verify', plain, signed], { env });
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain(`ok      ${plain}`);
    expect(r.stdout.toString()).toContain('2 verified, 0 failed.');
    expect(readdirSync(join(dir, 'intact')).sort()).toEqual(before);
  });

  it('catches a tampered frame with the code decrypt gives, and exits 1', async () => {
    const good = await encrypted('tamper', 'good.bin', randomBytes(20_000));
    const bad = await encrypted('tamper', 'bad.bin', randomBytes(20_000));
    flipByte(bad, 30);
    const before = readdirSync(join(dir, 'tamper')).sort();
    const r = await runKenv(['verify', good, bad], { env });
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toContain(`ok      ${good}`);
    expect(r.stderr).toContain(`FAILED  ${bad}`);
    expect(r.stderr).toContain('[FRAME_TAMPERED]');
    expect(readdirSync(join(dir, 'tamper')).sort()).toEqual(before);
    const dec = await runKenv(['decrypt', bad, '--out', join(dir, 'tamper-out')], { env });
    expect(dec.stderr).toContain('[FRAME_TAMPERED]');
  });

  it('catches a bad signature, a truncated file and a file that is not .kenv', async () => {
    const signed = await encrypted('kinds', 'sig.bin', randomBytes(9000), ['--sign']);
    flipByte(signed, 10);
    const cut = await encrypted('kinds', 'cut.bin', randomBytes(9000));
    writeFileSync(cut, readFileSync(cut).subarray(0, -100));
    const junk = join(dir, 'kinds', 'junk.kenv');
    writeFileSync(junk, Buffer.alloc(0));
    const r = await runKenv(['verify', signed, cut, junk, '--json'], { env });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout.toString()) as { ok: boolean; failed: number; results: { target: string; code?: string }[] };
    expect(report.ok).toBe(false);
    expect(report.failed).toBe(3);
    expect(report.results.map((x) => x.code)).toEqual(['BAD_SIGNATURE', 'TRUNCATED_BODY', 'NOT_KENV']);
  });

  it('fails a file whose key this identity may not use with the KMS code', async () => {
    const file = await encrypted('denied', 'd.bin', randomBytes(100));
    kms.deny({ operation: 'Decrypt', key: 'alias/kenv-demo' });
    try {
      const r = await runKenv(['verify', file], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\[(KMS_ACCESS_DENIED|NO_KEY_OPENED)\]/);
      const dec = await runKenv(['decrypt', file, '--out', join(dir, 'denied-out')], { env });
      expect(dec.stderr.match(/\[[A-Z_]+\]/)?.[0]).toBe(r.stderr.match(/\[[A-Z_]+\]/)?.[0]);
    } finally {
      kms.allow();
    }
  });

  it('walks a folder, skipping .kenv-trash, and refuses an empty one', async () => {
    await encrypted('tree/x', 'one.bin', randomBytes(100));
    await encrypted('tree/y/z', 'two.bin', randomBytes(100));
    const trashed = await encrypted('tree/.kenv-trash', 'old.bin', randomBytes(100));
    flipByte(trashed, 5);
    const r = await runKenv(['verify', join(dir, 'tree')], { env });
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('2 verified, 0 failed.');
    mkdirSync(join(dir, 'empty'));
    const empty = await runKenv(['verify', join(dir, 'empty')], { env });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('[INPUT_NOT_FOUND]');
  });

  it('streams every object of an S3 prefix once and names the tampered one', async () => {
    const client = s3.client();
    const good = readFileSync(await encrypted('s3', 'good.bin', randomBytes(30_000)));
    const bad = Buffer.from(readFileSync(await encrypted('s3', 'bad.bin', randomBytes(30_000))));
    bad[bad.length - 40]! ^= 0x80;
    await client.send(new PutObjectCommand({ Bucket: 'proof', Key: 'team/good.bin.kenv', Body: good }));
    await client.send(new PutObjectCommand({ Bucket: 'proof', Key: 'team/sub/bad.bin.kenv', Body: bad }));
    await client.send(new PutObjectCommand({ Bucket: 'proof', Key: 'team/readme.txt', Body: 'not checked' }));
    await client.send(new PutObjectCommand({ Bucket: 'proof', Key: 'clean/good.bin.kenv', Body: good }));
    const gets = s3.proxy.stats.gets;
    const r = await runKenv(['verify', 's3://proof/team', '--json'], { env });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout.toString()) as { verified: number; results: { target: string; ok: boolean; code?: string }[] };
    expect(report.results).toEqual([
      expect.objectContaining({ target: 's3://proof/team/good.bin.kenv', ok: true }),
      expect.objectContaining({ target: 's3://proof/team/sub/bad.bin.kenv', ok: false, code: 'FRAME_TAMPERED' }),
    ]);
    expect(s3.proxy.stats.gets - gets).toBe(2);
    const clean = await runKenv(['verify', 's3://proof/clean/'], { env });
    expect(clean.code).toBe(0);
    const none = await runKenv(['verify', 's3://proof/nothing-here'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('[INPUT_NOT_FOUND]');
  });
  it('an object deleted after the listing fails with verify\'s own sentence (not a sync\'s); the others still verify', async () => {
    const client = s3.client();
    const good = readFileSync(await encrypted('s3-gone', 'good.bin', randomBytes(10_000)));
    await client.send(new PutObjectCommand({ Bucket: 'proof', Key: 'gone/a.kenv', Body: good }));
    await client.send(new PutObjectCommand({ Bucket: 'proof', Key: 'gone/b.kenv', Body: good }));
    // Another machine deletes a.kenv between verify's listing and its GET.
    s3.proxy.beforeNext((r) => r.method === 'GET' && r.key === 'gone/a.kenv', async () => {
      await client.send(new DeleteObjectCommand({ Bucket: 'proof', Key: 'gone/a.kenv' }));
    });
    const r = await runKenv(['verify', 's3://proof/gone/'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'FAILED  s3://proof/gone/a.kenv: s3://proof/gone/a.kenv was removed or replaced on S3 after verify listed it, so it was not verified. ' +
        'Nothing was changed; run verify again to check what is there now. [SYNC_REMOTE_CHANGED]',
    );
    expect(r.stderr).not.toMatch(/this sync|Sync again/);
    expect(r.stdout.toString()).toContain('ok      s3://proof/gone/b.kenv');
  });

  it('verifies piped input with `-`, writing nothing (not even a temporary file), and catches a tampered stream', { timeout: timeLimit(180_000) }, async () => {
    const good = await encrypted('stdin', 'piped.bin', randomBytes(70_000), ['--sign']);
    const bad = join(dir, 'stdin', 'bad.kenv');
    writeFileSync(bad, readFileSync(good));
    flipByte(bad, 200);
    const cwd = join(dir, 'stdin-cwd');
    const tmp = join(dir, 'stdin-tmp');
    mkdirSync(cwd);
    mkdirSync(tmp);
    const quiet = { ...env, TMPDIR: tmp };
    const ok = await runKenv(['verify', '-'], { env: quiet, input: readFileSync(good), cwd });
    expect(problems(ok.stderr)).toEqual([]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toBe('ok      -\n1 verified, 0 failed.\n');
    const tampered = await runKenv(['verify', '-', '--json'], { env: quiet, input: readFileSync(bad), cwd });
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout.toString())).toMatchObject({ ok: false, failed: 1, results: [{ target: '-', ok: false, code: 'FRAME_TAMPERED' }] });
    // Beside files in one run, and only once.
    const mixed = await runKenv(['verify', good, '-'], { env: quiet, input: readFileSync(good), cwd });
    expect(mixed.stdout.toString()).toContain('2 verified, 0 failed.');
    const twice = await runKenv(['verify', '-', '-'], { env: quiet, input: readFileSync(good), cwd });
    expect(twice.code).toBe(2);
    expect(twice.stderr.toString()).toContain('can be given only once');
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
