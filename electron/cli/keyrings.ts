import { KenvError } from '../core/errors.js';
import { KmsKeyring } from '../core/keyring/kms-keyring.js';
import { type AttemptingKeyring, MultiKeyring } from '../core/keyring/multi-keyring.js';
import { RawAesKeyring } from '../core/keyring/raw-aes-keyring.js';
import { RawRsaKeyring } from '../core/keyring/raw-rsa-keyring.js';
import { RSA_PADDINGS, isRsaPadding } from '../core/keyring/rsa.js';
import { defaultKmsClientFactory } from '../core/kms/client.js';
import { readRawAesKey, readRsaKey } from './options.js';

export interface KeyOptions {
  key?: string[];
  rawAesKey?: string;
  rawAesNamespace?: string;
  rawAesName?: string;
  rawRsaKey?: string;
  rawRsaNamespace?: string;
  rawRsaName?: string;
  rawRsaPadding?: string;
  profile?: string;
  region?: string;
}

/**
 * The keyring the CLI's flags describe: KMS keys (`--key`, in order) and/or one raw AES key.
 *
 * On decrypt without `--key`, KMS data keys are tried with the ARN stored in the file.
 */
export async function keyringFromOptions(opts: KeyOptions, purpose: 'encrypt' | 'decrypt'): Promise<MultiKeyring> {
  const keyrings: AttemptingKeyring[] = [];
  const raw = [opts.rawAesKey, opts.rawAesNamespace, opts.rawAesName];
  if (raw.some(Boolean) && !raw.every(Boolean)) {
    throw new KenvError('INVALID_ARGUMENT', 'A raw AES key needs all three of --raw-aes-key FILE, --raw-aes-namespace NS and --raw-aes-name NAME.');
  }
  const clients = defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
  if (opts.key?.length) keyrings.push(new KmsKeyring({ keyIds: opts.key, clients }));
  if (opts.rawAesKey && opts.rawAesNamespace && opts.rawAesName) {
    keyrings.push(new RawAesKeyring({ namespace: opts.rawAesNamespace, name: opts.rawAesName, key: await readRawAesKey(opts.rawAesKey) }));
  }
  const rsa = [opts.rawRsaKey, opts.rawRsaNamespace, opts.rawRsaName, opts.rawRsaPadding];
  if (rsa.some(Boolean)) {
    if (!opts.rawRsaKey || !opts.rawRsaNamespace || !opts.rawRsaName || !opts.rawRsaPadding) {
      throw new KenvError(
        'INVALID_ARGUMENT',
        `A raw RSA key needs all four of --raw-rsa-key FILE.pem, --raw-rsa-namespace NS, --raw-rsa-name NAME and --raw-rsa-padding (${RSA_PADDINGS.join('|')}).`,
      );
    }
    if (!isRsaPadding(opts.rawRsaPadding)) {
      throw new KenvError('INVALID_ARGUMENT', `--raw-rsa-padding must be one of ${RSA_PADDINGS.join(', ')}; "${opts.rawRsaPadding}" is not.`);
    }
    const key = await readRsaKey(opts.rawRsaKey);
    if (purpose === 'decrypt' && !key.privateKey) {
      throw new KenvError('INVALID_KEY', `Decrypting with a raw RSA key needs the private key; ${opts.rawRsaKey} holds only a public key.`);
    }
    // The keyring never derives a public key from a private one (ESDK specification); the CLI accepts a private
    // PEM on encrypt for convenience and hands the keyring only its public half.
    const keys = purpose === 'encrypt' ? { publicKey: key.publicKey } : key.privateKey ? { privateKey: key.privateKey } : {};
    keyrings.push(new RawRsaKeyring({ namespace: opts.rawRsaNamespace, name: opts.rawRsaName, padding: opts.rawRsaPadding, ...keys }));
  }
  if (purpose === 'decrypt' && !opts.key?.length) keyrings.push(new KmsKeyring({ clients }));
  if (keyrings.length === 0) {
    throw new KenvError('INVALID_ARGUMENT', 'Encrypting needs a key: pass --key KEY (a KMS key id, ARN, alias/NAME or alias ARN) or a raw AES key.');
  }
  return new MultiKeyring(keyrings);
}
