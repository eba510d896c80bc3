import { ECDH, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createMessageSigner,
  createMessageVerifier,
  finishSignature,
  generateSigningKey,
  publicKeyFromContext,
  signatureVerifies,
} from '../../../../../electron/core/crypto/signature.js';

// The message signature: ECDSA P-384 over SHA-384, the verifying key stored in the encryption context as the
// compressed point (49 bytes, base64) and the signature in DER, as the ESDK writes them.

const MALFORMED = {
  code: 'MALFORMED_HEADER',
  message: 'The header is malformed: the signing public key in the encryption context is not a P-384 point. The file is damaged.',
};

function signed(data: Buffer): { signature: Buffer; publicKeyBase64: string } {
  const { privateKey, publicKeyBase64 } = generateSigningKey();
  const signer = createMessageSigner();
  signer.update(data);
  return { signature: finishSignature(signer, privateKey), publicKeyBase64 };
}

function verifies(data: Buffer, publicKeyBase64: string, signature: Buffer): boolean {
  const verifier = createMessageVerifier();
  verifier.update(data);
  return signatureVerifies(verifier, publicKeyFromContext(publicKeyBase64), signature);
}

/** The other encodings of the same P-384 point a context could hold, which the format does not allow. */
function otherEncodings(publicKeyBase64: string): Buffer[] {
  const compressed = Buffer.from(publicKeyBase64, 'base64');
  return [
    ECDH.convertKey(compressed, 'secp384r1', undefined, undefined, 'uncompressed') as Buffer,
    ECDH.convertKey(compressed, 'secp384r1', undefined, undefined, 'hybrid') as Buffer,
  ];
}

describe('generateSigningKey and publicKeyFromContext', () => {
  it('stores the public key as a compressed P-384 point that reads back as the signing key’s public half', () => {
    const { privateKey, publicKeyBase64 } = generateSigningKey();
    const point = Buffer.from(publicKeyBase64, 'base64');
    expect(point).toHaveLength(49);
    expect([0x02, 0x03]).toContain(point[0]);
    const publicKey = publicKeyFromContext(publicKeyBase64);
    expect(publicKey.asymmetricKeyType).toBe('ec');
    expect(publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'secp384r1' });
    expect(publicKey.export({ format: 'jwk' })).toEqual(createPublicKey(privateKey).export({ format: 'jwk' }));
  });

  it('refuses anything but a 49-byte compressed point on P-384 as MALFORMED_HEADER', () => {
    const { publicKeyBase64 } = generateSigningKey();
    const compressed = Buffer.from(publicKeyBase64, 'base64');
    const notOnCurve = Buffer.from(compressed);
    notOnCurve.fill(0xff, 1);
    const refused = [
      '',
      'not base64 at all',
      compressed.subarray(0, 48).toString('base64'),
      Buffer.concat([compressed, Buffer.from([0])]).toString('base64'),
      notOnCurve.toString('base64'),
      // The same point, uncompressed (0x04, 97 bytes) and hybrid: well-formed points, but not what the format stores.
      ...otherEncodings(publicKeyBase64).map((b) => b.toString('base64')),
    ];
    for (const value of refused) expect(() => publicKeyFromContext(value), value).toThrow(expect.objectContaining(MALFORMED));
  });
});

describe('finishSignature and signatureVerifies', () => {
  const data = Buffer.from('header and frames of a message');

  it('signs in DER and verifies what was signed, with the key from the context', () => {
    const { signature, publicKeyBase64 } = signed(data);
    // DER: a SEQUENCE of two INTEGERs.
    expect(signature[0]).toBe(0x30);
    expect(signature[1]).toBe(signature.length - 2);
    expect(verifies(data, publicKeyBase64, signature)).toBe(true);
  });

  it('does not verify other bytes, another key, or a signature altered by one bit', () => {
    const { signature, publicKeyBase64 } = signed(data);
    expect(verifies(Buffer.from('header and frames of a messagf'), publicKeyBase64, signature)).toBe(false);
    expect(verifies(data, generateSigningKey().publicKeyBase64, signature)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[flipped.length - 1]! ^= 1;
    expect(verifies(data, publicKeyBase64, flipped)).toBe(false);
  });

  it('answers false, never throws, for a signature that is not DER or a verifier that was already used', () => {
    const { signature, publicKeyBase64 } = signed(data);
    expect(verifies(data, publicKeyBase64, Buffer.alloc(0))).toBe(false);
    expect(verifies(data, publicKeyBase64, Buffer.from([1, 2, 3]))).toBe(false);
    const verifier = createMessageVerifier();
    verifier.update(data);
    const publicKey = publicKeyFromContext(publicKeyBase64);
    expect(signatureVerifies(verifier, publicKey, signature)).toBe(true);
    // Node throws "Not initialised" on a second verify: the check must still say no, not let the error through.
    expect(signatureVerifies(verifier, publicKey, signature)).toBe(false);
  });
});
