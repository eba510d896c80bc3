import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KmsError } from './kms-error.js';

/**
 * The local KMS ciphertext blob.
 *
 * Layout: version byte 0x01, one byte key id length, the key id (ASCII), a 12-byte IV, the AES-256-GCM ciphertext
 * and its 16-byte tag. The key id travels in the clear so Decrypt works without a KeyId, as with real KMS; the
 * blob's header and the encryption context are both authenticated as AAD, so changing either fails the tag.
 */
const BLOB_VERSION = 0x01;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const AAD_LABEL = Buffer.from('kenv-local-kms/v1', 'ascii');

export type EncryptionContext = Record<string, string>;

/**
 * Encodes an encryption context canonically, so two different contexts never encode to the same bytes.
 *
 * Pairs sorted by the UTF-8 bytes of their key, a 4-byte big-endian pair count, then for each pair the key and the
 * value, each prefixed with its 4-byte big-endian length. An absent context and an empty one encode the same, as in
 * real KMS.
 */
export function encodeContext(context: EncryptionContext | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [k, v] of pairs) parts.push(u32(k.length), k, u32(v.length), v);
  return Buffer.concat(parts);
}

/** Encrypts `plaintext` under `material` (32 bytes) and returns a blob that names `keyId`. */
export function sealBlob(keyId: string, material: Buffer, plaintext: Buffer, context: EncryptionContext | undefined): Buffer {
  const header = blobHeader(keyId);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  cipher.setAAD(Buffer.concat([AAD_LABEL, header, encodeContext(context)]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
}

/** Reads the key id out of a blob, or throws InvalidCiphertextException when the blob cannot be one of ours. */
export function blobKeyId(blob: Buffer): string {
  const keyIdLength = blob[1];
  if (blob[0] !== BLOB_VERSION || keyIdLength === undefined || blob.length < 2 + keyIdLength + IV_LENGTH + TAG_LENGTH) {
    throw invalidCiphertext();
  }
  return blob.subarray(2, 2 + keyIdLength).toString('latin1');
}

/** Decrypts a blob, throwing InvalidCiphertextException when it was altered or the context differs. */
export function openBlob(blob: Buffer, material: Buffer, context: EncryptionContext | undefined): Buffer {
  const headerLength = 2 + Buffer.byteLength(blobKeyId(blob), 'latin1');
  const header = blob.subarray(0, headerLength);
  const iv = blob.subarray(headerLength, headerLength + IV_LENGTH);
  const body = blob.subarray(headerLength + IV_LENGTH, blob.length - TAG_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', material, iv);
  decipher.setAAD(Buffer.concat([AAD_LABEL, header, encodeContext(context)]));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_LENGTH));
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw invalidCiphertext();
  }
}

function blobHeader(keyId: string): Buffer {
  const id = Buffer.from(keyId, 'latin1');
  if (id.length > 255) throw new Error(`Key id too long for a ciphertext blob: ${keyId}`);
  return Buffer.concat([Buffer.from([BLOB_VERSION, id.length]), id]);
}

function invalidCiphertext(): KmsError {
  return new KmsError(
    'InvalidCiphertextException',
    'The ciphertext is invalid: it was altered, or the encryption context differs from the one used to encrypt it.',
  );
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
