import { ECDH, type KeyObject, createPublicKey, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { KenvError } from '../errors.js';

const CURVE = 'secp384r1';
const COORDINATE = 48;

/** A fresh ECDSA P-384 key pair for one signed message; the public key goes into the encryption context. */
export function generateSigningKey(): { privateKey: KeyObject; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVE });
  const jwk = publicKey.export({ format: 'jwk' });
  const uncompressed = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  const compressed = ECDH.convertKey(uncompressed, CURVE, undefined, undefined, 'compressed') as Buffer;
  return { privateKey, publicKeyBase64: compressed.toString('base64') };
}

/** The verifying key stored in a signed message's encryption context (base64 of the compressed point). */
export function publicKeyFromContext(base64: string): KeyObject {
  try {
    const compressed = Buffer.from(base64, 'base64');
    if (compressed.length !== COORDINATE + 1) throw new Error('wrong length');
    const point = ECDH.convertKey(compressed, CURVE, undefined, undefined, 'uncompressed') as Buffer;
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-384',
        x: point.subarray(1, 1 + COORDINATE).toString('base64url'),
        y: point.subarray(1 + COORDINATE).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    throw new KenvError(
      'MALFORMED_HEADER',
      'The header is malformed: the signing public key in the encryption context is not a P-384 point. The file is damaged.',
    );
  }
}

export type Signer = ReturnType<typeof createSign>;
export type Verifier = ReturnType<typeof createVerify>;

export function createMessageSigner(): Signer {
  return createSign('sha384');
}

export function createMessageVerifier(): Verifier {
  return createVerify('sha384');
}

/** DER signature, as the ESDK footer holds it. */
export function finishSignature(signer: Signer, privateKey: KeyObject): Buffer {
  return signer.sign({ key: privateKey, dsaEncoding: 'der' });
}

export function signatureVerifies(verifier: Verifier, publicKey: KeyObject, signature: Buffer): boolean {
  try {
    return verifier.verify({ key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
