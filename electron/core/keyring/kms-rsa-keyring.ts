import { type KeyObject, createHash, randomBytes } from 'node:crypto';
import { DecryptCommand } from '@aws-sdk/client-kms';
import { KenvError } from '../errors.js';
import { serializeEncryptionContext } from '../format/context.js';
import { DATA_KEY_LENGTH, suiteById, suiteHex } from '../format/suites.js';
import { type KmsClientFactory, defaultKmsClientFactory, isKeyArn, regionOfKey } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';
import type { TrustedAccounts } from '../kms/trust.js';
import { noKeyOpened } from './attempts.js';
import { mrkMatchForDecrypt } from './mrk.js';
import { KMS_RSA_ALGORITHMS, type KmsRsaAlgorithm, rsaEncrypt, sameBytes } from './rsa.js';
import type { EncryptedDataKey, EncryptionContext, Keyring, UnwrapAttempt, UnwrapRequest, WrapRequest } from './types.js';
import { KMS_RSA_PROVIDER_ID } from '../kms/key-ids.js';

export { KMS_RSA_PROVIDER_ID };
const DIGEST_LENGTH = 48;

export interface KmsRsaKeyringOptions {
  /** The key ARN of an RSA `ENCRYPT_DECRYPT` KMS key (an alias is not allowed: the ARN is what files record). */
  keyArn: string;
  algorithm: KmsRsaAlgorithm;
  /** The key's public key: encrypting needs it and nothing else (no AWS credentials, no network). */
  publicKey?: KeyObject;
  /** KMS clients for decrypting; created on first use when absent. */
  clients?: KmsClientFactory;
}

/**
 * The AWS KMS RSA keyring of the AWS Encryption SDK (specification `aws-kms-rsa-keyring.md`).
 *
 * Encrypt, offline: RSA-OAEP under the public key of SHA-384(serialized encryption context) || data key, provider id
 * `aws-kms-rsa`, provider info = key ARN. Decrypt: KMS Decrypt with KeyId = the configured ARN and the configured
 * EncryptionAlgorithm (no EncryptionContext: KMS has none for RSA keys); the first 48 bytes of the answer must equal
 * the digest of the message's context. Suites with an ECDSA signature are refused both ways, as the specification
 * requires: the public key is public, so a signature would prove nothing about the sender.
 */
export class KmsRsaKeyring implements Keyring {
  private readonly opts: KmsRsaKeyringOptions;
  private clients: KmsClientFactory | undefined;

  constructor(opts: KmsRsaKeyringOptions) {
    if (!isKeyArn(opts.keyArn)) {
      throw new KenvError('INVALID_KEY', `"${opts.keyArn}" is not a KMS key ARN: an RSA recipient is named by its key ARN (not an alias).`);
    }
    if (!Object.prototype.hasOwnProperty.call(KMS_RSA_ALGORITHMS, opts.algorithm)) {
      throw new KenvError('INVALID_KEY', `"${String(opts.algorithm)}" is not an RSA encryption algorithm of KMS: use RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.`);
    }
    if (opts.publicKey) {
      const bits = opts.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
      if (opts.publicKey.asymmetricKeyType !== 'rsa' || bits < 2048) {
        throw new KenvError('INVALID_KEY', `The public key of ${opts.keyArn} must be an RSA key of 2048 bits or more.`);
      }
    }
    this.opts = opts;
    this.clients = opts.clients;
  }

  get description(): string {
    return `KMS RSA key ${this.opts.keyArn} (${this.opts.algorithm})`;
  }

