import { KenvError } from '../core/errors.js';
import { readFile } from 'node:fs/promises';
import { errnoText } from '../core/atomic-output.js';
import type { UnwrapAttempt, UnwrapRequest, WrapRequest, EncryptedDataKey } from '../core/keyring/types.js';
import { KMS_PROVIDER_ID, KMS_RSA_PROVIDER_ID } from '../core/kms/key-ids.js';
import { checkAccountIds } from '../core/kms/trust.js';
import { type AttemptingKeyring, MultiKeyring } from '../core/keyring/multi-keyring.js';
import { RawAesKeyring } from '../core/keyring/raw-aes-keyring.js';
import { RawRsaKeyring } from '../core/keyring/raw-rsa-keyring.js';
import { RSA_PADDINGS, isRsaPadding } from '../core/keyring/rsa.js';
import type { KmsClientFactory } from '../core/kms/client.js';
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
  /** Recipient files of KMS RSA keys (encrypt, offline). */
  recipient?: string[];
  /** Accounts whose KMS keys a decrypt may call, besides the identity's own. */
  trustAccount?: string[];
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
  // The AWS SDK loads only for a command that names KMS keys or meets a KMS data key (see DeferredKeyring).
  let factory: Promise<KmsClientFactory> | undefined;
  const clients = (): Promise<KmsClientFactory> =>
    (factory ??= import('../core/kms/client.js').then((m) => m.defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) })));
  if (opts.key?.length) {
    const { KmsKeyring } = await import('../core/keyring/kms-keyring.js');
    keyrings.push(new KmsKeyring({ keyIds: opts.key, clients: await clients() }));
  }
  if (opts.recipient?.length && purpose === 'decrypt') {
    throw new KenvError('INVALID_ARGUMENT', '--recipient is for encrypting; a file made for a recipient decrypts with the KMS key it names (no flag needed).');
  }
  for (const file of opts.recipient ?? []) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new KenvError('INVALID_KEY', `Cannot read the recipient file ${file}: ${errnoText(e, 'read')}.`, { cause: e });
    }
    const [{ KmsRsaKeyring }, { parseRecipient }] = await Promise.all([import('../core/keyring/kms-rsa-keyring.js'), import('../core/keyring/recipient.js')]);
    keyrings.push(new KmsRsaKeyring(parseRecipient(text, `The recipient file ${file}`)));
  }
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
  if (purpose === 'decrypt') {
    const keyArns = (opts.key ?? []).filter((k) => k.startsWith('arn:') && k.includes(':key/'));
    if (opts.key?.length) {
      if (keyArns.length) {
        const { KmsRsaDiscoveryKeyring } = await import('../core/keyring/kms-rsa-keyring.js');
        keyrings.push(new KmsRsaDiscoveryKeyring({ clients: await clients(), keyArns }));
      }
    } else {
      const listed = opts.trustAccount ?? [];
      checkAccountIds(listed);
      keyrings.push(
        new DeferredKeyring([KMS_PROVIDER_ID, KMS_RSA_PROVIDER_ID], async () => {
          const [{ trustedAccountsOf }, { KmsKeyring }, { KmsRsaDiscoveryKeyring }] = await Promise.all([
            import('../core/kms/trust.js'),
            import('../core/keyring/kms-keyring.js'),
            import('../core/keyring/kms-rsa-keyring.js'),
          ]);
          const { trust, region } = await trustedAccountsOf({ profile: opts.profile, region: opts.region, listed });
          const kms = await clients();
          return [new KmsKeyring({ clients: kms, trust, ...(region ? { region } : {}) }), new KmsRsaDiscoveryKeyring({ clients: kms, trust })];
        }),
      );
    }
  } else if (opts.trustAccount?.length) {
    throw new KenvError('INVALID_ARGUMENT', '--trust-account is for decrypting: it names accounts whose KMS keys Kenv may call for a file.');
  }
  if (keyrings.length === 0) {
    throw new KenvError('INVALID_ARGUMENT', 'Encrypting needs a key: pass --key KEY (a KMS key id, ARN, alias/NAME or alias ARN) or a raw AES key.');
  }
  return new MultiKeyring(keyrings);
}

/**
 * Keyrings made only when a message holds a data key for them: a decrypt with a raw key of a file that has no KMS
 * data key never loads the AWS SDK nor reads the AWS profile. They are tried in order, as a MultiKeyring would.
 */
export class DeferredKeyring implements AttemptingKeyring {
  private loaded: Promise<AttemptingKeyring[]> | undefined;

  constructor(
    private readonly providerIds: readonly string[],
    private readonly load: () => Promise<AttemptingKeyring[]>,
  ) {}

  private keyrings(): Promise<AttemptingKeyring[]> {
    return (this.loaded ??= this.load());
  }

  async wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    const [first] = await this.keyrings();
    if (!first) throw new KenvError('INVALID_ARGUMENT', 'No key was given to encrypt with.');
    return first.wrapDataKey(req);
  }

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    return new MultiKeyring(await this.keyrings()).unwrapDataKey(req);
  }

  async tryUnwrap(req: UnwrapRequest): Promise<Buffer | UnwrapAttempt[]> {
    // The keyrings behind this one skip every data key of another provider: with none of theirs, nothing to load.
    if (!req.edks.some((edk) => this.providerIds.includes(edk.providerId))) return [];
    const attempts: UnwrapAttempt[] = [];
    for (const keyring of await this.keyrings()) {
      const result = await keyring.tryUnwrap(req);
      if (Buffer.isBuffer(result)) return result;
      attempts.push(...result);
    }
    return attempts;
  }
}
