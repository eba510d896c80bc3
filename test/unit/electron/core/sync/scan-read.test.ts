// The scan reads a new file once: the header check and the SHA-256 come from the same bytes (issue 11, goal 5).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BLOCKING_READ_MAX, readSmallFile, scanVault } from '../../../../../electron/core/sync/scan.js';
import { kenvMessage } from '../../../../support/kenv-fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-scan-read-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

it('without a check of its own, keeps the .kenv files whose header parses, with the SHA-256 of their bytes, small and large', async () => {
  const small = await kenvMessage('a small message');
  // Larger than what is read in one blocking call, and than one read chunk: read in pieces, hashed whole.
  const large = Buffer.concat([small, randomBytes(BLOCKING_READ_MAX * 2 + 12345)]);
  await writeFile(join(dir, 'small.kenv'), small);
  await writeFile(join(dir, 'large.kenv'), large);
  const scan = await scanVault(dir, {}, undefined);
  expect(scan.files.get('small.kenv')).toMatchObject({ size: small.length, sha256: sha(small) });
  expect(scan.files.get('large.kenv')).toMatchObject({ size: large.length, sha256: sha(large) });
  expect(scan.skipped).toEqual([]);
});

it('without a check of its own, skips as invalid what is not a message: garbage, an empty file, a cut header, small or large', async () => {
  const message = await kenvMessage('x');
  await writeFile(join(dir, 'garbage.kenv'), randomBytes(5000).fill(7, 0, 1));
  await writeFile(join(dir, 'empty.kenv'), '');
  await writeFile(join(dir, 'cut.kenv'), message.subarray(0, 40));
  await writeFile(join(dir, 'large-garbage.kenv'), Buffer.alloc(BLOCKING_READ_MAX * 2, 0x41));
  const scan = await scanVault(dir, {}, undefined);
  expect(scan.files.size).toBe(0);
  expect(scan.skipped).toEqual(['cut.kenv', 'empty.kenv', 'garbage.kenv', 'large-garbage.kenv'].map((path) => ({ path, reason: 'invalid-kenv' })));
});

it('a check of its own decides instead of the header', async () => {
  await writeFile(join(dir, 'a.kenv'), 'not a message at all');
  const checked: string[] = [];
  const scan = await scanVault(dir, {}, async (abs) => {
    checked.push(abs);
    return true;
  });
  expect(checked).toEqual([join(dir, 'a.kenv')]);
  expect(scan.files.get('a.kenv')?.sha256).toBe(sha(Buffer.from('not a message at all')));
});

it('reading a FIFO put where a file was returns at once as not a file, instead of waiting for a writer', () => {
  const fifo = join(dir, 'pipe.kenv');
  execFileSync('mkfifo', [fifo]);
  expect(readSmallFile(fifo)).toMatchObject({ isFile: false });
});
