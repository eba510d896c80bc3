import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RawAesKeyring } from '../../electron/core/keyring/raw-aes-keyring.js';
import { decryptBuffer, encryptBuffer } from '../support/streams.js';

// Cross-check with the official JavaScript AWS Encryption SDK in both directions.
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const wrappingKey = randomBytes(32);
const namespace = 'kenv-interop';
const name = 'aes-256-test';
const ours = new RawAesKeyring({ namespace, name, key: wrappingKey });
const theirs = new RawAesKeyringNode({
  keyNamespace: namespace,
  keyName: name,
  unencryptedMasterKey: new Uint8Array(wrappingKey),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});

const FRAME = 4096;
const sizes: [string, number][] = [
  ['0 bytes', 0],
  ['1 byte', 1],
  ['frame - 1', FRAME - 1],
  ['frame', FRAME],
  ['frame + 1', FRAME + 1],
  ['3 frames exactly', 3 * FRAME],
  ['10 MiB', 10 * 1024 * 1024],
];
const suites = [
  ['0x0478', AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY, false],
  ['0x0578', AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, true],
] as const;
const contexts: [string, Record<string, string>][] = [
  ['no context', {}],
  ['with context', { team: 'payments', purpose: 'interop test', 'ünïcode': 'välue' }],
];

describe('interoperability with @aws-crypto/client-node', () => {
  for (const [suiteName, suiteId, sign] of suites) {
    for (const [contextName, context] of contexts) {
      describe(`${suiteName}, ${contextName}`, () => {
        for (const [sizeName, size] of sizes) {
          it(`ESDK encrypts, Kenv decrypts: ${sizeName}`, async () => {
            const plaintext = randomBytes(size);
            const { result } = await encrypt(theirs, plaintext, { encryptionContext: context, suiteId, frameLength: FRAME });
            const back = await decryptBuffer(Buffer.from(result), { keyring: ours, requiredContext: context });
            expect(back.equals(plaintext)).toBe(true);
          });

          it(`Kenv encrypts, ESDK decrypts: ${sizeName}`, async () => {
            const plaintext = randomBytes(size);
            const message = await encryptBuffer(plaintext, { keyring: ours, context, sign, frameLength: FRAME });
            const { plaintext: back, messageHeader } = await decrypt(theirs, message);
            expect(Buffer.from(back).equals(plaintext)).toBe(true);
            expect(messageHeader.suiteId).toBe(suiteId);
            for (const [k, v] of Object.entries(context)) expect(messageHeader.encryptionContext[k]).toBe(v);
          });
        }
      });
    }
  }

  it('Kenv at its default frame length decrypts in the ESDK', async () => {
    const plaintext = randomBytes(3 * 1024 * 1024 + 5);
    const message = await encryptBuffer(plaintext, { keyring: ours });
    const { plaintext: back } = await decrypt(theirs, message);
    expect(Buffer.from(back).equals(plaintext)).toBe(true);
  });
});
