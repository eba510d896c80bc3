import type { ErrorCode } from '../../../shared/errors.js';
import { KenvError } from '../errors.js';
import type { EncryptedDataKey, UnwrapAttempt } from './types.js';

/** A person-readable name for a wrapped data key: the KMS key ARN or the raw AES namespace/name. */
export function describeEdk(edk: EncryptedDataKey): string {
  if (edk.providerId === 'aws-kms') return edk.providerInfo.toString('utf8');
  // Raw AES provider info is name || u32 || u32 || IV(12): the name is all but the last 20 bytes.
  const name = edk.providerInfo.length > 20 ? edk.providerInfo.subarray(0, edk.providerInfo.length - 20).toString('utf8') : '?';
  return `raw AES key ${edk.providerId}/${name}`;
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
      `None of the given keys can open this file: its data key is wrapped only for ${holders}. Decrypt with one of those keys (for raw AES: --raw-aes-key, --raw-aes-namespace, --raw-aes-name).`,
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
