import {
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptFile, inspectFile } from '../../../../../electron/core/files.js';
import { parseHeader } from '../../../../../electron/core/format/header.js';
import { MultiKeyring } from '../../../../../electron/core/keyring/multi-keyring.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring, UnwrapRequest } from '../../../../../electron/core/keyring/types.js';
import { forgeUnsignedMessage } from '../../../../support/forge.js';
import { decryptBuffer, encryptBuffer } from '../../../../support/streams.js';

// The ESDK's format rules that a decryptor must apply beyond parsing: the reserved aws-crypto-public-key context
// key (default CMM, Decrypt Materials) and the maximum number of encrypted data keys (client, Parse the header).
const wrappingKey = randomBytes(32);
const keyring = new RawAesKeyring({ namespace: 'kenv-rules', name: 'k1', key: wrappingKey });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kenv-rules-'));
  dirs.push(dir);
  return dir;
}

/** Counts keyring calls: a refused header must make none. */
function counting(inner: Keyring): Keyring & { calls: number } {
  const k = {
    calls: 0,
    wrapDataKey: (req: Parameters<Keyring['wrapDataKey']>[0]) => inner.wrapDataKey(req),
    unwrapDataKey: (req: UnwrapRequest) => {
      k.calls++;
      return inner.unwrapDataKey(req);
    },
  };
  return k;
}

describe('a stripped signature', () => {
  it('an unsigned message whose context holds aws-crypto-public-key fails with SIGNATURE_STRIPPED, before any keyring call', async () => {
    const context = { team: 'payments' };
    const signed = await encryptBuffer(Buffer.from('the real content'), { keyring, context, sign: true, frameLength: 64 });
    const header = parseHeader(signed);
    expect(header.encryptionContext['aws-crypto-public-key']).toBeTruthy();
    // What someone allowed only to decrypt the data key can do: reuse it, the context and the data keys.
    const dataKey = await keyring.unwrapDataKey({ suiteId: header.suite.id, context: header.encryptionContext, edks: header.encryptedDataKeys });
    const forged = await forgeUnsignedMessage({ dataKey, context: header.encryptionContext, edks: header.encryptedDataKeys, plaintext: Buffer.from('forged content') });
    expect(forged.readUInt16BE(1)).toBe(0x0478);

    const k = counting(keyring);
    await expect(decryptBuffer(forged, { keyring: k })).rejects.toMatchObject({ code: 'SIGNATURE_STRIPPED', message: expect.stringContaining('aws-crypto-public-key') });
    expect(k.calls).toBe(0);

    const dir = tempDir();
    writeFileSync(join(dir, 'forged.kenv'), forged);
    await expect(decryptFile(join(dir, 'forged.kenv'), { keyring: k })).rejects.toMatchObject({ code: 'SIGNATURE_STRIPPED' });
    expect(k.calls).toBe(0);
    expect(readdirSync(dir)).toEqual(['forged.kenv']);

    // The official SDK refuses exactly these bytes, and opens the signed original.
    const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const theirs = new RawAesKeyringNode({
      keyNamespace: 'kenv-rules',
      keyName: 'k1',
      unencryptedMasterKey: new Uint8Array(wrappingKey),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });
    expect(Buffer.from((await decrypt(theirs, signed)).plaintext).toString()).toBe('the real content');
    await expect(decrypt(theirs, forged)).rejects.toThrow();
  });

  it('the same forgery without the public key is an ordinary unsigned message (the rule is what refuses the stripped one)', async () => {
    const context = { team: 'payments' };
    const signed = await encryptBuffer(Buffer.from('x'), { keyring, context, sign: true });
    const header = parseHeader(signed);
    const dataKey = await keyring.unwrapDataKey({ suiteId: header.suite.id, context: header.encryptionContext, edks: header.encryptedDataKeys });
    // Without the key in the context the data keys no longer open (the raw AES AAD is the context): a fresh key is
    // needed, which is what an attacker cannot get without kms:Encrypt or GenerateDataKey.
    const fresh = await keyring.wrapDataKey({ suiteId: 0x0478, context, dataKey });
    const forged = await forgeUnsignedMessage({ dataKey, context, edks: fresh.edks, plaintext: Buffer.from('plain') });
    expect((await decryptBuffer(forged, { keyring })).toString()).toBe('plain');
  });

  it('a signed message whose context lacks aws-crypto-public-key fails with MALFORMED_HEADER', async () => {
    const message = await encryptBuffer(Buffer.from('x'), { keyring, context: { team: 'a' }, frameLength: 64 });
    const resigned = Buffer.from(message);
    resigned.writeUInt16BE(0x0578, 1);
    const k = counting(keyring);
    await expect(decryptBuffer(resigned, { keyring: k })).rejects.toMatchObject({ code: 'MALFORMED_HEADER', message: expect.stringContaining('aws-crypto-public-key') });
    expect(k.calls).toBe(0);
  });

  it('a signed message whose public key is not a P-384 point fails with MALFORMED_HEADER before any keyring call', async () => {
    const context = { team: 'payments' };
    const signed = await encryptBuffer(Buffer.from('x'), { keyring, context, sign: true });
    const header = parseHeader(signed);
    const dataKey = await keyring.unwrapDataKey({ suiteId: header.suite.id, context: header.encryptionContext, edks: header.encryptedDataKeys });
    const bad = { ...context, 'aws-crypto-public-key': 'bm90IGEga2V5' };
    const { edks } = await keyring.wrapDataKey({ suiteId: 0x0578, context: bad, dataKey });
    const forged = await forgeUnsignedMessage({ dataKey, context: bad, edks, plaintext: Buffer.from('x') });
    forged.writeUInt16BE(0x0578, 1);
    const k = counting(keyring);
    await expect(decryptBuffer(forged, { keyring: k })).rejects.toMatchObject({ code: 'MALFORMED_HEADER' });
    expect(k.calls).toBe(0);
  });
});