  async wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    refuseSignedSuite(req.suiteId);
    if (!this.opts.publicKey) {
      throw new KenvError('INVALID_KEY', `Encrypting for ${this.opts.keyArn} needs its public key: use its recipient file (kenv public-key).`);
    }
    const dataKey = req.dataKey ? Buffer.from(req.dataKey) : randomBytes(DATA_KEY_LENGTH);
    const plaintext = Buffer.concat([contextDigest(req.context), dataKey]);
    try {
      const ciphertext = rsaEncrypt(this.opts.publicKey, KMS_RSA_ALGORITHMS[this.opts.algorithm], plaintext);
      return { dataKey, edks: [{ providerId: KMS_RSA_PROVIDER_ID, providerInfo: Buffer.from(this.opts.keyArn, 'utf8'), ciphertext }] };
    } catch (e) {
      dataKey.fill(0);
      throw e;
    } finally {
      plaintext.fill(0);
    }
  }

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    const result = await this.tryUnwrap(req);
    if (Buffer.isBuffer(result)) return result;
    throw noKeyOpened(req.edks, result);
  }

  /** The data key, or why each matching data key failed (empty when the file has none for this key). */
  async tryUnwrap(req: UnwrapRequest): Promise<Buffer | UnwrapAttempt[]> {
    const mine = req.edks.filter((edk) => edk.providerId === KMS_RSA_PROVIDER_ID);
    if (mine.length === 0) return [];
    try {
      refuseSignedSuite(req.suiteId);
    } catch (e) {
      return [{ key: this.opts.keyArn, code: 'INVALID_ARGUMENT', reason: (e as KenvError).message }];
    }
    const attempts: UnwrapAttempt[] = [];
    const expected = contextDigest(req.context);
    for (const edk of mine) {
      const arn = edk.providerInfo.toString('utf8');
      if (!isKeyArn(arn)) {
        attempts.push({ key: arn || '(empty)', code: 'NO_KEY_OPENED', reason: 'the stored key ARN of this KMS RSA data key is not a KMS key ARN' });
        continue;
      }
      if (!mrkMatchForDecrypt(this.opts.keyArn, arn)) continue;
      const keyArn = this.opts.keyArn;
      const region = regionOfKey(keyArn);
      let plaintext: Buffer;
      try {
        this.clients ??= defaultKmsClientFactory();
        const out = await this.clients(region).send(
          new DecryptCommand({ KeyId: keyArn, CiphertextBlob: edk.ciphertext, EncryptionAlgorithm: this.opts.algorithm }),
        );
        if (out.KeyId !== keyArn || !out.Plaintext) {
          out.Plaintext?.fill(0);
          attempts.push({ key: keyArn, code: 'NO_KEY_OPENED', reason: `KMS answered for another key (${out.KeyId ?? 'none'})` });
          continue;
        }
        plaintext = Buffer.from(out.Plaintext);
        out.Plaintext.fill(0);
      } catch (e) {
        const error = kmsError(e, { operation: 'Decrypt', keyArn, ...(region ? { region } : {}) });
        attempts.push({ key: `${keyArn} (${this.opts.algorithm})`, code: error.code, reason: error.message });
        continue;
      }
      const digestOk = plaintext.length === DIGEST_LENGTH + DATA_KEY_LENGTH && sameBytes(plaintext.subarray(0, DIGEST_LENGTH), expected);
      if (digestOk) {
        const dataKey = Buffer.from(plaintext.subarray(DIGEST_LENGTH));
        plaintext.fill(0);
        return dataKey;
      }
      plaintext.fill(0);
      attempts.push({
        key: keyArn,
        code: 'CONTEXT_MISMATCH',
        reason: `KMS decrypted the data key with ${keyArn}, but it was bound to another encryption context: the file's context was changed, or --context differs from the one it was encrypted with`,
      });
    }
    return attempts;
  }
}

/** SHA-384 of the ESDK serialization of the context: what binds the context to a KMS RSA data key. */
export function contextDigest(context: EncryptionContext): Buffer {
  return createHash('sha384').update(serializeEncryptionContext(context)).digest();
}

function refuseSignedSuite(suiteId: number): void {
  if (suiteById(suiteId)?.signed ?? true) {
    throw new KenvError(
      'INVALID_ARGUMENT',
      `KMS RSA keys (recipients) cannot be used with the signed suite ${suiteHex(suiteId)}: anyone holding the public key can make such a file, so a signature would prove nothing. Encrypt without --sign.`,
    );
  }
}

export interface KmsRsaDiscoveryOptions {
  clients?: KmsClientFactory;
  /** Only data keys wrapped under these key ARNs (multi-Region keys match across Regions); all when absent. */
  keyArns?: string[];
  /** Without `keyArns`: the accounts whose keys KMS may be asked about (see KmsKeyringOptions.trust). */
  trust?: TrustedAccounts;
}

/**
 * Decrypts KMS RSA data keys with the key named in each one, as a KMS RSA keyring configured for that key would.
 *
 * A file does not record which of the key's two algorithms wrapped its data key, so each is tried in turn
 * (RSAES_OAEP_SHA_256 first, the default) while KMS answers InvalidCiphertextException.
 */
export class KmsRsaDiscoveryKeyring {
  constructor(private readonly opts: KmsRsaDiscoveryOptions = {}) {}

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    const result = await this.tryUnwrap(req);
    if (Buffer.isBuffer(result)) return result;
    throw noKeyOpened(req.edks, result);
  }

  async wrapDataKey(): Promise<never> {
    throw new KenvError('INVALID_ARGUMENT', 'Encrypting for a KMS RSA key needs its recipient file: pass --recipient FILE.');
  }

  async tryUnwrap(req: UnwrapRequest): Promise<Buffer | UnwrapAttempt[]> {
    const attempts: UnwrapAttempt[] = [];
    for (const edk of req.edks) {
      if (edk.providerId !== KMS_RSA_PROVIDER_ID) continue;
      const stored = edk.providerInfo.toString('utf8');
      let keyArn = stored;
      if (this.opts.keyArns) {
        const configured = this.opts.keyArns.find((k) => mrkMatchForDecrypt(k, stored));
        if (!configured) continue;
        keyArn = configured;
      } else if (isKeyArn(stored) && this.opts.trust) {
        const refusal = await this.opts.trust.refusal(stored);
        if (refusal) {
          attempts.push({ key: stored, code: 'UNTRUSTED_KEY_ACCOUNT', reason: refusal });
          continue;
        }
      }
      if (!isKeyArn(keyArn)) {
        attempts.push({ key: keyArn || '(empty)', code: 'NO_KEY_OPENED', reason: 'the stored key ARN of this KMS RSA data key is not a KMS key ARN' });
        continue;
      }
      for (const algorithm of ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'] as const) {
        const keyring = new KmsRsaKeyring({ keyArn, algorithm, ...(this.opts.clients ? { clients: this.opts.clients } : {}) });
        const result = await keyring.tryUnwrap({ ...req, edks: [{ ...edk, providerInfo: Buffer.from(keyArn, 'utf8') }] });
        if (Buffer.isBuffer(result)) return result;
        attempts.push(...result);
        if (!result.every((a) => a.code === 'KMS_INVALID_CIPHERTEXT')) break;
      }
    }
    return attempts;
  }
}
