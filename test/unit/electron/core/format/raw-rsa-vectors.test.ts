import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawRsaKeyring } from '../../../../../electron/core/keyring/raw-rsa-keyring.js';
import { type RsaPadding, rsaKeyFromPem } from '../../../../../electron/core/keyring/rsa.js';
import { decryptBuffer } from '../../../../support/streams.js';

// ESDK decrypt vectors for the raw RSA keyring, in the official manifest layout ("awses-decrypt" v2-v4).
// - test/fixtures/esdk-raw-rsa: ciphertexts made by @aws-crypto/client-node with the official test-vector RSA-4096
//   key (test/support/generate-raw-rsa-vectors.mjs), every padding.
// - the raw RSA cases of the official sets copied into test/fixtures/esdk-vectors-* (none in the raw AES subset there
//   now), and KENV_RAW_RSA_VECTORS=<folder>[:<folder>...], e.g. the whole v4-Net-4.0.1.zip of
//   aws/aws-encryption-sdk-dafny (AwsEncryptionSDK/runtimes/net/TestVectorsNative/TestVectors/resources, the set the
//   ESDK's own CI decrypts): its raw RSA cases with committing suites (0x0478, 0x0578) must decrypt, and its format
//   version 1 cases must be refused (no key commitment), whatever the manifest expects of them.
const FIXTURES = join(import.meta.dirname, '../../../../fixtures');
const FIXTURE = join(FIXTURES, 'esdk-raw-rsa');
const official = readdirSync(FIXTURES).filter((name) => name.startsWith('esdk-vectors-')).map((name) => join(FIXTURES, name));
const given = (process.env.KENV_RAW_RSA_VECTORS ?? '').split(':').filter(Boolean);
const roots = [FIXTURE, ...official, ...given];

interface MasterKey {
  type: string;
  key: string;
  'provider-id'?: string;
  'encryption-algorithm'?: string;
  'padding-algorithm'?: string;
  'padding-hash'?: string;
}
interface Manifest {
  keys: string;
  client?: { name?: string; version?: string };
  tests: Record<
    string,
    {
      ciphertext: string;
      'master-keys'?: MasterKey[];
      'encryption-context'?: Record<string, string>;
      result?: { output?: { plaintext: string }; error?: unknown };
      plaintext?: string;
    }
  >;
}
type KeyEntry = { material: string | string[]; 'line-separator'?: string; 'key-id'?: string; type: string };

function padding(mk: MasterKey): RsaPadding {
  if (mk['padding-algorithm'] === 'pkcs1') return 'pkcs1';
  return `oaep-${mk['padding-hash'] ?? 'sha1'}` as RsaPadding;
}

for (const root of roots) {
  const fileUrl = (u: string): string => join(root, u.replace('file://', ''));
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest;
  const keys = (JSON.parse(readFileSync(fileUrl(manifest.keys), 'utf8')) as { keys: Record<string, KeyEntry> }).keys;
  const keyringFor = (mk: MasterKey): RawRsaKeyring => {
    const entry = keys[mk.key]!;
    const pem = Array.isArray(entry.material) ? entry.material.join(entry['line-separator'] ?? '\n') : entry.material;
    const { privateKey } = rsaKeyFromPem(pem, mk.key);
    return new RawRsaKeyring({ namespace: mk['provider-id']!, name: entry['key-id'] ?? mk.key, padding: padding(mk), ...(privateKey ? { privateKey } : {}) });
  };
  const rawRsa = Object.entries(manifest.tests).filter(([, t]) =>
    (t['master-keys'] ?? []).some((mk) => mk.type === 'raw' && mk['encryption-algorithm'] === 'rsa' && keys[mk.key]?.type === 'private') &&
    existsSync(fileUrl(t.ciphertext)),
  );
  // The message's first byte is its format version: 2 has key commitment, 1 (suites 0x0014-0x0378) does not.
  const version = (t: { ciphertext: string }): number => readFileSync(fileUrl(t.ciphertext))[0]!;
  const committing = rawRsa.filter(([, t]) => version(t) === 2);
  if (rawRsa.length === 0 && !given.includes(root)) continue;

  describe(`raw RSA decrypt vectors: ${manifest.client?.name ?? ''} ${manifest.client?.version ?? ''} (${root})`, () => {
    if (root === FIXTURE) {
      it('has raw RSA vectors of every padding', () => {
        const seen = new Set(rawRsa.flatMap(([, t]) => (t['master-keys'] ?? []).map((mk) => padding(mk))));
        expect([...seen].sort()).toEqual(['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512', 'pkcs1']);
      });
    } else {
      it('holds raw RSA vectors of format version 2 (committing suites)', () => {
        expect(committing.length).toBeGreaterThan(0);
      });
    }

    for (const [name, test] of rawRsa) {
      const mk = test['master-keys']!.find((m) => m['encryption-algorithm'] === 'rsa' && keys[m.key]?.type === 'private')!;
      const expected = test.result?.output?.plaintext ?? test.plaintext;
      const ciphertext = (): Buffer => readFileSync(fileUrl(test.ciphertext));
      const opts = (): { keyring: RawRsaKeyring; requiredContext: Record<string, string> } => ({ keyring: keyringFor(mk), requiredContext: test['encryption-context'] ?? {} });
      if (expected && version(test) === 2) {
        it(`decrypts ${name} (${padding(mk)})`, async () => {
          const plaintext = await decryptBuffer(ciphertext(), opts(), 777);
          expect(plaintext.equals(readFileSync(fileUrl(expected)))).toBe(true);
        });
      } else {
        it(`refuses ${name}`, async () => {
          await expect(decryptBuffer(ciphertext(), opts())).rejects.toMatchObject({ code: expect.stringMatching(/NO_KEY_COMMITMENT|UNSUPPORTED_VERSION/) });
        });
      }
    }
  });
}
