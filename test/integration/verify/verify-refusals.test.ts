import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encryptFile } from '../../../electron/core/files.js';
import { RawAesKeyring } from '../../../electron/core/keyring/raw-aes-keyring.js';
import { runVerifyCommand } from '../../../electron/core/verify/command.js';
import { type VerifyResult, verifyTargets } from '../../../electron/core/verify/verify.js';

// `kenv verify` (runVerifyCommand, verifyTargets) on what it must not pass: a link to a folder, a path through a file,
// a folder with nothing to verify, a listing that fails, an object that vanished or whose body breaks part-way, pages
// of a listing, a wrong context or too many data keys, a cancel. Every file gets its own line with the decrypt's
// code; nothing is written.
const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'verify', key: randomBytes(32) });
let dir: string;
let good: Buffer;
let tampered: Buffer;
let goodPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-verify-refusals-'));
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, randomBytes(10_000));
  goodPath = join(dir, 'good.kenv');
  await encryptFile(plain, { keyring, outputPath: goodPath, context: { team: 'ops' } });
  good = readFileSync(goodPath);
  tampered = Buffer.from(good);
  tampered[tampered.length - 40]! ^= 1;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): { out: string[]; err: string[]; io: { out(l: string): void; err(l: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => void out.push(l), err: (l) => void err.push(l) } };
}

function failure(r: VerifyResult | undefined): { target: string; code: string; message: string } {
  expect(r?.ok, `expected ${r?.target} to fail`).toBe(false);
  const f = r as Extract<VerifyResult, { ok: false }>;
  return { target: f.target, code: f.error.code, message: f.error.message };
}

/** A bucket that answers `send` from a table of command names; anything else is a test fault. */
function bucket(answers: Record<string, (input: Record<string, unknown>) => unknown>): () => Promise<S3Client> {
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const answer = answers[cmd.constructor.name];
      if (!answer) throw new Error(`unexpected ${cmd.constructor.name}`);
      return answer(cmd.input);
    },
  };
  return async () => client as unknown as S3Client;
}

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

