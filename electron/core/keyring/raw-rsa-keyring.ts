import { type KeyObject, randomBytes } from 'node:crypto';
import { KenvError } from '../errors.js';
import { DATA_KEY_LENGTH } from '../format/suites.js';
import { noKeyOpened } from './attempts.js';
import { type RsaPadding, rsaDecrypt, rsaEncrypt } from './rsa.js';
import type { EncryptedDataKey, Keyring, UnwrapAttempt, UnwrapRequest, WrapRequest } from './types.js';

export interface RawRsaKeyringOptions {
  /** The key namespace: the EDK's provider id. */
  namespace: string;
  /** The key name: the EDK's provider info, byte for byte. */
  name: string;
  padding: RsaPadding;
  /** Needed to encrypt. */
  publicKey?: KeyObject;
  /** Needed to decrypt. */
  privateKey?: KeyObject;
}

/**
 * The AWS Encryption SDK's raw RSA keyring: the data key is RSA-encrypted under a public key; the private key opens it.
 *
 * Provider id = key namespace, provider info = key name, ciphertext = RSA(data key) with the configured padding.
 * Nothing binds the encryption context to the data key here (the message header's tag does). As the specification
 * says, the keyring never derives a public key from the private one: encrypting needs the public key given.
 */
export class RawRsaKeyring implements Keyring {
  private readonly opts: RawRsaKeyringOptions;
  private readonly name: Buffer;

  constructor(opts: RawRsaKeyringOptions) {
    if (!opts.namespace || !opts.name) throw new KenvError('INVALID_KEY', 'A raw RSA key needs a namespace and a name.');
    if (opts.namespace.startsWith('aws-kms')) {
      throw new KenvError('INVALID_KEY', 'The raw RSA key namespace may not start with "aws-kms", which is reserved for KMS keys.');
    }
    if (!opts.publicKey && !opts.privateKey) throw new KenvError('INVALID_KEY', 'A raw RSA keyring needs a public key, a private key or both.');
    this.opts = opts;
    this.name = Buffer.from(opts.name, 'utf8');
  }

  /** How the key appears in messages and errors. */
  get description(): string {
    return `raw RSA key ${this.opts.namespace}/${this.opts.name}`;
  }

  async wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    if (!this.opts.publicKey) {
      throw new KenvError('INVALID_KEY', `Encrypting for ${this.description} needs its public key; only a private key was given.`);
    }
    const dataKey = req.dataKey ? Buffer.from(req.dataKey) : randomBytes(DATA_KEY_LENGTH);
    try {
      const ciphertext = rsaEncrypt(this.opts.publicKey, this.opts.padding, dataKey);
      return { dataKey, edks: [{ providerId: this.opts.namespace, providerInfo: Buffer.from(this.name), ciphertext }] };
    } catch (e) {
      dataKey.fill(0);
      throw e;
    }
  }

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    const result = this.tryUnwrap(req);
    if (Buffer.isBuffer(result)) return result;
    throw noKeyOpened(req.edks, result);
  }

  /** The data key, or why each matching EDK failed (empty when none was for this key). */
  tryUnwrap(req: UnwrapRequest): Buffer | UnwrapAttempt[] {
    const attempts: UnwrapAttempt[] = [];
    for (const edk of req.edks) {
      if (edk.providerId !== this.opts.namespace || !edk.providerInfo.equals(this.name)) continue;
      if (!this.opts.privateKey) {
        attempts.push({ key: this.description, code: 'INVALID_KEY', reason: 'decrypting needs the private key; only the public key was given' });
        continue;
      }
      const dataKey = rsaDecrypt(this.opts.privateKey, this.opts.padding, edk.ciphertext, DATA_KEY_LENGTH);
      if (dataKey) return dataKey;
      attempts.push({
        key: this.description,
        code: 'NO_KEY_OPENED',
        reason: `it did not decrypt with this private key and padding ${this.opts.padding}: the key or the padding differs from the ones used to encrypt`,
      });
    }
    return attempts;
  }
}
