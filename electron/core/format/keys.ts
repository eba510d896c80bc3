import { createCipheriv, createDecipheriv, hkdfSync, timingSafeEqual } from 'node:crypto';
import { KenvError } from '../errors.js';
import { u16 } from './context.js';
import { COMMITMENT_LENGTH, DATA_KEY_LENGTH, IV_LENGTH, TAG_LENGTH } from './suites.js';

/** The per-message keys both committing suites derive from the data key. */
export interface DerivedKeys {
  /** AES-256-GCM key for the header tag and every frame. Zero it when the message is done. */
  encryptionKey: Buffer;
  commitment: Buffer;
}

/** HKDF-SHA512 with the message id as salt: one extract, two expands (ESDK spec, committing suites). */
export function deriveKeys(dataKey: Buffer, messageId: Buffer, suiteId: number): DerivedKeys {
  if (dataKey.length !== DATA_KEY_LENGTH) {
    throw new KenvError('NO_KEY_OPENED', `A keyring returned a data key of ${dataKey.length} bytes instead of 32.`);
  }
  const info = Buffer.concat([u16(suiteId), Buffer.from('DERIVEKEY')]);
  const encryptionKey = Buffer.from(hkdfSync('sha512', dataKey, messageId, info, DATA_KEY_LENGTH));
  const commitment = Buffer.from(hkdfSync('sha512', dataKey, messageId, Buffer.from('COMMITKEY'), COMMITMENT_LENGTH));
  return { encryptionKey, commitment };
}

/** Constant-time comparison of the derived commitment with the header's. */
export function commitmentMatches(derived: Buffer, stored: Buffer): boolean {
  return derived.length === stored.length && timingSafeEqual(derived, stored);
}

const ZERO_IV = Buffer.alloc(IV_LENGTH);

/** The header auth tag: AES-GCM over no plaintext, AAD = header body || serialized required context. */
export function headerAuthTag(encryptionKey: Buffer, headerBody: Buffer, requiredContext: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, ZERO_IV, { authTagLength: TAG_LENGTH });
  cipher.setAAD(headerBody);
  if (requiredContext.length > 0) cipher.setAAD(requiredContext);
  cipher.final();
  return cipher.getAuthTag();
}

/** Whether `tag` authenticates the header (and the required context). */
export function headerAuthVerifies(encryptionKey: Buffer, headerBody: Buffer, requiredContext: Buffer, tag: Buffer): boolean {
  const decipher = createDecipheriv('aes-256-gcm', encryptionKey, ZERO_IV, { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.concat([headerBody, requiredContext]));
  decipher.setAuthTag(tag);
  try {
    decipher.final();
    return true;
  } catch {
    return false;
  }
}
