import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { blobKeyId, encodeContext, openBlob, sealBlob } from '../../../../../electron/core/local-kms/ciphertext.js';

const keyId = '1234abcd-12ab-34cd-56ef-1234567890ab';
const contextArb = fc.dictionary(fc.string(), fc.string(), { maxKeys: 5 });
const sorted = (c: Record<string, string>): [string, string][] => Object.entries(c).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));

describe('local KMS ciphertext blob', () => {
  it('encodes two contexts the same only when they hold the same pairs', () => {
    fc.assert(
      fc.property(contextArb, contextArb, (a, b) => {
        const same = JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
        expect(encodeContext(a).equals(encodeContext(b))).toBe(same);
      }),
    );
  });

  it('encodes a context the same whatever the order of its pairs', () => {
    expect(encodeContext({ a: '1', b: '2' }).equals(encodeContext({ b: '2', a: '1' }))).toBe(true);
  });

  it('keeps pairs apart that a naive join would run together', () => {
    expect(encodeContext({ ab: 'c' }).equals(encodeContext({ a: 'bc' }))).toBe(false);
    expect(encodeContext({ a: 'b=c' }).equals(encodeContext({ 'a=b': 'c' }))).toBe(false);
  });

  it('round-trips any plaintext and context, and names its key id', () => {
    const material = randomBytes(32);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), contextArb, (plaintext, context) => {
        const blob = sealBlob(keyId, material, Buffer.from(plaintext), context);
        expect(blobKeyId(blob)).toBe(keyId);
        expect(openBlob(blob, material, { ...context }).equals(Buffer.from(plaintext))).toBe(true);
      }),
    );
  });

  it('refuses every single-bit change of the blob', () => {
    const material = randomBytes(32);
    const blob = sealBlob(keyId, material, Buffer.from('secret'), { a: 'b' });
    for (let i = 0; i < blob.length; i++) {
      const altered = Buffer.from(blob);
      altered[i]! ^= 0x80;
      expect(() => openBlob(altered, material, { a: 'b' }), `byte ${i}`).toThrowError(
        expect.objectContaining({ type: 'InvalidCiphertextException' }),
      );
    }
  });

  it('refuses other key material', () => {
    const blob = sealBlob(keyId, randomBytes(32), Buffer.from('secret'), undefined);
    expect(() => openBlob(blob, randomBytes(32), undefined)).toThrowError(expect.objectContaining({ type: 'InvalidCiphertextException' }));
  });
});
