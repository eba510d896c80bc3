import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { KenvError } from '../errors.js';
import { formatRecipient } from '../keyring/recipient.js';
import type { KmsRsaAlgorithm } from '../keyring/rsa.js';
import { type KmsClientFactory, regionOfKey } from './client.js';
import { kmsError } from './errors.js';

/**
 * Fetches an RSA `ENCRYPT_DECRYPT` key's public key (KMS GetPublicKey) and returns its recipient file text.
 *
 * Refuses symmetric keys, signing keys and keys that do not offer the algorithm, each with what to do instead.
 */
export async function recipientFileFor(clients: KmsClientFactory, keyId: string, algorithm: KmsRsaAlgorithm): Promise<{ keyArn: string; text: string }> {
  const region = regionOfKey(keyId);
  let out;
  try {
    out = await clients(region).send(new GetPublicKeyCommand({ KeyId: keyId }));
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'UnsupportedOperationException' || name === 'InvalidKeyUsageException') {
      throw new KenvError(
        'INVALID_KEY',
        `${keyId} has no public key: it is a symmetric KMS key. A recipient file needs an RSA key with key usage ENCRYPT_DECRYPT ` +
          '(aws kms create-key --key-spec RSA_3072 --key-usage ENCRYPT_DECRYPT); symmetric keys encrypt with --key.',
        { cause: e },
      );
    }
    throw kmsError(e, { operation: 'GetPublicKey', keyId, ...(keyId.includes('alias/') ? { alias: keyId } : {}), ...(region ? { region } : {}) });
  }
  const keyArn = out.KeyId ?? '';
  if (out.KeyUsage !== 'ENCRYPT_DECRYPT') {
    throw new KenvError(
      'INVALID_KEY',
      `${keyId} is a ${out.KeyUsage ?? 'non-encryption'} (signing) key, so files cannot be encrypted for it. Use an RSA key with key usage ENCRYPT_DECRYPT.`,
    );
  }
  if (!/^RSA_/.test(out.KeySpec ?? '')) {
    throw new KenvError('INVALID_KEY', `${keyId} is a ${out.KeySpec ?? 'non-RSA'} key; a recipient file needs an RSA key (RSA_2048, RSA_3072 or RSA_4096).`);
  }
  if (!out.EncryptionAlgorithms?.includes(algorithm)) {
    throw new KenvError('INVALID_KEY', `${keyId} does not offer ${algorithm} (it offers ${out.EncryptionAlgorithms?.join(', ') || 'none'}).`);
  }
  if (!out.PublicKey || !keyArn) throw new KenvError('KMS_ERROR', `KMS GetPublicKey for ${keyId} returned an incomplete answer.`);
  return { keyArn, text: formatRecipient(keyArn, algorithm, out.PublicKey) };
}
