import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encryptFile } from '../../../electron/core/files.js';
import { RawAesKeyring } from '../../../electron/core/keyring/raw-aes-keyring.js';
import { type VerifyResult, verifyTargets } from '../../../electron/core/verify/verify.js';
import { type HostileS3, startHostileS3 } from '../../support/hostile-s3.js';

// `kenv verify s3://…` against a bucket over HTTP whose listing breaks off or goes round (through the real SDK): every
// object is verified once, or the prefix gets a failure line; a short listing is never reported as all verified, and
// a listing that repeats itself never keeps verify going for ever. Verify streams: it asks for the next page only
// after verifying the objects of this one, and it checks keys sync would refuse too.
const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'verify-listing', key: randomBytes(32) });
const names = ['p/a.kenv', 'p/b.kenv', 'p/c.kenv', 'p/d.kenv', 'p/e.kenv'];
let dir: string;
let s3: HostileS3;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-verify-listing-'));
  writeFileSync(join(dir, 'plain'), randomBytes(2_000));
  await encryptFile(join(dir, 'plain'), { keyring, outputPath: join(dir, 'good.kenv') });
  const good = readFileSync(join(dir, 'good.kenv'));
  s3 = await startHostileS3(Object.fromEntries([...names, 'p/.kenv-sync/odd.kenv', 'p/odd\\name.kenv'].map((k) => [k, good])));
});
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  s3.lists.length = 0;
  s3.log.length = 0;
  s3.list = (r, asS3) => asS3({ ...r, maxKeys: 2 });
});

const verify = () => verifyTargets(['s3://b/p/'], { keyring, s3: async () => s3.client() });
const outcome = (results: VerifyResult[]) => results.map((r) => [r.target, r.ok ? 'ok' : r.error.code]);
const all = ['p/.kenv-sync/odd.kenv', ...names, 'p/odd\\name.kenv'].map((k) => [`s3://b/${k}`, 'ok']);

describe('verify of an S3 prefix, page by page', () => {
  it('verifies every object once, keys sync would refuse included, each page only after the one before', async () => {
    expect(outcome(await verify())).toEqual(all);
    expect(s3.log.slice(0, 4)).toEqual(['LIST', 'GET p/.kenv-sync/odd.kenv', 'GET p/a.kenv', 'LIST']);
    expect(s3.lists).toHaveLength(4);
  });

  it('a truncated page without a token: goes on after its last key instead of reporting the first page as all', async () => {
    s3.list = (r, asS3) => ({ ...asS3({ ...r, maxKeys: 2 }), token: undefined });
    expect(outcome(await verify())).toEqual(all);
    expect(s3.lists.map((r) => r.startAfter)).toEqual([undefined, 'p/a.kenv', 'p/c.kenv', 'p/e.kenv']);
  });

  it('a token that repeats: what was listed is verified, then the prefix fails with S3_ERROR instead of listing for ever', async () => {
    // A server whose every page is its first, each with the same token.
    s3.list = (r, asS3) => ({ ...asS3({ ...r, token: undefined, startAfter: undefined, maxKeys: 2 }), token: 'same' });
    const results = await verify();
    expect(outcome(results)).toEqual([...all.slice(0, 2), ['s3://b/p/', 'S3_ERROR']]);
    const failed = results.at(-1) as Extract<VerifyResult, { ok: false }>;
    expect(failed.error.message).toMatch(/^S3 said the listing of s3:\/\/b\/p\/ goes on but gave no way to go on; nothing was changed\. Keys after p\/a\.kenv were not listed\./);
    expect(s3.lists.length).toBeLessThanOrEqual(3);
  });
});
