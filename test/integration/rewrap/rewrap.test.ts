import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptFile, encryptFile, inspectFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { isPartialName } from '../../../electron/core/partials.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { runRewrapCommand } from '../../../electron/core/rewrap/command.js';
import { rewrapFile } from '../../../electron/core/rewrap/rewrap.js';
import { captureIo } from '../../support/aws-env.js';
import { kmsClient, LocalKmsFixture } from '../../support/local-kms.js';

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
    const good = await encrypted('one');
    const { out, err, io } = captureIo();
    expect(await runRewrapCommand({ files: [good, join(work, 'missing.kenv')], toKey: ['alias/new'], clients }, io)).toBe(1);
    expect(out).toEqual([]);
    expect(err[0]).toBe(`${good}: rewrapped to alias/new.`);
    expect(err[1]).toMatch(/missing\.kenv: .*\[INPUT_NOT_FOUND\]$/);
    expect((await decrypts(good, keyring(arns.new!))).toString()).toBe('one');
  });
});
