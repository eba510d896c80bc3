import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptFile, encryptFile } from '../../../electron/core/files.js';
import { tryParseHeader } from '../../../electron/core/format/header.js';
import { RawAesKeyring } from '../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring } from '../../../electron/core/keyring/types.js';
import { rewrapFile } from '../../../electron/core/rewrap/rewrap.js';

// rewrapFile (what `kenv rewrap` calls for each file) on files it must refuse: missing, a folder, empty, cut short in
// the header, the body or the signature, an altered commitment or header tag, a new keyring that adds more data keys
// than announced or cannot open its own result. The original is byte for byte what it was, and no temporary file is
// left beside it. Raw AES keyrings stand in for KMS keys: rewrapFile takes any keyring.
const oldKey = new RawAesKeyring({ namespace: 'kenv-test', name: 'old', key: randomBytes(32) });
const newKey = new RawAesKeyring({ namespace: 'kenv-test', name: 'new', key: randomBytes(32) });
let dir: string;
let plainPath: string;
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-rewrap-refusals-'));
  plainPath = join(dir, 'plain.bin');
  writeFileSync(plainPath, randomBytes(3000));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh folder holding one .kenv of the plaintext under the old key. */
async function sealed(opts: { sign?: boolean; context?: Record<string, string> } = {}): Promise<{ folder: string; path: string; bytes: Buffer }> {
  const folder = join(dir, `case-${++seq}`);
  mkdirSync(folder);
  const path = join(folder, 'file.kenv');
  await encryptFile(plainPath, { keyring: oldKey, outputPath: path, frameLength: 1024, ...opts });
  return { folder, path, bytes: readFileSync(path) };
}

function headerLength(bytes: Buffer): number {
  return tryParseHeader(bytes)!.bytes.length;
}

/** rewrapFile(path) is refused with `code`; the file is unchanged and nothing else is in its folder. */
async function refused(folder: string, path: string, code: string, sentence: RegExp, opts: Partial<Parameters<typeof rewrapFile>[1]> = {}): Promise<void> {
  const names = readdirSync(folder).sort();
  const read = (n: string): Buffer => (statSync(join(folder, n)).isFile() ? readFileSync(join(folder, n)) : Buffer.from('(folder)'));
  const before = readdirSync(folder).map(read);
  const e = await rewrapFile(path, { from: oldKey, to: newKey, newDataKeys: 1, ...opts }).then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
  expect(e, 'the rewrap was not refused').toBeDefined();
  expect(e?.code).toBe(code);
  expect(e?.message).toMatch(sentence);
  expect(readdirSync(folder).sort()).toEqual(names);
  readdirSync(folder).forEach((n, i) => expect(read(n).equals(before[i]!), `${n} changed`).toBe(true));
}

