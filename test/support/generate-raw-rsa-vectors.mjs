// Writes test/fixtures/esdk-raw-rsa: ESDK decrypt vectors (manifest "awses-decrypt" v2 layout) for the raw RSA
// keyring, made by @aws-crypto/client-node's RawRsaKeyringNode with the official test-vector RSA-4096 key. Kenv
// never writes these: they are another implementation's output. Run: node test/support/generate-raw-rsa-vectors.mjs
import { AlgorithmSuiteIdentifier, CommitmentPolicy, RawRsaKeyringNode, buildClient } from '@aws-crypto/client-node';
import { constants } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../fixtures/esdk-raw-rsa');
const keys = JSON.parse(readFileSync(join(root, 'keys.json'), 'utf8')).keys;
const publicPem = keys['rsa-4096-public'].material.join(keys['rsa-4096-public']['line-separator']);
const plaintext = readFileSync(join(import.meta.dirname, '../fixtures/esdk-vectors-v4-Net-4.0.1/plaintexts/small'));
mkdirSync(join(root, 'ciphertexts'), { recursive: true });
mkdirSync(join(root, 'plaintexts'), { recursive: true });
writeFileSync(join(root, 'plaintexts/small'), plaintext);

const paddings = [['pkcs1', undefined], ['oaep-mgf1', 'sha1'], ['oaep-mgf1', 'sha256'], ['oaep-mgf1', 'sha384'], ['oaep-mgf1', 'sha512']];
const suites = [
  ['0478', AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY, CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT],
  ['0578', AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT],
  // Format version 1 (no key commitment): Kenv must refuse it.
  ['0178', AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256, CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT],
];
const tests = {};
for (const [suiteHex, suiteId, policy] of suites) {
  for (const [algorithm, hash] of paddings) {
    if (suiteHex === '0178' && algorithm === 'pkcs1') continue;
    const keyring = new RawRsaKeyringNode({
      keyNamespace: 'aws-raw-vectors-persistant',
      keyName: 'rsa-4096-private',
      rsaKey: { publicKey: publicPem },
      padding: algorithm === 'pkcs1' ? constants.RSA_PKCS1_PADDING : constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: hash,
    });
    const context = { key1: 'val1', key2: 'val2' };
    const { result } = await buildClient(policy).encrypt(keyring, plaintext, { encryptionContext: context, suiteId, frameLength: 512 });
    const name = `${suiteHex}-raw-rsa-${algorithm}${hash ? `-${hash}` : ''}`;
    writeFileSync(join(root, 'ciphertexts', name), result);
    tests[name] = {
      ciphertext: `file://ciphertexts/${name}`,
      'master-keys': [
        {
          type: 'raw',
          key: 'rsa-4096-private',
          'provider-id': 'aws-raw-vectors-persistant',
          'encryption-algorithm': 'rsa',
          'padding-algorithm': algorithm,
          ...(hash ? { 'padding-hash': hash } : {}),
        },
      ],
      'encryption-context': context,
      result: suiteHex === '0178' ? { error: { 'error-description': 'format version 1 (no key commitment)' } } : { output: { plaintext: 'file://plaintexts/small' } },
    };
  }
}
const manifest = { manifest: { type: 'awses-decrypt', version: 2 }, client: { name: 'aws-encryption-sdk-javascript', version: '@aws-crypto/client-node 5.0.2' }, keys: 'file://keys.json', tests };
writeFileSync(join(root, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote ${Object.keys(tests).length} vectors to ${root}`);