describe('verify, local targets', () => {
  it('a link to a folder is not walked: it is refused as a folder, naming it', async () => {
    const real = join(dir, 'real-folder');
    mkdirSync(real);
    writeFileSync(join(real, 'a.kenv'), good);
    const link = join(dir, 'link-to-folder');
    symlinkSync(real, link);
    const [r, ...rest] = await verifyTargets([link], { keyring });
    expect(rest).toEqual([]);
    expect(failure(r)).toEqual({ target: link, code: 'INPUT_UNREADABLE', message: `${link} is a folder; give the files inside it.` });
  });

  it('a path through a file is INPUT_UNREADABLE with the system reason', async () => {
    const through = join(goodPath, 'x.kenv');
    const [r] = await verifyTargets([through], { keyring });
    const f = failure(r);
    expect(f.code).toBe('INPUT_UNREADABLE');
    expect(f.message).toMatch(new RegExp(`^Cannot read ${through}: `));
  });

  it('a folder whose only .kenv is a link (not followed) and a non-.kenv file has nothing to verify: INPUT_NOT_FOUND', async () => {
    const f = join(dir, 'only-links');
    mkdirSync(f);
    symlinkSync(goodPath, join(f, 'linked.kenv'));
    writeFileSync(join(f, 'notes.txt'), 'x');
    const [r] = await verifyTargets([f], { keyring });
    expect(failure(r)).toEqual({ target: f, code: 'INPUT_NOT_FOUND', message: `No .kenv files were found in ${f}. Check the folder.` });
  });

  it('a folder walked in name order: each file its own line, the tampered one with the code decrypt gives', async () => {
    const f = join(dir, 'walk');
    mkdirSync(join(f, 'sub'), { recursive: true });
    writeFileSync(join(f, 'b.kenv'), tampered);
    writeFileSync(join(f, 'a.KENV'), good);
    writeFileSync(join(f, 'sub', 'c.kenv'), good);
    const c = capture();
    expect(await runVerifyCommand({ targets: [f], keyring }, c.io)).toBe(1);
    expect(c.out).toEqual([`ok      ${join(f, 'a.KENV')}`, `ok      ${join(f, 'sub', 'c.kenv')}`, '2 verified, 1 failed.']);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(new RegExp(`^FAILED  ${join(f, 'b.kenv')}: .* \\[FRAME_TAMPERED\\]$`));
    expect(readdirSync(f).sort()).toEqual(['a.KENV', 'b.kenv', 'sub']);
  });

  it('a required context the file lacks and a data-key limit it exceeds fail with their codes, in --json', async () => {
    const c = capture();
    expect(await runVerifyCommand({ targets: [goodPath], keyring, requiredContext: { team: 'finance' }, json: true }, c.io)).toBe(1);
    const doc = JSON.parse(c.out.join('\n')) as { ok: boolean; verified: number; failed: number; results: { target: string; ok: boolean; code?: string; message?: string }[] };
    expect(doc).toMatchObject({ ok: false, verified: 0, failed: 1, results: [{ target: goodPath, ok: false, code: 'CONTEXT_MISMATCH' }] });
    expect(c.err).toEqual([]);

    const d = capture();
    expect(await runVerifyCommand({ targets: [goodPath], keyring, maxEncryptedDataKeys: 0, json: true }, d.io)).toBe(1);
    expect(JSON.parse(d.out.join('\n'))).toMatchObject({ ok: false, failed: 1, results: [{ ok: false, code: expect.stringMatching(/^[A-Z_]+$/) }] });

    const e = capture();
    expect(await runVerifyCommand({ targets: [goodPath], keyring, requiredContext: { team: 'ops' }, maxEncryptedDataKeys: 1, json: true }, e.io)).toBe(0);
    expect(JSON.parse(e.out.join('\n'))).toMatchObject({ ok: true, verified: 1, failed: 0, results: [{ target: goodPath, ok: true, bytes: good.length, messageId: expect.stringMatching(/^[0-9a-f]+$/) }] });
  });

  it('a cancel stops the whole run with CANCELLED instead of reporting files as failed', async () => {
    const results: VerifyResult[] = [];
    const controller = new AbortController();
    controller.abort();
    await expect(verifyTargets([goodPath, goodPath], { keyring, signal: controller.signal, onResult: (r) => results.push(r) })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(results).toEqual([]);
  });
});

describe('verify, S3 targets', () => {
  it('refuses an S3 location where no S3 client is given', async () => {
    const [r] = await verifyTargets(['s3://bucket/p/'], { keyring });
    expect(failure(r)).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'S3 locations cannot be verified here.' });
  });

  it('follows every page of the listing, skips what is not .kenv under the prefix, and names the tampered object', async () => {
    const lists: unknown[] = [];
    const s3 = bucket({
      ListObjectsV2Command: (input) => {
        lists.push(input.ContinuationToken);
        return input.ContinuationToken
          ? { Contents: [{ Key: 'p/b.kenv' }, { Key: undefined }], IsTruncated: false }
          : { Contents: [{ Key: 'p/a.kenv' }, { Key: 'p/readme.txt' }, { Key: 'q/elsewhere.kenv' }], IsTruncated: true, NextContinuationToken: 'page-2' };
      },
      GetObjectCommand: (input) => ({ Body: Readable.from([input.Key === 'p/a.kenv' ? good : tampered]) }),
    });
    const results = await verifyTargets(['s3://bucket/p/'], { keyring, s3 });
    expect(lists).toEqual([undefined, 'page-2']);
    expect(results.map((r) => [r.target, r.ok])).toEqual([['s3://bucket/p/a.kenv', true], ['s3://bucket/p/b.kenv', false]]);
    expect(failure(results[1]).code).toBe('FRAME_TAMPERED');
  });

  it('an empty bucket is INPUT_NOT_FOUND, asking to check the bucket and prefix', async () => {
    const s3 = bucket({ ListObjectsV2Command: (input) => (expect(input.Prefix).toBeUndefined(), {}) });
    const [r] = await verifyTargets(['s3://bucket'], { keyring, s3 });
    expect(failure(r)).toEqual({ target: 's3://bucket', code: 'INPUT_NOT_FOUND', message: 'No .kenv files were found in s3://bucket. Check the bucket and prefix.' });
  });

  it('a listing S3 refuses is S3_ACCESS_DENIED for the location', async () => {
    const s3 = bucket({ ListObjectsV2Command: () => { throw s3Error('AccessDenied', 403); } });
    const [r] = await verifyTargets(['s3://bucket/p/'], { keyring, s3 });
    expect(failure(r)).toMatchObject({ target: 's3://bucket/p/', code: 'S3_ACCESS_DENIED' });
  });

  it('an object gone between the listing and the GET, and a body that breaks part-way, each fail alone; the next still verifies', async () => {
    const s3 = bucket({
      ListObjectsV2Command: () => ({ Contents: [{ Key: 'gone.kenv' }, { Key: 'broken.kenv' }, { Key: 'fine.kenv' }] }),
      GetObjectCommand: (input) => {
        if (input.Key === 'gone.kenv') throw s3Error('NoSuchKey', 404);
        if (input.Key === 'fine.kenv') return { Body: Readable.from([good]) };
        async function* breaking(): AsyncGenerator<Buffer> {
          yield good.subarray(0, 500);
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
        }
        return { Body: Readable.from(breaking()) };
      },
    });
    const results = await verifyTargets(['s3://bucket'], { keyring, s3 });
    expect(results.map((r) => [r.target, r.ok])).toEqual([['s3://bucket/gone.kenv', false], ['s3://bucket/broken.kenv', false], ['s3://bucket/fine.kenv', true]]);
    expect(failure(results[0])).toMatchObject({
      code: 'SYNC_REMOTE_CHANGED',
      message: 's3://bucket/gone.kenv was removed or replaced on S3 after verify listed it, so it was not verified. Nothing was changed; run verify again to check what is there now.',
    });
    const broken = failure(results[1]);
    expect(broken.code).toBe('NETWORK_UNREACHABLE');
    expect(broken.message).toContain('The connection to the S3 endpoint failed for S3 s3://bucket/broken.kenv (ECONNRESET).');
  });

  it('kenv verify with --profile and --region reaches S3 through that profile; an endpoint that refuses is a failure line, exit 1', async () => {
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config'), '[profile vault]\nregion = eu-west-1\naws_access_key_id = AKIAVERIFYTEST\naws_secret_access_key = secret\n');
    vi.stubEnv('AWS_CONFIG_FILE', join(home, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(home, 'credentials'));
    vi.stubEnv('AWS_ENDPOINT_URL_S3', 'http://127.0.0.1:1');
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    try {
      const c = capture();
      expect(await runVerifyCommand({ targets: ['s3://bucket/p/'], keyring, profile: 'vault', region: 'eu-west-1' }, c.io)).toBe(1);
      expect(c.out).toEqual(['0 verified, 1 failed.']);
      expect(c.err).toHaveLength(1);
      expect(c.err[0]).toMatch(/^FAILED {2}s3:\/\/bucket\/p\/: .*\[[A-Z_]+\]$/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
