/**
 * Preflight: before a file is written, prove that this identity can open it again.
 *
 * For every new message, each encrypted data key about to be stored is handed to KMS Decrypt with `DryRun`: KMS
 * checks the caller's kms:Decrypt permission and the key's state and answers DryRunOperationException ("would have
 * succeeded") without returning the key. A server that ignores DryRun (older emulators; moto 5 does) answers with
 * the plaintext key instead: that is also a yes, and the key is zeroed at once. Nothing is written when no data
 * key would open, so nobody encrypts files they cannot decrypt.
 */
import { DecryptCommand } from '@aws-sdk/client-kms';
import type { ErrorCode } from '../../../shared/errors.js';
import { KenvError } from '../errors.js';
import { KMS_PROVIDER_ID } from '../keyring/kms-keyring.js';
import { describeEdk } from '../keyring/attempts.js';
import type { EncryptedDataKey, EncryptionContext, Keyring, UnwrapRequest, WrapRequest } from '../keyring/types.js';
import { type KmsClientFactory, regionOfKey } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';

/** Whether one encrypted data key would open for this identity. */
export type DecryptCheck =
  | { key: string; ok: true; how: 'dry-run' | 'dry-run-ignored' | 'local-key' }
  | { key: string; ok: false; code: ErrorCode; reason: string; error: KenvError };

/**
 * Asks KMS Decrypt with DryRun whether `ciphertext` (a data key under `keyArn`) would decrypt with `context`.
 *
 * Never returns key material: a plaintext a server sends back anyway is zeroed before this returns.
 */
export async function dryRunDecrypt(clients: KmsClientFactory, keyArn: string, ciphertext: Uint8Array, context: EncryptionContext): Promise<DecryptCheck> {
  const region = regionOfKey(keyArn);
  try {
    const out = await clients(region).send(
      new DecryptCommand({ KeyId: keyArn, CiphertextBlob: ciphertext, EncryptionContext: context, DryRun: true }),
    );
    out.Plaintext?.fill(0);
    return { key: keyArn, ok: true, how: 'dry-run-ignored' };
  } catch (e) {
    if ((e as { name?: string } | undefined)?.name === 'DryRunOperationException') return { key: keyArn, ok: true, how: 'dry-run' };
    const error = kmsError(e, { operation: 'Decrypt', keyArn, ...(region ? { region } : {}) });
    return { key: keyArn, ok: false, code: error.code, reason: error.message, error };
  }
}

/**
 * Checks the data keys of a message about to be written; stops at the first that would open.
 *
 * A data key wrapped by a local (raw AES) key counts as openable: the key is in hand.
 */
export async function preflightDataKeys(clients: KmsClientFactory, edks: readonly EncryptedDataKey[], context: EncryptionContext): Promise<DecryptCheck[]> {
  const checks: DecryptCheck[] = [];
  for (const edk of edks) {
    if (edk.providerId !== KMS_PROVIDER_ID) {
      checks.push({ key: describeEdk(edk), ok: true, how: 'local-key' });
      return checks;
    }
    const check = await dryRunDecrypt(clients, edk.providerInfo.toString('utf8'), edk.ciphertext, context);
    checks.push(check);
    if (check.ok) return checks;
  }
  return checks;
}

/** Transient failures that say nothing about permission: retried by the caller (a batch retries throttled files). */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['KMS_THROTTLED', 'NETWORK_UNREACHABLE']);

/**
 * A keyring that refuses to hand out a data key unless this identity could decrypt one of its wrapped copies.
 *
 * Put it under the data key cache: a cached data key is then checked once, not once per file.
 */
export class PreflightKeyring implements Keyring {
  constructor(
    private readonly inner: Keyring,
    private readonly clients: KmsClientFactory,
  ) {}

  async wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    const wrapped = await this.inner.wrapDataKey(req);
    let checks: DecryptCheck[];
    try {
      checks = await preflightDataKeys(this.clients, wrapped.edks, req.context);
    } catch (e) {
      wrapped.dataKey.fill(0);
      throw e;
    }
    if (checks.some((c) => c.ok)) return wrapped;
    wrapped.dataKey.fill(0);
    throw preflightFailed(checks);
  }

  unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    return this.inner.unwrapDataKey(req);
  }
}

function preflightFailed(checks: DecryptCheck[]): KenvError {
  const failures = checks.filter((c): c is Extract<DecryptCheck, { ok: false }> => !c.ok);
  const transient = failures.find((f) => TRANSIENT.has(f.code));
  if (transient) return transient.error;
  const code = failures.find((f) => f.code === 'KMS_ACCESS_DENIED')?.code ?? failures[0]?.code ?? 'KMS_ACCESS_DENIED';
  const keys = failures.map((f) => f.key).join(', ');
  const reasons = failures.map((f) => `${f.key}: ${f.reason}`).join(' ');
  return new KenvError(
    code,
    `Preflight stopped the encryption: this identity could not decrypt the file it was about to write under any of its keys (${keys}); ` +
      `it lacks kms:Decrypt on them (or they cannot decrypt now). Nothing was written. ${reasons} ` +
      'Ask the key administrator to allow kms:Decrypt for this identity, add a key you can decrypt with (--key), or pass --no-preflight to encrypt anyway.',
  );
}