describe('rewrapFile refuses', () => {
  it('a missing file (INPUT_NOT_FOUND) and a path through a file (INPUT_UNREADABLE)', async () => {
    const { folder, path } = await sealed();
    await refused(folder, join(folder, 'gone.kenv'), 'INPUT_NOT_FOUND', /^Cannot read .*gone\.kenv: /);
    await refused(folder, join(path, 'x.kenv'), 'INPUT_UNREADABLE', /^Cannot read .*file\.kenv\/x\.kenv: /);
  });

  it('a folder as INPUT_UNREADABLE, naming it (it was an INTERNAL "unexpected error")', async () => {
    const { folder } = await sealed();
    const sub = join(folder, 'sub.kenv');
    mkdirSync(sub);
    await refused(folder, sub, 'INPUT_UNREADABLE', new RegExp(`^${sub} is a folder; give the files inside it\\.$`));
  });

  it('an empty file as NOT_KENV and a file cut inside its header as TRUNCATED_HEADER', async () => {
    const { folder, path, bytes } = await sealed();
    writeFileSync(path, '');
    await refused(folder, path, 'NOT_KENV', /ends inside its header, so it cannot be rewrapped\./);
    writeFileSync(path, bytes.subarray(0, headerLength(bytes) - 1));
    await refused(folder, path, 'TRUNCATED_HEADER', /ends inside its header, so it cannot be rewrapped\./);
  });

  it('an altered key commitment as COMMITMENT_MISMATCH, before the new key is asked', async () => {
    const { folder, path, bytes } = await sealed();
    const altered = Buffer.from(bytes);
    altered[headerLength(bytes) - 16 - 1]! ^= 1; // the last byte of the 32-byte commitment, just before the header tag
    writeFileSync(path, altered);
    let wrapped = 0;
    const counting: Keyring = { wrapDataKey: (r) => (wrapped++, newKey.wrapDataKey(r)), unwrapDataKey: (r) => newKey.unwrapDataKey(r) };
    await refused(folder, path, 'COMMITMENT_MISMATCH', /does not match its key commitment: the file was altered\. Nothing was changed\./, { to: counting });
    expect(wrapped).toBe(0);
  });

  it('an altered header tag as HEADER_TAMPERED', async () => {
    const { folder, path, bytes } = await sealed();
    const altered = Buffer.from(bytes);
    altered[headerLength(bytes) - 1]! ^= 1;
    writeFileSync(path, altered);
    await refused(folder, path, 'HEADER_TAMPERED', /The header of .* failed authentication.*Nothing was changed\./);
  });

  it('a new keyring that adds more data keys than announced, over the limit, as TOO_MANY_DATA_KEYS', async () => {
    const { folder, path } = await sealed();
    await refused(folder, path, 'TOO_MANY_DATA_KEYS', /would leave 2 encrypted data keys in it \(1 now\), more than the limit of 1/, { keepOld: true, newDataKeys: 0, maxEncryptedDataKeys: 1 });
  });

  it('a result the new keyring cannot open: OUTPUT_FAILED, the original kept, no temporary file left', async () => {
    const { folder, path } = await sealed();
    const cannotOpen: Keyring = { wrapDataKey: (r) => newKey.wrapDataKey(r), unwrapDataKey: (r) => oldKey.unwrapDataKey(r) };
    await refused(folder, path, 'OUTPUT_FAILED', /^The rewrapped copy of .* did not decrypt with the new key \([A-Z_]+: .*\); the original was kept\.$/, { to: cannotOpen });
  });
});

describe('rewrapFile on signed files', () => {
  it('cut inside the last frame, or before it: TRUNCATED_BODY', async () => {
    const { folder, path, bytes } = await sealed({ sign: true });
    writeFileSync(path, bytes.subarray(0, headerLength(bytes) + 2));
    await refused(folder, path, 'TRUNCATED_BODY', /ends before its final frame\./);
    // The final frame starts after two full frames of 1024 bytes (4 + 12 + 1024 + 16 each): cut inside its IV.
    writeFileSync(path, bytes.subarray(0, headerLength(bytes) + 2 * (4 + 12 + 1024 + 16) + 10));
    await refused(folder, path, 'TRUNCATED_BODY', /ends inside its final frame\./);
  });

  it('a signature cut short or followed by other bytes: TRUNCATED_FOOTER', async () => {
    const { folder, path, bytes } = await sealed({ sign: true });
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    await refused(folder, path, 'TRUNCATED_FOOTER', /The signature footer of .* is cut short or followed by other bytes\. Nothing was changed\./);
    writeFileSync(path, Buffer.concat([bytes, Buffer.from([0])]));
    await refused(folder, path, 'TRUNCATED_FOOTER', /cut short or followed by other bytes/);
  });
});

describe('rewrapFile, what it keeps', () => {
  it('a header over 64 KiB (the largest encryption context) is read whole, and the file mode is kept', async () => {
    // 2 + 2 + 5 + 2 + 65,524 = 65,535 bytes of context: with the rest of the header it passes the first 64 KiB read.
    const { path, bytes } = await sealed({ context: { notes: 'n'.repeat(65_524) } });
    expect(headerLength(bytes)).toBeGreaterThan(64 * 1024);
    chmodSync(path, 0o640);
    const r = await rewrapFile(path, { from: oldKey, to: newKey, newDataKeys: 1 });
    expect(r).toMatchObject({ signed: false, dataKeysBefore: 1, dataKeysAfter: 1 });
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const out = join(dir, `opened-${++seq}.bin`);
    await decryptFile(path, { keyring: newKey, outputPath: out });
    expect(readFileSync(out).equals(readFileSync(plainPath))).toBe(true);
  });
});
