import { type CommandIo, fail } from '../aws/command.js';
import { toErrorInfo } from '../errors.js';
import { KmsKeyring } from '../keyring/kms-keyring.js';
import { KmsRsaDiscoveryKeyring } from '../keyring/kms-rsa-keyring.js';
import { MultiKeyring } from '../keyring/multi-keyring.js';
import { defaultKmsClientFactory, type KmsClientFactory } from '../kms/client.js';
import { trustedAccountsOf } from '../kms/trust.js';
import { rewrapFile } from './rewrap.js';

/**
 * `kenv rewrap FILE.kenv... --to-key KEY [--to-key KEY2] [--keep-old]`: moves files to other KMS keys in place.
 *
 * The current data key is opened in discovery mode (the key ARN stored in each file), filtered by the trusted
 * accounts as decrypt is: a key elsewhere fails with UNTRUSTED_KEY_ACCOUNT before any KMS call. Every file is
 * reported; the exit code is 1 when any failed.
 */
export async function runRewrapCommand(
  opts: {
    files: string[]; toKey: string[]; keepOld?: boolean; profile?: string; region?: string; clients?: KmsClientFactory;
    /** Accounts whose KMS keys may be called besides the identity's own (`--trust-account`). */
    trustAccount?: string[];
    maxDataKeys?: number;
  },
  io: CommandIo,
): Promise<number> {
  try {
    const clients = opts.clients ?? defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
    const { trust, region } = await trustedAccountsOf({ profile: opts.profile, region: opts.region, listed: opts.trustAccount ?? [] });
    const from = new MultiKeyring([new KmsKeyring({ clients, trust, ...(region ? { region } : {}) }), new KmsRsaDiscoveryKeyring({ clients, trust })]);
    const to = new KmsKeyring({ keyIds: opts.toKey, clients });
    let failed = 0;
    for (const file of opts.files) {
      try {
        const r = await rewrapFile(file, {
          from, to, keepOld: !!opts.keepOld, newDataKeys: opts.toKey.length,
          ...(opts.maxDataKeys !== undefined ? { maxEncryptedDataKeys: opts.maxDataKeys } : {}),
        });
        io.err(`${file}: rewrapped to ${opts.toKey.join(', ')}${opts.keepOld ? ' (old keys kept)' : ''}${r.signed ? ', re-signed' : ''}.`);
      } catch (e) {
        failed += 1;
        const info = toErrorInfo(e);
        io.err(`kenv: ${file}: ${info.message} [${info.code}]`);
      }
    }
    return failed ? 1 : 0;
  } catch (e) {
    return fail(e, io);
  }
}
