/**
 * Valid `.kenv` messages for sync tests, made with the official ESDK (raw AES keyring, committing suite 0x0478),
 * so they pass any header check the core applies. Sync never decrypts: it only needs real message headers.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';

const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const keyring = new RawAesKeyringNode({
  keyName: 'sync-test',
  keyNamespace: 'kenv-test',
  unencryptedMasterKey: new Uint8Array(randomBytes(32)),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});

/** Encrypts `plaintext` into a complete, valid message. */
export async function kenvMessage(plaintext: string | Buffer): Promise<Buffer> {
  const { result } = await encrypt(keyring, plaintext, {
    suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  });
  return Buffer.from(result);
}

/** Writes a valid message holding `plaintext` at `vaultDir/path` (folders created). */
export async function writeKenv(vaultDir: string, path: string, plaintext: string | Buffer): Promise<Buffer> {
  const bytes = await kenvMessage(plaintext);
  await mkdir(dirname(join(vaultDir, path)), { recursive: true });
  await writeFile(join(vaultDir, path), bytes);
  return bytes;
}
