import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decryptFile, encryptFile, inspectFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { isPartialName } from '../../../electron/core/partials.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { runRewrapCommand } from '../../../electron/core/rewrap/command.js';
import { rewrapFile } from '../../../electron/core/rewrap/rewrap.js';
import { captureIo } from '../../support/aws-env.js';
import { kmsClient, LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let client: KMSClient;
let work: string;
const arns: Record<string, string> = {};
const clients = () => client;
const keyring = (...keyIds: string[]) => new KmsKeyring({ keyIds, clients });
const discovery = () => new KmsKeyring({ clients });

beforeAll(async () => {
  kms = await fixture.start();
  client = kmsClient(kms);
  work = fixture.tempDir();
  for (const name of ['old', 'new', 'third']) {
    const meta = (await client.send(new CreateKeyCommand({ Description: name }))).KeyMetadata!;
    await client.send(new CreateAliasCommand({ AliasName: `alias/${name}`, TargetKeyId: meta.KeyId! }));
    arns[name] = meta.Arn!;
  }
});
afterAll(async () => {
  client.destroy();
  await fixture.closeAll();
});

let n = 0;
async function encrypted(content: string | Buffer, opts: { sign?: boolean; frameLength?: number } = {}): Promise<string> {
  const input = join(work, `plain-${++n}.bin`);
  writeFileSync(input, content);
  return (await encryptFile(input, { keyring: keyring('alias/old'), context: { project: 'kenv' }, ...opts })).outputPath;
}

async function decrypts(path: string, k: KmsKeyring): Promise<Buffer> {
  const out = join(work, `out-${++n}.bin`);
  await decryptFile(path, { keyring: k, outputPath: out });
  return readFileSync(out);
}

const saved: Record<string, string | undefined> = {};
/**
 * What the CLI has: credentials and STS (the local KMS answers it, account 111122223333), which the trusted-accounts
 * filter asks for the identity's own account. Undone after each test.
 */
function cliEnvironment(): void {
  const vars = { AWS_ENDPOINT_URL_STS: kms.url, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k];
    process.env[k] = v;
  }
}
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    delete saved[k];
  }
});

