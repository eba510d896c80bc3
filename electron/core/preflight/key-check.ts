import { DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, GenerateDataKeyWithoutPlaintextCommand } from '@aws-sdk/client-kms';
import type { ErrorCode } from '../../../shared/errors.js';
import type { CommandIo } from '../aws/command.js';
import { KenvError, toErrorInfo } from '../errors.js';
import type { EncryptionContext } from '../keyring/types.js';
import { type KmsClientFactory, defaultKmsClientFactory, isKeyReference, regionOfKey } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';
import { dryRunDecrypt } from './preflight.js';

/** One action this identity may or may not perform with a key. */
export interface ActionCheck {
  action: string;
  allowed: boolean;
  /** How it was found out: a DryRun KMS answered, or a real call. */
  how: string;
  code?: ErrorCode;
  reason?: string;
}

export interface KeyCheckReport {
  key: string;
  keyArn?: string;
  state?: string;
  checks: ActionCheck[];
  /** GenerateDataKeyWithoutPlaintext made a data key and Decrypt (DryRun) would open it: files under this key round-trip. */
  roundTrip: boolean;
  /** GenerateDataKey (DryRun) is allowed: this identity can encrypt files under the key. */
  canEncrypt: boolean;
}

/**
 * What this identity may do with a key, proved without ever receiving a plaintext key.
 *
 * GenerateDataKey and Encrypt are asked with DryRun. Then the round trip the AWS KMS documentation describes for data
 * keys used "later": GenerateDataKeyWithoutPlaintext returns only an encrypted data key, and Decrypt with DryRun on
 * it says whether this identity could open it. A server that ignores DryRun and answers with key material has that
 * material zeroed at once.
 */
export async function checkKey(keyId: string, clients: KmsClientFactory, context: EncryptionContext = {}): Promise<KeyCheckReport> {
  if (!isKeyReference(keyId)) {
    throw new KenvError('INVALID_KEY', `"${keyId}" is not a KMS key reference: give a key id, a key ARN, an alias name (alias/…) or an alias ARN.`);
  }
  const region = regionOfKey(keyId);
  const client = clients(region);
  const ctx = { keyId, ...(keyId.includes('alias/') ? { alias: keyId } : {}), ...(region ? { region } : {}) };
  const report: KeyCheckReport = { key: keyId, checks: [], roundTrip: false, canEncrypt: false };
  const denied = (action: string, how: string, e: unknown): ActionCheck => {
    const error = kmsError(e, { ...ctx, operation: action.replace('kms:', '') });
    if (error.code === 'KMS_THROTTLED' || error.code === 'NETWORK_UNREACHABLE' || error.code === 'NO_CREDENTIALS' || error.code === 'SSO_EXPIRED' || error.code === 'NO_REGION') throw error;
    return { action, allowed: false, how, code: error.code, reason: error.message };
  };

  try {
    const meta = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    if (meta?.Arn) report.keyArn = meta.Arn;
    if (meta?.KeyState) report.state = meta.KeyState;
    report.checks.push({ action: 'kms:DescribeKey', allowed: true, how: 'call' });
  } catch (e) {
    report.checks.push(denied('kms:DescribeKey', 'call', e));
  }

  const generate = await dryRunCall(() => client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context, DryRun: true })));
  report.checks.push(generate === true ? { action: 'kms:GenerateDataKey', allowed: true, how: 'DryRun' } : denied('kms:GenerateDataKey', 'DryRun', generate));
  report.canEncrypt = generate === true;

  const encrypt = await dryRunCall(() => client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(32), EncryptionContext: context, DryRun: true })));
  report.checks.push(encrypt === true ? { action: 'kms:Encrypt', allowed: true, how: 'DryRun' } : denied('kms:Encrypt', 'DryRun', encrypt));

  let blob: Uint8Array | undefined;
  let arn: string | undefined;
  try {
    const out = await client.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
    blob = out.CiphertextBlob;
    arn = out.KeyId;
    if (arn) report.keyArn ??= arn;
    report.checks.push({ action: 'kms:GenerateDataKeyWithoutPlaintext', allowed: true, how: 'call (no plaintext returned)' });
  } catch (e) {
    report.checks.push(denied('kms:GenerateDataKeyWithoutPlaintext', 'call', e));
  }
  if (blob && arn) {
    const decrypt = await dryRunDecrypt(clients, arn, blob, context);
    if (decrypt.ok) {
      report.checks.push({ action: 'kms:Decrypt', allowed: true, how: decrypt.how === 'dry-run' ? 'DryRun on that data key' : 'this KMS ignores DryRun; the key it returned was zeroed' });
      report.roundTrip = true;
    } else {
      if (decrypt.code === 'KMS_THROTTLED' || decrypt.code === 'NETWORK_UNREACHABLE') throw decrypt.error;
      report.checks.push({ action: 'kms:Decrypt', allowed: false, how: 'DryRun on that data key', code: decrypt.code, reason: decrypt.reason });
    }
  } else {
    report.checks.push({ action: 'kms:Decrypt', allowed: false, how: 'not tried: no data key to try it on', reason: 'GenerateDataKeyWithoutPlaintext was refused, so there was no encrypted data key to ask Decrypt about.' });
  }
  return report;
}

/** true when the call would succeed (DryRunOperationException, or a server that ignores DryRun), else the error. */
async function dryRunCall(send: () => Promise<{ Plaintext?: Uint8Array } | object>): Promise<true | unknown> {
  try {
    const out = await send();
    if ('Plaintext' in out) out.Plaintext?.fill(0);
    return true;
  } catch (e) {
    if ((e as { name?: string } | undefined)?.name === 'DryRunOperationException') return true;
    return e;
  }
}

/** `kenv keys check KEY... [--json]`: exit 0 when every key round-trips (encrypt and decrypt proven), else 1. */
export async function runKeyCheckCommand(
  opts: { keys: string[]; json?: boolean; context?: EncryptionContext; profile?: string; region?: string; clients?: KmsClientFactory },
  io: CommandIo,
): Promise<number> {
  const clients = opts.clients ?? defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
  const reports: KeyCheckReport[] = [];
  let failed = false;
  for (const key of opts.keys) {
    try {
      reports.push(await checkKey(key, clients, opts.context));
    } catch (e) {
      const info = toErrorInfo(e);
      io.err(`kenv: ${key}: ${info.message} [${info.code}]`);
      failed = true;
    }
  }
  if (opts.json) {
    io.out(JSON.stringify(reports, null, 2));
  } else {
    for (const r of reports) {
      io.out(`${r.key}${r.keyArn && r.keyArn !== r.key ? `  ${r.keyArn}` : ''}${r.state ? `  (${r.state})` : ''}`);
      for (const c of r.checks) {
        io.out(`  ${c.action.padEnd(38)} ${c.allowed ? 'allowed' : 'DENIED '}  ${c.how}${c.allowed ? '' : ` [${c.code ?? 'NOT_TRIED'}]`}`);
      }
      io.out(
        r.roundTrip && r.canEncrypt
          ? '  => this identity can encrypt files under this key and open them again.'
          : r.roundTrip
            ? '  => this identity can open files under this key, but not encrypt new ones (kms:GenerateDataKey is refused).'
            : '  => this identity could NOT open files encrypted under this key: kms:Decrypt (or the data key round trip) is refused.',
      );
      for (const c of r.checks) if (!c.allowed && c.reason) io.out(`     ${c.action}: ${c.reason}`);
    }
  }
  return failed || reports.some((r) => !r.roundTrip || !r.canEncrypt) ? 1 : 0;
}
