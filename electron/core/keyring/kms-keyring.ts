import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import { KenvError } from '../errors.js';
import { DATA_KEY_LENGTH } from '../format/suites.js';
import { type KmsClientFactory, defaultKmsClientFactory, isKeyArn, isKeyReference, regionOfKey } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';
import type { TrustedAccounts } from '../kms/trust.js';
import { noKeyOpened } from './attempts.js';
import { inRegion, isMultiRegionKey, mrkMatchForDecrypt, parseKmsArn } from './mrk.js';
import type { EncryptedDataKey, Keyring, UnwrapAttempt, UnwrapRequest, WrapRequest } from './types.js';
import { KMS_PROVIDER_ID } from '../kms/key-ids.js';

export { KMS_PROVIDER_ID };

export interface KmsKeyringOptions {
  /**
   * Keys to encrypt under: the first generates the data key, each further one wraps a copy of it. On decrypt,
   * when given, only data keys wrapped under these keys are tried; when absent, every KMS data key in the file
   * is tried with the ARN stored beside it ("discovery").
   */
  keyIds?: string[];
  clients?: KmsClientFactory;
  /**
   * Discovery only: the accounts whose keys KMS may be asked about (the ESDK's discovery filter). A data key under
   * any other account's key is not tried, and says so with UNTRUSTED_KEY_ACCOUNT, before any KMS call.
   */
  trust?: TrustedAccounts;
  /**
   * The Region the person works in. A multi-Region key (`mrk-…`) wrapped in another Region is first decrypted with
   * its replica here, as the ESDK's MRK-aware keyrings do, then (Kenv being multi-Region) in its own Region.
   */
  region?: string;
}

/**
 * The AWS KMS keyring of the AWS Encryption SDK.
 *
 * Encrypt: one GenerateDataKey under the first key, then Encrypt of the same data key under each further key, so
 * any one of them opens the file. Decrypt: KMS Decrypt with KeyId = the stored ARN and the message's encryption
 * context, one data key after another until one opens.
 */
export class KmsKeyring implements Keyring {
  private readonly keyIds: string[];
  private readonly clients: KmsClientFactory;
  private readonly trust: TrustedAccounts | undefined;
  private readonly region: string | undefined;

  constructor(opts: KmsKeyringOptions = {}) {
    this.trust = opts.trust;
    this.region = opts.region;
    this.keyIds = opts.keyIds ?? [];
    for (const keyId of this.keyIds) {
      if (!isKeyReference(keyId)) {
        throw new KenvError('INVALID_KEY', `"${keyId}" is not a KMS key reference: give a key id, a key ARN, an alias name (alias/…) or an alias ARN.`);
      }
    }
    this.clients = opts.clients ?? defaultKmsClientFactory();
  }

