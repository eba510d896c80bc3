import { type KeyObject, constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, timingSafeEqual } from 'node:crypto';
import { KenvError } from '../errors.js';

/** The RSA paddings of the ESDK's raw RSA keyring, as Kenv's flags spell them. */
export const RSA_PADDINGS = ['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512', 'pkcs1'] as const;
export type RsaPadding = (typeof RSA_PADDINGS)[number];

/** The two KMS encryption algorithms for RSA keys and the OAEP padding each one is. */
export const KMS_RSA_ALGORITHMS = { RSAES_OAEP_SHA_256: 'oaep-sha256', RSAES_OAEP_SHA_1: 'oaep-sha1' } as const;
export type KmsRsaAlgorithm = keyof typeof KMS_RSA_ALGORITHMS;

export function isRsaPadding(s: string): s is RsaPadding {
  return (RSA_PADDINGS as readonly string[]).includes(s);
}

export function isKmsRsaAlgorithm(s: string): s is KmsRsaAlgorithm {
  return Object.prototype.hasOwnProperty.call(KMS_RSA_ALGORITHMS, s);
}

/**
 * Encrypts `plaintext` with RSA under `key` (OAEP with the same hash for the label and MGF1, or PKCS #1 v1.5).
 *
 * Throws INVALID_KEY when the plaintext does not fit the modulus with this padding.
 */
export function rsaEncrypt(key: KeyObject, padding: RsaPadding, plaintext: Buffer): Buffer {
  try {
    return publicEncrypt(
      padding === 'pkcs1'
        ? { key, padding: constants.RSA_PKCS1_PADDING }
        : { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.slice(5) },
      plaintext,
    );
  } catch (e) {
    throw new KenvError('INVALID_KEY', `RSA encryption with ${padding} failed: the key is too small for this padding (${(e as Error).message}).`, { cause: e });
  }
}

/**
 * Decrypts an RSA ciphertext of the expected length; undefined when it does not open (wrong key, padding or data).
 *
 * Node refuses PKCS #1 v1.5 private decryption (the Marvin attack), so that padding is undone here from the raw RSA
 * result, with every check folded into one constant-time verdict and the plaintext length fixed by the caller:
 * what "implicit rejection" gives, no oracle beyond "did not open".
 */
export function rsaDecrypt(key: KeyObject, padding: RsaPadding, ciphertext: Buffer, expectedLength: number): Buffer | undefined {
  const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (ciphertext.length !== modulusBytes) return undefined;
  try {
    if (padding !== 'pkcs1') {
      const out = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.slice(5) }, ciphertext);
      if (out.length === expectedLength) return out;
      out.fill(0);
      return undefined;
    }
    const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext);
    // EM = 00 02 PS (at least 8 nonzero bytes) 00 M, with M of exactly expectedLength bytes.
    const split = em.length - expectedLength - 1;
    let bad = em[0]! | (em[1]! ^ 0x02) | em[split]!;
    for (let i = 2; i < split; i++) bad |= em[i]! === 0 ? 1 : 0;
    bad |= split < 10 ? 1 : 0;
    const out = Buffer.from(em.subarray(split + 1));
    em.fill(0);
    if (bad === 0) return out;
    out.fill(0);
    return undefined;
  } catch {
    return undefined;
  }
}

/** Whether two buffers are equal, in time independent of where they differ. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * An RSA key from PEM text: a public key (SubjectPublicKeyInfo or PKCS #1) or a private key (PKCS #8 or PKCS #1).
 *
 * Refuses keys that are not RSA and moduli under 2048 bits.
 */
export function rsaKeyFromPem(pem: string, source: string): { publicKey: KeyObject; privateKey?: KeyObject } {
  let publicKey: KeyObject;
  let privateKey: KeyObject | undefined;
  try {
    if (/-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
      privateKey = createPrivateKey(pem);
      publicKey = createPublicKey(privateKey);
    } else {
      publicKey = createPublicKey(pem);
    }
  } catch (e) {
    throw new KenvError('INVALID_KEY', `${source} is not a PEM RSA key (${(e as Error).message}). Give a PEM public key (BEGIN PUBLIC KEY) or private key (BEGIN PRIVATE KEY).`, { cause: e });
  }
  if (publicKey.asymmetricKeyType !== 'rsa') {
    throw new KenvError('INVALID_KEY', `${source} holds a ${publicKey.asymmetricKeyType ?? 'non-RSA'} key; an RSA key is needed.`);
  }
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new KenvError('INVALID_KEY', `${source} is a ${bits}-bit RSA key; Kenv uses RSA keys of 2048 bits or more.`);
  return privateKey ? { publicKey, privateKey } : { publicKey };
}
