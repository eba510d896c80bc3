import { open } from 'node:fs/promises';
import { relative } from 'node:path';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, type ParsedHeader } from '../format/header.js';
import type { EncryptedDataKey } from '../keyring/types.js';
import { KMS_PROVIDER_ID } from '../keyring/kms-keyring.js';
import type { OpenCheck, VerifiedFile } from '../../../shared/ipc.js';
import { KenvError } from '../errors.js';
import { inspectFile } from '../files.js';
import { readHeaderFrom } from '../inspect.js';
import { KmsKeyring } from '../keyring/kms-keyring.js';
import { KmsRsaDiscoveryKeyring } from '../keyring/kms-rsa-keyring.js';
import { MultiKeyring } from '../keyring/multi-keyring.js';
import type { KmsClientFactory } from '../kms/client.js';
import type { TrustedAccounts } from '../kms/trust.js';
import { preflightDataKeys } from '../preflight/preflight.js';
import { verifyTargets } from '../verify/verify.js';
import type { Grants } from './grants.js';
import type { HandlerRegistry } from './registry.js';
import type { VaultOps } from './services.js';
import type { VaultSyncService } from './vault-sync-service.js';

/** What limits a check before any KMS call: the same cap and trusted accounts a decrypt applies. */
export interface CanOpenLimits {
  /** The most encrypted data keys a file may carry (TOO_MANY_DATA_KEYS beyond); absent: the default. */
  maxDataKeys?: number | undefined;
  /** Whose keys may be asked about; a key elsewhere is reported, never sent to KMS. Absent: every account. */
  trust?: TrustedAccounts | undefined;
}

/**
 * Whether this identity could open `path`: KMS Decrypt with DryRun on each of its KMS data keys until one would.
 *
 * A DryRun call is logged in CloudTrail like a real one, so a hostile header gets the decrypt's own limits first:
 * too many data keys fail before any call, and keys in accounts that are not trusted are never asked about.
 */
export async function canOpenFile(path: string, clients: KmsClientFactory, limits: CanOpenLimits = {}): Promise<OpenCheck> {
  await inspectFile(path); // the same errors as the details for a file that is not a .kenv
  const header = await readHeaderOf(path, limits.maxDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS);
  const keys: OpenCheck['keys'] = [];
  const askable: EncryptedDataKey[] = [];
  for (const edk of header.encryptedDataKeys) {
    const refusal = edk.providerId === KMS_PROVIDER_ID ? await limits.trust?.refusal(edk.providerInfo.toString('utf8')) : undefined;
    if (refusal !== undefined) keys.push({ key: edk.providerInfo.toString('utf8'), ok: false, code: 'UNTRUSTED_KEY_ACCOUNT', reason: refusal });
    else askable.push(edk);
  }
  const checks = await preflightDataKeys(clients, askable, header.encryptionContext);
  keys.push(...checks.map((c) => (c.ok ? { key: c.key, ok: true } : { key: c.key, ok: false, code: c.code, reason: c.reason })));
  return { canOpen: checks.some((c) => c.ok), keys };
}

/**
 * Check vault: every .kenv in the folder authenticated, nothing written; paths relative to the folder.
 *
 * Keys are opened as the app's decrypt opens them (KMS and KMS RSA discovery, filtered by the trusted accounts, the
 * identity's Region first for multi-Region keys), under the same cap on data keys.
 */
export async function verifyVaultFolder(folder: string, clients: KmsClientFactory, limits: CanOpenLimits & { region?: string | undefined } = {}): Promise<VerifiedFile[]> {
  const discovery = { clients, ...(limits.trust ? { trust: limits.trust } : {}) };
  const keyring = new MultiKeyring([new KmsKeyring({ ...discovery, ...(limits.region ? { region: limits.region } : {}) }), new KmsRsaDiscoveryKeyring(discovery)]);
  const results = await verifyTargets([folder], { keyring, ...(limits.maxDataKeys !== undefined ? { maxEncryptedDataKeys: limits.maxDataKeys } : {}) });
  return results.map((r) => ({ path: relative(folder, r.target) || r.target, ok: r.ok, error: r.ok ? null : r.error }));
}

/** Registers `files:canOpen` and `vault:verify` (issue 13). */
export function registerProofHandlers(registry: HandlerRegistry, vault: VaultOps, vaults: VaultSyncService, grants: Grants): void {
  registry.handle('files:canOpen', async (request) => {
    const path = await grants.require(request.path, 'read');
    if (!vault.canOpen) throw new KenvError('NOT_ALLOWED', 'This build cannot check access before decrypting.');
    return vault.canOpen(path);
  });
  registry.handle('vault:verify', async () => {
    const folder = (await vaults.current()).binding?.folder;
    if (!folder) throw new KenvError('INVALID_ARGUMENT', 'No vault folder is bound: bind a folder in the vault panel first.');
    if (!vault.verifyFolder) throw new KenvError('NOT_ALLOWED', 'This build cannot check a vault.');
    return vault.verifyFolder(folder);
  });
}

async function readHeaderOf(path: string, maxEncryptedDataKeys: number): Promise<ParsedHeader> {
  const handle = await open(path, 'r');
  try {
    const { header } = await readHeaderFrom(handle, { maxEncryptedDataKeys });
    if (!header) throw new KenvError('TRUNCATED_HEADER', `${path} ends inside its message header: it was cut short.`);
    return header;
  } finally {
    await handle.close();
  }
}