describe('rewrapFile', () => {
  it('moves a file to the new key: the body is unchanged, it decrypts with the new key and not with the old', async () => {
    const content = Buffer.alloc(3 * 1000 + 17, 7);
    const path = await encrypted(content, { frameLength: 1000 });
    const before = readFileSync(path);
    const infoBefore = await inspectFile(path);
    const result = await rewrapFile(path, { from: discovery(), to: keyring('alias/new') });
    expect(result).toMatchObject({ signed: false, dataKeysBefore: 1, dataKeysAfter: 1 });
    const after = readFileSync(path);
    const info = await inspectFile(path);
    expect(info.messageId).toBe(infoBefore.messageId);
    expect(info.encryptionContext).toEqual({ project: 'kenv' });
    expect(info.encryptedDataKeys.map((e) => e.keyArn)).toEqual([arns.new]);
    expect(after.subarray(info.headerLength).equals(before.subarray(infoBefore.headerLength))).toBe(true);
    expect((await decrypts(path, keyring(arns.new!))).equals(content)).toBe(true);
    await expect(decrypts(path, keyring(arns.old!))).rejects.toMatchObject({ code: 'NO_KEY_OPENED' });
  });

  it('--keep-old keeps the old data key beside the new one', async () => {
    const path = await encrypted('both keys');
    await rewrapFile(path, { from: discovery(), to: keyring('alias/new'), keepOld: true });
    expect((await inspectFile(path)).encryptedDataKeys.map((e) => e.keyArn)).toEqual([arns.old, arns.new]);
    expect((await decrypts(path, keyring(arns.old!))).toString()).toBe('both keys');
    expect((await decrypts(path, keyring(arns.new!))).toString()).toBe('both keys');
  });

  it('re-signs a signed message with a new signing key', async () => {
    const path = await encrypted(Buffer.alloc(5000, 3), { sign: true, frameLength: 1024 });
    const oldPublic = (await inspectFile(path)).encryptionContext['aws-crypto-public-key'];
    const result = await rewrapFile(path, { from: discovery(), to: keyring('alias/new', 'alias/third') });
    expect(result).toMatchObject({ signed: true, dataKeysAfter: 2 });
    const info = await inspectFile(path);
    expect(info.encryptionContext['aws-crypto-public-key']).not.toBe(oldPublic);
    expect((await decrypts(path, keyring(arns.third!))).equals(Buffer.alloc(5000, 3))).toBe(true);
  });

  it('refuses --keep-old for a signed message, leaving it untouched', async () => {
    const path = await encrypted('signed', { sign: true });
    const before = readFileSync(path);
    await expect(rewrapFile(path, { from: discovery(), to: keyring('alias/new'), keepOld: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('a signed file whose body was altered is refused, the original untouched', async () => {
    const path = await encrypted(Buffer.alloc(3000, 1), { sign: true, frameLength: 1000 });
    const bytes = readFileSync(path);
    const { headerLength } = await inspectFile(path);
    bytes[headerLength + 40]! ^= 1;
    writeFileSync(path, bytes);
    await expect(rewrapFile(path, { from: discovery(), to: keyring('alias/new') })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('an unsigned file with an altered frame fails the check before replacing, the original untouched', async () => {
    const path = await encrypted(Buffer.alloc(3000, 1), { frameLength: 1000 });
    const bytes = readFileSync(path);
    const { headerLength } = await inspectFile(path);
    bytes[headerLength + 40]! ^= 1;
    writeFileSync(path, bytes);
    await expect(rewrapFile(path, { from: discovery(), to: keyring('alias/new') })).rejects.toMatchObject({ code: 'OUTPUT_FAILED', message: expect.stringContaining('FRAME_TAMPERED') });
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(readdirSync(work).filter((f) => isPartialName(f) || f.endsWith('.kenv-partial'))).toEqual([]);
  });

  it('Decrypt denied on the old key is KMS_ACCESS_DENIED in the no-key-opened error, nothing changed', async () => {
    const path = await encrypted('denied');
    const before = readFileSync(path);
    kms.deny({ operation: 'Decrypt', key: 'alias/old' });
    try {
      await expect(rewrapFile(path, { from: discovery(), to: keyring('alias/new') })).rejects.toMatchObject({ message: expect.stringContaining('kms:Decrypt') });
    } finally {
      kms.allow();
    }
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('kenv rewrap', () => {
  it('rewraps every file and reports each; exit 1 when one fails', async () => {
    cliEnvironment();
    const good = await encrypted('one');
    const { out, err, io } = captureIo();
    expect(await runRewrapCommand({ files: [good, join(work, 'missing.kenv')], toKey: ['alias/new'], clients }, io)).toBe(1);
    expect(out).toEqual([]);
    expect(err[0]).toBe(`${good}: rewrapped to alias/new.`);
    expect(err[1]).toMatch(/missing\.kenv: .*\[INPUT_NOT_FOUND\]$/);
    expect((await decrypts(good, keyring(arns.new!))).toString()).toBe('one');
  });
});

describe('kenv rewrap: whose keys it calls, and how many data keys a result may carry', () => {
  /** KMS operations answered, without STS (the identity's own account may be asked of STS). */
  const kmsCalls = () => Object.fromEntries(Object.entries(kms.counts()).filter(([op]) => !op.startsWith('sts:')));

  it("refuses a file naming another account's key with UNTRUSTED_KEY_ACCOUNT before any KMS call", async () => {
    cliEnvironment();
    const path = await encrypted('a stranger wrapped this');
    const bytes = readFileSync(path);
    const at = bytes.indexOf(':111122223333:key/');
    expect(at).toBeGreaterThan(0);
    bytes.write(':999988887777:key/', at, 'latin1');
    writeFileSync(path, bytes);
    const before = kmsCalls();
    const { err, io } = captureIo();
    expect(await runRewrapCommand({ files: [path], toKey: ['alias/new'], clients }, io)).toBe(1);
    expect(err.join('\n')).toMatch(/999988887777.*\[UNTRUSTED_KEY_ACCOUNT\]$/s);
    expect(kmsCalls()).toEqual(before);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('--keep-old on a file with 10 data keys is refused before any KMS call (the result would hold 11), and --max-data-keys 11 allows it', async () => {
    const input = join(work, `plain-${++n}.bin`);
    writeFileSync(input, 'ten keys');
    const ten = Array.from({ length: 10 }, () => 'alias/old');
    const path = (await encryptFile(input, { keyring: keyring(...ten), context: {} })).outputPath;
    expect((await inspectFile(path)).encryptedDataKeys).toHaveLength(10);
    const bytes = readFileSync(path);
    const before = kmsCalls();
    await expect(rewrapFile(path, { from: discovery(), to: keyring('alias/new'), keepOld: true, newDataKeys: 1 })).rejects.toMatchObject({
      code: 'TOO_MANY_DATA_KEYS', message: expect.stringContaining('would leave 11 encrypted data keys in it (10 now), more than the limit of 10'),
    });
    expect(kmsCalls()).toEqual(before);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    // The command counts the --to-key keys itself.
    cliEnvironment();
    const { err, io } = captureIo();
    expect(await runRewrapCommand({ files: [path], toKey: ['alias/new'], keepOld: true, clients }, io)).toBe(1);
    expect(err.join('\n')).toMatch(/--max-data-keys 11\. \[TOO_MANY_DATA_KEYS\]$/);
    expect(kmsCalls()).toEqual(before);
    // The limit the user gives applies to reading, to the result and to the check before replacing.
    const result = await rewrapFile(path, { from: discovery(), to: keyring('alias/new'), keepOld: true, newDataKeys: 1, maxEncryptedDataKeys: 11 });
    expect(result).toMatchObject({ dataKeysBefore: 10, dataKeysAfter: 11 });
    const out = join(work, `out-${++n}.bin`);
    await decryptFile(path, { keyring: keyring(arns.new!), outputPath: out, maxEncryptedDataKeys: 11 });
    expect(readFileSync(out, 'utf8')).toBe('ten keys');
  });

  it('without --keep-old a file with 10 data keys moves to one', async () => {
    const input = join(work, `plain-${++n}.bin`);
    writeFileSync(input, 'ten to one');
    const path = (await encryptFile(input, { keyring: keyring(...Array.from({ length: 10 }, () => 'alias/old')), context: {} })).outputPath;
    expect(await rewrapFile(path, { from: discovery(), to: keyring('alias/new'), newDataKeys: 1 })).toMatchObject({ dataKeysBefore: 10, dataKeysAfter: 1 });
  });
});