  async wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    const [generator, ...others] = this.keyIds;
    if (!generator) throw new KenvError('INVALID_ARGUMENT', 'Encrypting needs at least one KMS key: pass --key.');
    const edks: EncryptedDataKey[] = [];
    let dataKey: Buffer;
    let wrapWith = others;
    if (req.dataKey) {
      dataKey = Buffer.from(req.dataKey);
      wrapWith = this.keyIds;
    } else {
      const out = await this.send(generator, 'GenerateDataKey', (client) =>
        client.send(new GenerateDataKeyCommand({ KeyId: generator, NumberOfBytes: DATA_KEY_LENGTH, EncryptionContext: req.context })),
      );
      if (!out.Plaintext || out.Plaintext.length !== DATA_KEY_LENGTH || !out.CiphertextBlob || !out.KeyId) {
        throw new KenvError('KMS_ERROR', `KMS GenerateDataKey under ${generator} returned an incomplete answer.`);
      }
      dataKey = Buffer.from(out.Plaintext);
      out.Plaintext.fill(0);
      edks.push(kmsEdk(out.KeyId, out.CiphertextBlob));
    }
    try {
      for (const keyId of wrapWith) {
        const out = await this.send(keyId, 'Encrypt', (client) =>
          client.send(new EncryptCommand({ KeyId: keyId, Plaintext: dataKey, EncryptionContext: req.context })),
        );
        if (!out.CiphertextBlob || !out.KeyId) throw new KenvError('KMS_ERROR', `KMS Encrypt under ${keyId} returned an incomplete answer.`);
        edks.push(kmsEdk(out.KeyId, out.CiphertextBlob));
      }
    } catch (e) {
      dataKey.fill(0);
      throw e;
    }
    return { dataKey, edks };
  }

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    const result = await this.tryUnwrap(req);
    if (Buffer.isBuffer(result)) return result;
    throw noKeyOpened(req.edks, result);
  }

  /** The data key, or why each KMS data key failed (empty when the file has none this keyring may try). */
  async tryUnwrap(req: UnwrapRequest): Promise<Buffer | UnwrapAttempt[]> {
    const attempts: UnwrapAttempt[] = [];
    for (const edk of req.edks) {
      if (edk.providerId !== KMS_PROVIDER_ID) continue;
      const arn = edk.providerInfo.toString('utf8');
      if (!isKeyArn(arn)) {
        attempts.push({ key: arn || '(empty)', code: 'NO_KEY_OPENED', reason: 'the stored key ARN is not a KMS key ARN' });
        continue;
      }
      if (this.keyIds.length === 0 && this.trust) {
        const refusal = await this.trust.refusal(arn);
        if (refusal) {
          attempts.push({ key: arn, code: 'UNTRUSTED_KEY_ACCOUNT', reason: refusal });
          continue;
        }
      }
      for (const keyId of this.decryptKeyIdsFor(arn)) {
        // KMS answers with the ARN of the key it used: the one asked for when that is a key ARN (a replica's, say).
        const expected = parseKmsArn(keyId)?.resourceType === 'key' ? keyId : arn;
        try {
          const out = await this.send(keyId, 'Decrypt', (client) =>
            client.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: edk.ciphertext, EncryptionContext: req.context })),
            // A key ARN names its Region (a replica's, say); an alias is regional: ask the Region the data key was wrapped in.
            regionOfKey(keyId) ?? regionOfKey(arn),
          );
          if (out.KeyId !== expected || !out.Plaintext || out.Plaintext.length !== DATA_KEY_LENGTH) {
            out.Plaintext?.fill(0);
            attempts.push({ key: arn, code: 'NO_KEY_OPENED', reason: `KMS answered for another key (${out.KeyId ?? 'none'}) or with a data key of the wrong size` });
            continue;
          }
          const dataKey = Buffer.from(out.Plaintext);
          out.Plaintext.fill(0);
          return dataKey;
        } catch (e) {
          const error = e instanceof KenvError ? e : kmsError(e, { operation: 'Decrypt', keyArn: arn });
          attempts.push({ key: arn, code: error.code, reason: error.message });
        }
      }
    }
    return attempts;
  }

  /**
   * The KeyId values to send to KMS Decrypt for a data key stored under `arn`.
   *
   * Discovery (no keys configured): the stored ARN. Otherwise only configured keys may open it: a configured ARN
   * equal to it (or a replica of the same multi-Region key) is sent, a configured key id that names the same key
   * sends the stored ARN; a configured alias is sent as it is, and KMS itself
   * answers IncorrectKeyException when the alias points at another key, so `--key alias/x` works on decrypt too.
   */
  private decryptKeyIdsFor(arn: string): string[] {
    if (this.keyIds.length === 0) {
      const parsed = parseKmsArn(arn);
      if (parsed && isMultiRegionKey(arn) && this.region && parsed.region !== this.region) return [inRegion(parsed, this.region), arn];
      return [arn];
    }
    const configuredArn = this.keyIds.find((k) => k.startsWith('arn:') && mrkMatchForDecrypt(k, arn));
    if (configuredArn) return [configuredArn];
    if (this.keyIds.some((k) => sameKey(k, arn))) return [arn];
    return this.keyIds.filter((k) => k.includes('alias/') && (regionOfKey(k) ?? regionOfKey(arn)) === regionOfKey(arn));
  }

  private async send<T>(
    keyId: string,
    operation: string,
    call: (client: ReturnType<KmsClientFactory>) => Promise<T>,
    region = regionOfKey(keyId),
  ): Promise<T> {
    try {
      return await call(this.clients(region));
    } catch (e) {
      throw kmsError(e, { operation, keyId, ...(keyId.startsWith('arn:') && keyId.includes(':key/') ? { keyArn: keyId } : {}), ...(keyId.includes('alias/') ? { alias: keyId } : {}), ...(region ? { region } : {}) });
    }
  }
}

function kmsEdk(keyArn: string, ciphertext: Uint8Array): EncryptedDataKey {
  return { providerId: KMS_PROVIDER_ID, providerInfo: Buffer.from(keyArn, 'utf8'), ciphertext: Buffer.from(ciphertext) };
}

/**
 * Whether a configured key id (not an ARN) names the key in a stored ARN. A configured ARN names only itself (or, for a
 * multi-Region key, its replicas: mrkMatchForDecrypt): the same key id in another account or Region is another key,
 * and calling Decrypt on it would tell that account who is decrypting.
 */
function sameKey(configured: string, arn: string): boolean {
  if (configured.startsWith('arn:')) return false;
  return configured === arn.slice(arn.indexOf(':key/') + 5);
}