describe('the maximum number of encrypted data keys', () => {
  const keys = Array.from({ length: 11 }, (_, i) => new RawAesKeyring({ namespace: 'kenv-rules', name: `k${i}`, key: randomBytes(32) }));
  const many = (n: number) => new MultiKeyring(keys.slice(0, n));

  it('a message with 11 data keys fails with TOO_MANY_DATA_KEYS naming the count, the limit and the flag, before any keyring call', async () => {
    const message = await encryptBuffer(Buffer.from('x'), { keyring: many(11), maxEncryptedDataKeys: 11 });
    const k = counting(many(11));
    const refusal = decryptBuffer(message, { keyring: k });
    await expect(refusal).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    await expect(refusal).rejects.toThrow(/11 encrypted data keys.*limit of 10.*--max-data-keys 11/);
    expect(k.calls).toBe(0);

    const dir = tempDir();
    writeFileSync(join(dir, 'm.kenv'), message);
    await expect(decryptFile(join(dir, 'm.kenv'), { keyring: k })).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(k.calls).toBe(0);
    expect(existsSync(join(dir, 'm'))).toBe(false);
    // inspect calls no keyring: it shows the header whatever its size.
    expect((await inspectFile(join(dir, 'm.kenv'))).encryptedDataKeys).toHaveLength(11);
  });

  it('exactly the limit decrypts, and a raised limit opens more', async () => {
    const ten = await encryptBuffer(Buffer.from('ten'), { keyring: many(10) });
    expect((await decryptBuffer(ten, { keyring: many(10) })).toString()).toBe('ten');
    const eleven = await encryptBuffer(Buffer.from('eleven'), { keyring: many(11), maxEncryptedDataKeys: 11 });
    expect((await decryptBuffer(eleven, { keyring: many(11), maxEncryptedDataKeys: 11 })).toString()).toBe('eleven');
    const dir = tempDir();
    writeFileSync(join(dir, 'm.kenv'), eleven);
    const done = await decryptFile(join(dir, 'm.kenv'), { keyring: many(11), maxEncryptedDataKeys: 11 });
    expect(done.bytesOut).toBe(6);
  });

  it('encryption refuses to write more data keys than the limit', async () => {
    await expect(encryptBuffer(Buffer.from('x'), { keyring: many(11) })).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
  });
});
