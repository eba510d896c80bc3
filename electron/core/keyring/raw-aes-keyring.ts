import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KenvError } from '../errors.js';
import { serializeEncryptionContext } from '../format/context.js';
import { DATA_KEY_LENGTH, IV_LENGTH, TAG_LENGTH } from '../format/suites.js';
import { noKeyOpened } from './attempts.js';
import type { EncryptedDataKey, Keyring, UnwrapAttempt, UnwrapRequest, WrapRequest } from './types.js';

export interface RawAesKeyringOptions {
  /** The key namespace: the EDK's provider id. */
  namespace: string;
  /** The key name: the start of the EDK's provider info. */
  name: string;
  /** 256-bit wrapping key. */
  key: Buffer;
}

/**
 * The AWS Encryption SDK's raw AES keyring: the data key is wrapped with AES-256-GCM under a key the caller holds.
 *
 * Provider info = key name || u32(tag bits = 128) || u32(IV length = 12) || IV; AAD = the serialized encryption
 * context. Files it writes decrypt with any ESDK's raw AES keyring given the same namespace, name and key.
 */
export class RawAesKeyring implements Keyring {
  private readonly namespace: string;
  private readonly name: Buffer;
  private readonly key: Buffer;

  constructor(opts: RawAesKeyringOptions) {
    if (opts.key.length !== 32) {
      throw new KenvError('INVALID_KEY', `A raw AES key must be 32 bytes (256 bits); this one has ${opts.key.length}.`);
    }
    if (!opts.namespace || !opts.name) throw new KenvError('INVALID_KEY', 'A raw AES key needs a namespace and a name.');
    if (opts.namespace === 'aws-kms' || opts.namespace.startsWith('aws-kms')) {
      throw new KenvError('INVALID_KEY', 'The raw AES key namespace may not start with "aws-kms", which is reserved for KMS keys.');
    }
    this.namespace = opts.namespace;
    this.name = Buffer.from(opts.name, 'utf8');
    this.key = Buffer.from(opts.key);
  }

  /** How the key appears in messages and errors. */
  get description(): string {
    return `raw AES key ${this.namespace}/${this.name.toString('utf8')}`;
  }

  async wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    const dataKey = req.dataKey ? Buffer.from(req.dataKey) : randomBytes(DATA_KEY_LENGTH);
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(serializeEncryptionContext(req.context));
    const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    const info = Buffer.alloc(this.name.length + 8 + IV_LENGTH);
    this.name.copy(info, 0);
    info.writeUInt32BE(TAG_LENGTH * 8, this.name.length);
    info.writeUInt32BE(IV_LENGTH, this.name.length + 4);
    iv.copy(info, this.name.length + 8);
    return { dataKey, edks: [{ providerId: this.namespace, providerInfo: info, ciphertext }] };
  }

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    const attempts = this.tryUnwrap(req);
    if (Buffer.isBuffer(attempts)) return attempts;
    throw noKeyOpened(req.edks, attempts);
  }

  /** The data key, or why each matching EDK failed (empty when none was for this key). */
  tryUnwrap(req: UnwrapRequest): Buffer | UnwrapAttempt[] {
    const attempts: UnwrapAttempt[] = [];
    const aad = serializeEncryptionContext(req.context);
    for (const edk of req.edks) {
      if (edk.providerId !== this.namespace) continue;
      const info = edk.providerInfo;
      if (info.length !== this.name.length + 8 + IV_LENGTH || !info.subarray(0, this.name.length).equals(this.name)) continue;
      const tagBits = info.readUInt32BE(this.name.length);
      const ivLength = info.readUInt32BE(this.name.length + 4);
      if (tagBits !== TAG_LENGTH * 8 || ivLength !== IV_LENGTH || edk.ciphertext.length !== DATA_KEY_LENGTH + TAG_LENGTH) {
        attempts.push({ key: this.description, code: 'NO_KEY_OPENED', reason: 'its wrapping parameters are not AES-256-GCM with a 12-byte IV' });
        continue;
      }
      const iv = info.subarray(this.name.length + 8);
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_LENGTH });
      decipher.setAAD(aad);
      decipher.setAuthTag(edk.ciphertext.subarray(DATA_KEY_LENGTH));
      const dataKey = decipher.update(edk.ciphertext.subarray(0, DATA_KEY_LENGTH));
      try {
        decipher.final();
        return dataKey;
      } catch {
        dataKey.fill(0);
        attempts.push({
          key: this.description,
          code: 'NO_KEY_OPENED',
          reason: 'it did not unwrap: the key bytes differ from the ones used to encrypt, or the encryption context does not match',
        });
      }
    }
    return attempts;
  }
}
