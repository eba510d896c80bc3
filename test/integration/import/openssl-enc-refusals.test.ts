import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPENSSL_DEFAULT_ITERATIONS, importOpensslEnc, importedName, type ImportOptions } from '../../../electron/core/import/openssl-enc.js';
import type { KmsClientFactory } from '../../../electron/core/kms/client.js';
import { kmsClient, newAliasedKey, useLocalKms } from '../../support/local-kms.js';

// importOpensslEnc (what `kenv import --openssl-enc` calls) on input it must refuse: a missing or unreadable file or
// data key, a data key that is no CiphertextBlob or not an AES-256 key, a KMS that answers half, a check that fails
// after the write, a trash that refuses. Each refusal names what happened, writes nothing (or says what it left) and
// keeps the original.
const local = useLocalKms();
let dir: string;
let clients: KmsClientFactory;
let keyArn: string;
let seq = 0;

beforeAll(async () => {
  dir = local.fixture.tempDir();
  clients = () => kmsClient(local.kms);
  keyArn = (await newAliasedKey(local.client)).arn;
});

/** A fresh folder holding an OpenSSL salted file (as `openssl enc -aes-256-cbc -pbkdf2 -salt` writes it) and its wrapped data key. */
async function recipe(plaintext = Buffer.from('the ledger'), key = randomBytes(32), salt = randomBytes(8), iterations = OPENSSL_DEFAULT_ITERATIONS): Promise<{ folder: string; enc: string; dataKey: string }> {
  const folder = join(dir, `case-${++seq}`);
  mkdirSync(folder);
  const derived = pbkdf2Sync(Buffer.from(key.toString('base64'), 'latin1'), salt, iterations, 48, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', derived.subarray(0, 32), derived.subarray(32));
  const enc = join(folder, 'ledger.csv.enc');
  writeFileSync(enc, Buffer.concat([Buffer.from('Salted__'), salt, cipher.update(plaintext), cipher.final()]));
  const wrapped = await local.client.send(new EncryptCommand({ KeyId: keyArn, Plaintext: key }));
  const dataKey = join(folder, 'ledger.key.bin');
  writeFileSync(dataKey, wrapped.CiphertextBlob!);
  return { folder, enc, dataKey };
}

function options(dataKeyPath: string, more: Partial<ImportOptions> = {}): ImportOptions & { trashed: string[] } {
  const trashed: string[] = [];
  return { dataKeyPath, clients, trash: async (p) => void trashed.push(p), trashed, ...more };
}

/** The import is refused with `code` and a sentence matching `sentence`; the folder holds exactly what it held before. */
async function refused(run: () => Promise<unknown>, folder: string, code: string, sentence: RegExp): Promise<void> {
  const before = readdirSync(folder).sort();
  const e = await run().then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
  expect(e, 'the import was not refused').toBeDefined();
  expect(e?.code).toBe(code);
  expect(e?.message).toMatch(sentence);
  expect(readdirSync(folder).sort()).toEqual(before);
}

describe('importOpensslEnc refuses', () => {
  it('an iteration count that is not a whole number of at least 1, before reading anything', async () => {
    const { folder, enc, dataKey } = await recipe();
    for (const iterations of [0, -5, 1.5]) {
      await refused(() => importOpensslEnc(enc, options(dataKey, { iterations })), folder, 'INVALID_ARGUMENT', new RegExp(`--iter must be a whole number of at least 1; got ${iterations}\\.`));
    }
  });

  it('a missing file, a folder, and a path through a file, naming the path', async () => {
    const { folder, dataKey } = await recipe();
    const missing = join(folder, 'gone.enc');
    await refused(() => importOpensslEnc(missing, options(dataKey)), folder, 'INPUT_NOT_FOUND', new RegExp(`${missing} does not exist\\. Check the name`));
    const sub = join(folder, 'sub.enc');
    mkdirSync(sub);
    await refused(() => importOpensslEnc(sub, options(dataKey)), folder, 'INPUT_UNREADABLE', new RegExp(`${sub} is not a regular file\\.`));
    const through = join(dataKey, 'x.enc');
    await refused(() => importOpensslEnc(through, options(dataKey)), folder, 'INPUT_UNREADABLE', new RegExp(`Cannot read ${through}: `));
  });

  it('a file shorter than the salted header, even one that starts with "Salted__"', async () => {
    const { folder, dataKey } = await recipe();
    const short = join(folder, 'short.enc');
    writeFileSync(short, 'Salted__1234567');
    await refused(() => importOpensslEnc(short, options(dataKey)), folder, 'INVALID_ARGUMENT', /is not in OpenSSL's salted format/);
  });

  it('an existing .kenv without force, before asking KMS anything', async () => {
    const { folder, enc, dataKey } = await recipe();
    writeFileSync(join(folder, 'ledger.csv.kenv'), 'mine');
    let asked = 0;
    const counting: KmsClientFactory = (region) => (asked++, clients(region));
    await refused(() => importOpensslEnc(enc, options(dataKey, { clients: counting })), folder, 'OUTPUT_EXISTS', /ledger\.csv\.kenv/);
    expect(asked).toBe(0);
    expect(readFileSync(join(folder, 'ledger.csv.kenv'), 'utf8')).toBe('mine');
  });

  it('a data key file that is missing, or a folder', async () => {
    const { folder, enc } = await recipe();
    const missing = join(folder, 'no.key');
    await refused(() => importOpensslEnc(enc, options(missing)), folder, 'INPUT_NOT_FOUND', new RegExp(`The encrypted data key file ${missing} does not exist\\.`));
    const sub = join(folder, 'keydir');
    mkdirSync(sub);
    await refused(() => importOpensslEnc(enc, options(sub)), folder, 'INPUT_UNREADABLE', new RegExp(`Cannot read the encrypted data key file ${sub}: `));
  });

  it('a data key file that cannot be a CiphertextBlob: empty, or over 6144 bytes', async () => {
    const { folder, enc } = await recipe();
    const empty = join(folder, 'empty.key');
    writeFileSync(empty, '');
    await refused(() => importOpensslEnc(enc, options(empty)), folder, 'INVALID_ARGUMENT', /does not hold a KMS CiphertextBlob \(binary or base64\)/);
    const big = join(folder, 'big.key');
    writeFileSync(big, randomBytes(6145));
    await refused(() => importOpensslEnc(enc, options(big)), folder, 'INVALID_ARGUMENT', /does not hold a KMS CiphertextBlob/);
  });

  it('a data key that is not 32 bytes (not made with --key-spec AES_256)', async () => {
    const { folder, enc } = await recipe();
    const wrapped = await local.client.send(new EncryptCommand({ KeyId: keyArn, Plaintext: randomBytes(16) }));
    const small = join(folder, 'aes128.key');
    writeFileSync(small, wrapped.CiphertextBlob!);
    await refused(() => importOpensslEnc(enc, options(small)), folder, 'INVALID_ARGUMENT', /is 16 bytes, not 32: it was not made with --key-spec AES_256\./);
  });

  it('a file made with another iteration count, as IMPORT_DECRYPT_FAILED, with no partial output left', async () => {
    // Key, salt and plaintext are fixed: 1 in 256 wrong keys still ends in valid padding, and this one does not.
    const { folder, enc, dataKey } = await recipe(Buffer.from('x'.repeat(100)), Buffer.alloc(32, 7), Buffer.from('0102030405060708', 'hex'), 20_000);
    await refused(() => importOpensslEnc(enc, options(dataKey)), folder, 'IMPORT_DECRYPT_FAILED', /its padding is wrong\. Either the data key or the iteration count \(10000; see --iter\).*Nothing was written\./);
  });

  it('a data key KMS will not decrypt (base64 or binary), as KMS_ACCESS_DENIED', async () => {
    const { folder, enc, dataKey } = await recipe();
    const text = join(folder, 'ledger.key.b64');
    writeFileSync(text, `${readFileSync(dataKey).toString('base64')}\n`);
    local.kms.deny({ operation: 'Decrypt', key: keyArn });
    try {
      await refused(() => importOpensslEnc(enc, options(text)), folder, 'KMS_ACCESS_DENIED', /Decrypt/);
    } finally {
      local.kms.allow();
    }
  });

  it('a KMS answer without the plaintext or the key id', async () => {
    for (const answer of [{ KeyId: keyArn }, { Plaintext: new Uint8Array(32) }]) {
      const { folder, enc, dataKey } = await recipe();
      const half = (() => ({ send: async () => answer }) as unknown as KMSClient) as KmsClientFactory;
      await refused(() => importOpensslEnc(enc, options(dataKey, { clients: half })), folder, 'KMS_ERROR', /returned an incomplete answer/);
    }
  });
});

describe('importOpensslEnc after the write', () => {
  it('keeps the original and says so when the new file cannot be checked (KMS refuses Decrypt of the new key)', async () => {
    const { folder, enc, dataKey } = await recipe();
    const other = await newAliasedKey(local.client);
    local.kms.deny({ operation: 'Decrypt', key: other.arn });
    const opts = options(dataKey, { keyIds: [other.arn], preflight: false, fileId: false });
    try {
      const e = await importOpensslEnc(enc, opts).then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
      expect(e?.code).toBe('IMPORT_UNVERIFIED');
      expect(e?.message).toContain(`did not verify`);
      expect(e?.message).toContain(`the original ${enc} was kept. Remove ${join(folder, 'ledger.csv.kenv')} and try again.`);
    } finally {
      local.kms.allow();
    }
    expect(opts.trashed).toEqual([]);
    expect(readFileSync(enc).subarray(0, 8).toString()).toBe('Salted__');
  });

  it('with preflight on, refuses before writing when this identity could not open the new file', async () => {
    const { folder, enc, dataKey } = await recipe();
    const other = await newAliasedKey(local.client);
    local.kms.deny({ operation: 'Decrypt', key: other.arn });
    try {
      await refused(() => importOpensslEnc(enc, options(dataKey, { keyIds: [other.arn] })), folder, 'KMS_ACCESS_DENIED', /^Preflight stopped the encryption: .*Nothing was written\./);
    } finally {
      local.kms.allow();
    }
  });

  it('writes and verifies but reports OUTPUT_FAILED, naming both files, when the trash refuses the original', async () => {
    const { folder, enc, dataKey } = await recipe(Buffer.from('kept'));
    const out = join(folder, 'elsewhere');
    const done = importOpensslEnc(enc, options(dataKey, { outDir: out, context: { team: 'ops' }, trash: () => Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })) }));
    const e = await done.then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
    expect(e?.code).toBe('OUTPUT_FAILED');
    expect(e?.message).toMatch(new RegExp(`${join(out, 'ledger.csv.kenv')} was written and verified, but ${enc} could not be moved to the trash \\(.*\\)\\. Delete it yourself\\.`));
    expect(readdirSync(out)).toEqual(['ledger.csv.kenv']);
  });

  it('names what a trash that rejects with a bare string said', async () => {
    const { enc, dataKey } = await recipe();
    const e = await importOpensslEnc(enc, options(dataKey, { trash: () => Promise.reject('the trash is full') })).then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
    expect(e?.code).toBe('OUTPUT_FAILED');
    expect(e?.message).toContain('could not be moved to the trash (the trash is full). Delete it yourself.');
  });

  it('writes to an explicit output path and keeps the given key ids', async () => {
    const { folder, enc, dataKey } = await recipe();
    const outputPath = join(folder, 'named.kenv');
    const opts = options(dataKey, { outputPath, keyIds: [keyArn] });
    const r = await importOpensslEnc(enc, opts);
    expect(r).toEqual({ outputPath, keyIds: [keyArn], bytes: 'the ledger'.length, trashed: true });
    expect(opts.trashed).toEqual([enc]);
  });
});

describe('importedName', () => {
  it('drops a known OpenSSL extension but never makes a name empty', () => {
    expect(importedName('/a/report.pdf.AES256')).toBe('report.pdf.kenv');
    expect(importedName('/a/notes.ssl')).toBe('notes.kenv');
    expect(importedName('/a/.enc')).toBe('.enc.kenv');
    expect(importedName('/a/data.bin')).toBe('data.bin.kenv');
  });
});
