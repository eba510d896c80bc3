import type { ErrorCode } from '../../../shared/errors.js';
import { KenvError } from '../errors.js';
import type { EncryptedDataKey, UnwrapAttempt } from './types.js';

/** A person-readable name for a wrapped data key: the KMS key ARN or the raw AES namespace/name. */
export function describeEdk(edk: EncryptedDataKey): string {
  if (edk.providerId === 'aws-kms') return edk.providerInfo.toString('utf8');
  if (edk.providerId === 'aws-kms-rsa') return `KMS RSA key ${edk.providerInfo.toString('utf8')}`;
  // Raw AES provider info is name || u32(128) || u32(12) || IV(12); a raw RSA key's is the name alone.
  const info = edk.providerInfo;
  const at = info.length - 20;
  if (at > 0 && info.readUInt32BE(at) === 128 && info.readUInt32BE(at + 4) === 12) {
    return `raw AES key ${edk.providerId}/${info.subarray(0, at).toString('utf8')}`;
  }
  return `raw RSA key ${edk.providerId}/${info.toString('utf8')}`;
}

/**
 * The error for "no keyring could open any data key": which keys were tried and why each failed.
 *
 * When every attempt failed for the same reason (one key, denied), the error keeps that specific code so the
 * person gets the specific fix; otherwise it is NO_KEY_OPENED with the whole list.
 */
export function noKeyOpened(edks: readonly EncryptedDataKey[], attempts: readonly UnwrapAttempt[]): KenvError {
  if (attempts.length === 0) {
    const holders = [...new Set(edks.map(describeEdk))].join('; ');
    return new KenvError(
      'NO_KEY_OPENED',
      `None of the given keys can open this file: its data key is wrapped only for ${holders}. Decrypt with one of those keys (for raw AES: --raw-aes-key, --raw-aes-namespace, --raw-aes-name; for raw RSA: --raw-rsa-key with the private key, --raw-rsa-namespace, --raw-rsa-name, --raw-rsa-padding).`,
    );
  }
  const codes = new Set<ErrorCode>(attempts.map((a) => a.code));
  const [only] = codes;
  if (codes.size === 1 && only && only !== 'NO_KEY_OPENED') {
    const reasons = attempts.map((a) => a.reason).join(' Also: ');
    return new KenvError(only, reasons);
  }
  const tried = attempts.map((a) => `${a.key}: ${a.reason}`).join('; ');
  return new KenvError('NO_KEY_OPENED', `No key could open this file's data key. Tried ${tried}.`);
}
