import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawRsaKeyring } from '../../../../../electron/core/keyring/raw-rsa-keyring.js';
import { type RsaPadding, rsaKeyFromPem } from '../../../../../electron/core/keyring/rsa.js';
import { decryptBuffer } from '../../../../support/streams.js';

// ESDK decrypt vectors for the raw RSA keyring in the official manifest layout: ciphertexts made by
// @aws-crypto/client-node with the official test-vector RSA-4096 key (test/support/generate-raw-rsa-vectors.mjs).
// KENV_RAW_RSA_VECTORS=<folder with manifest.json> runs the same checks on another set, e.g. an official one.
const root = process.env.KENV_RAW_RSA_VECTORS ?? join(import.meta.dirname, '../../../../fixtures/esdk-raw-rsa');

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

const fileUrl = (u: string): string => join(root, u.replace('file://', ''));
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest;
const keys = (JSON.parse(readFileSync(fileUrl(manifest.keys), 'utf8')) as { keys: Record<string, KeyEntry> }).keys;

function padding(mk: MasterKey): RsaPadding {
  if (mk['padding-algorithm'] === 'pkcs1') return 'pkcs1';
  return `oaep-${mk['padding-hash'] ?? 'sha1'}` as RsaPadding;
}

function keyringFor(mk: MasterKey): RawRsaKeyring {
  const entry = keys[mk.key]!;
  const pem = Array.isArray(entry.material) ? entry.material.join(entry['line-separator'] ?? '\n') : entry.material;
  const { privateKey } = rsaKeyFromPem(pem, mk.key);
  return new RawRsaKeyring({ namespace: mk['provider-id']!, name: entry['key-id'] ?? mk.key, padding: padding(mk), ...(privateKey ? { privateKey } : {}) });
}

const rawRsa = Object.entries(manifest.tests).filter(([, t]) =>
  (t['master-keys'] ?? []).some((mk) => mk.type === 'raw' && mk['encryption-algorithm'] === 'rsa' && keys[mk.key]?.type === 'private'),
);

describe(`raw RSA decrypt vectors (${root})`, () => {
  it('has raw RSA vectors of every padding', () => {
    const seen = new Set(rawRsa.flatMap(([, t]) => (t['master-keys'] ?? []).map((mk) => padding(mk))));
    expect([...seen].sort()).toEqual(['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512', 'pkcs1']);
  });

  for (const [name, test] of rawRsa) {
    const mk = test['master-keys']!.find((m) => m['encryption-algorithm'] === 'rsa' && keys[m.key]?.type === 'private')!;
    const expected = test.result?.output?.plaintext ?? test.plaintext;
    const ciphertext = (): Buffer => readFileSync(fileUrl(test.ciphertext));
    const opts = (): { keyring: RawRsaKeyring; requiredContext: Record<string, string> } => ({ keyring: keyringFor(mk), requiredContext: test['encryption-context'] ?? {} });
    if (expected) {
      it(`decrypts ${name}`, async () => {
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
