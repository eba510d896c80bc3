import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { KenvError } from '../errors.js';
import type { EncryptionContext } from '../keyring/types.js';
import { type KmsClientFactory, regionOfKey } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';

/** KMS Encrypt takes at most 4,096 bytes of plaintext. */
export const MAX_SECRET_BYTES = 4096;

export interface SealOptions {
  /** Key id, key ARN, alias name or alias ARN; an ARN picks its own Region. */
  keyId: string;
  context?: EncryptionContext;
  clients: KmsClientFactory;
}

export interface SealedSecret {
  /** The KMS ciphertext blob, base64. */
  sealed: string;
  /** The ARN of the key that sealed it. */
  keyArn: string;
}

/**
 * Seals a small secret (a password, a token) with KMS Encrypt directly: no envelope, no data key.
 *
 * The sealed text is the ciphertext blob in base64, for config files. Over 4,096 bytes is SECRET_TOO_LARGE pointing
 * to `kenv encrypt`; an empty secret is INVALID_ARGUMENT. The encryption context must be given again to unseal.
 */
export async function sealSecret(secret: Uint8Array, opts: SealOptions): Promise<SealedSecret> {
  if (secret.length > MAX_SECRET_BYTES) {
    throw new KenvError(
      'SECRET_TOO_LARGE',
      `The secret is ${secret.length} bytes, and KMS Encrypt seals at most ${MAX_SECRET_BYTES}. ` +
        `Save it to a file and encrypt that instead: kenv encrypt FILE --key ${opts.keyId}`,
    );
  }
  if (secret.length === 0) throw new KenvError('INVALID_ARGUMENT', 'The secret is empty: pipe it on standard input, e.g. printf %s "$TOKEN" | kenv seal --key KEY.');
  const region = regionOfKey(opts.keyId);
  const client = opts.clients(region);
  try {
    const out = await client.send(new EncryptCommand({
      KeyId: opts.keyId, Plaintext: secret, ...(opts.context && Object.keys(opts.context).length ? { EncryptionContext: opts.context } : {}),
    }));
    if (!out.CiphertextBlob || !out.KeyId) throw new KenvError('KMS_ERROR', `KMS Encrypt under ${opts.keyId} returned an incomplete answer.`);
    return { sealed: Buffer.from(out.CiphertextBlob).toString('base64'), keyArn: out.KeyId };
  } catch (e) {
    const r = region ?? (await clientRegion(client));
    throw kmsError(e, { operation: 'Encrypt', keyId: opts.keyId, ...(r ? { region: r } : {}) });
  }
}

export interface UnsealOptions {
  /** The key it must be sealed under (KMS checks it); an ARN picks the Region. Optional: the blob names its key. */
  keyId?: string;
  context?: EncryptionContext;
  clients: KmsClientFactory;
}

/**
 * Opens a secret sealed by sealSecret (or by any KMS Encrypt whose blob was base64-encoded) with KMS Decrypt.
 *
 * Whitespace around the text is ignored. Text that is not base64 is INVALID_ARGUMENT; a wrong encryption context is
 * KMS_INVALID_CIPHERTEXT; a key other than the one given is KMS_INCORRECT_KEY.
 */
export async function unsealSecret(sealed: string, opts: UnsealOptions): Promise<{ secret: Buffer; keyArn: string }> {
  const text = sealed.trim();
  if (!text || !/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new KenvError('INVALID_ARGUMENT', 'The input is not a sealed secret: kenv unseal reads the base64 text that kenv seal printed.');
  }
  const region = opts.keyId ? regionOfKey(opts.keyId) : undefined;
  const client = opts.clients(region);
  try {
    const out = await client.send(new DecryptCommand({
      CiphertextBlob: Buffer.from(text, 'base64'),
      ...(opts.keyId ? { KeyId: opts.keyId } : {}),
      ...(opts.context && Object.keys(opts.context).length ? { EncryptionContext: opts.context } : {}),
    }));
    if (!out.Plaintext) throw new KenvError('KMS_ERROR', 'KMS Decrypt returned no plaintext.');
    const secret = Buffer.from(out.Plaintext);
    out.Plaintext.fill(0);
    return { secret, keyArn: out.KeyId ?? '' };
  } catch (e) {
    const r = region ?? (await clientRegion(client));
    throw kmsError(e, { operation: 'Decrypt', ...(opts.keyId ? { keyId: opts.keyId } : {}), ...(r ? { region: r } : {}) });
  }
}

async function clientRegion(client: { config: { region: () => Promise<string> } }): Promise<string | undefined> {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
}
