import { createPublicKey } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decryptFile, encryptFile, inspectFile } from '../files.js';
import { KmsKeyring } from '../keyring/kms-keyring.js';
import { KmsRsaDiscoveryKeyring, KmsRsaKeyring } from '../keyring/kms-rsa-keyring.js';
import type { Keyring } from '../keyring/types.js';
import { MultiKeyring } from '../keyring/multi-keyring.js';
import type { TrustedAccounts } from '../kms/trust.js';
import type { KmsClientFactory } from '../kms/client.js';
import { PreflightKeyring } from '../preflight/preflight.js';
import type { DataKeyCache } from '../kms/data-key-cache.js';
import { canOpenFile, verifyVaultFolder } from './proof.js';
import type { VaultOps } from './services.js';

/** What `coreVault` reads besides the KMS clients; each is optional. */
export interface CoreVaultOptions {
  cache?: DataKeyCache | undefined;
  /** The most encrypted data keys a file may carry (see the settings); absent: the default. */
  maxDataKeys?: () => Promise<number>;
  /** Whose keys a decrypt may call KMS for, and the home Region for multi-Region keys; absent: every account. */
  trust?: () => Promise<{ trust: TrustedAccounts; region: string | undefined }>;
}

/**
 * The vault operations over the core, with KMS keyrings built from key ids.
 *
 * Frame encryption and decryption already run on the core's worker pool, so the calling thread (Electron's main
 * process) only moves bytes and awaits KMS. `clients` is read on every call because switching profiles replaces it,
 * and `maxDataKeys` (the setting) on every decrypt.
 */
export function coreVault(clients: () => KmsClientFactory, { cache, maxDataKeys, trust }: CoreVaultOptions = {}): VaultOps {
  const sizeOf = (path: string) => stat(path).then((s) => s.size, () => 0);
  return {
    async encryptFile(inputPath, opts) {
      let keyring: Keyring;
      if (opts.recipient) {
        // Offline: the public key is all it takes. No KMS client is made, so no credentials or network are needed
        // (and no preflight: the sender cannot open what they make for someone else, by design).
        const { keyArn, algorithm, publicKeyPem } = opts.recipient;
        keyring = new KmsRsaKeyring({ keyArn, algorithm, publicKey: createPublicKey(publicKeyPem) });
      } else {
        // Preflight under the cache: a reused data key is checked once (nobody encrypts what they cannot open).
        const kms = new PreflightKeyring(new KmsKeyring({ keyIds: opts.keyIds, clients: clients() }), clients());
        keyring = cache ? cache.keyring(kms, opts.keyIds.join('\0'), await sizeOf(inputPath)) : kms;
      }
      const result = await encryptFile(inputPath, {
        keyring, context: opts.context, onProgress: opts.onProgress, signal: opts.signal, fileId: opts.fileId ?? true,
        ...(opts.outDir ? { outDir: opts.outDir } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(opts.outputName ? { outputPath: join(opts.outDir ?? dirname(inputPath), basename(opts.outputName)) } : {}),
        ...(opts.replacePath ? { outputPath: opts.replacePath, force: true } : {}),
      });
      return { outputPath: result.outputPath, bytesIn: result.bytesIn, bytesOut: result.bytesOut };
    },
    async decryptFile(inputPath, opts) {
      const filter = trust ? await trust() : undefined;
      const discovery = { clients: clients(), ...(filter ? { trust: filter.trust } : {}) };
      const kms = new MultiKeyring([
        new KmsKeyring({ ...discovery, ...(filter?.region ? { region: filter.region } : {}) }),
        new KmsRsaDiscoveryKeyring(discovery),
      ]);
      const keyring = cache ? cache.keyring(kms, '', await sizeOf(inputPath)) : kms;
      const maxEncryptedDataKeys = await maxDataKeys?.();
      const result = await decryptFile(inputPath, {
        keyring, onProgress: opts.onProgress, signal: opts.signal, ...(opts.force ? { force: true } : {}),
        ...(maxEncryptedDataKeys !== undefined ? { maxEncryptedDataKeys } : {}),
        ...(opts.outDir ? { outDir: opts.outDir } : {}),
        ...(opts.outputName ? { outputPath: join(opts.outDir ?? dirname(inputPath), basename(opts.outputName)) } : {}),
      });
      return { outputPath: result.outputPath, bytesOut: result.bytesOut };
    },
    canOpen: async (path) => canOpenFile(path, clients(), { maxDataKeys: await maxDataKeys?.(), trust: trust ? (await trust()).trust : undefined }),
    verifyFolder: async (folder) => {
      // The decrypt's own limits: the data-key cap and the trusted accounts, both before any KMS call.
      const filter = trust ? await trust() : undefined;
      return verifyVaultFolder(folder, clients(), { maxDataKeys: await maxDataKeys?.(), trust: filter?.trust, region: filter?.region });
    },
    async inspectFile(path) {
      const info = await inspectFile(path);
      return {
        suiteId: info.suiteId, suiteName: info.suiteName, signed: info.signed, messageId: info.messageId,
        encryptionContext: info.encryptionContext, keys: info.encryptedDataKeys, frameLength: info.frameLength,
      };
    },
  };
}
