import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decryptFile, encryptFile, inspectFile } from '../files.js';
import { KmsKeyring } from '../keyring/kms-keyring.js';
import type { KmsClientFactory } from '../kms/client.js';
import type { DataKeyCache } from './data-key-cache.js';
import type { VaultOps } from './services.js';

/**
 * The vault operations over the core, with KMS keyrings built from key ids.
 *
 * Frame encryption and decryption already run on the core's worker pool, so the calling thread (Electron's main
 * process) only moves bytes and awaits KMS. `clients` is read on every call because switching profiles replaces it.
 */
export function coreVault(clients: () => KmsClientFactory, cache?: DataKeyCache): VaultOps {
  const sizeOf = (path: string) => stat(path).then((s) => s.size, () => 0);
  return {
    async encryptFile(inputPath, opts) {
      const kms = new KmsKeyring({ keyIds: opts.keyIds, clients: clients() });
      const keyring = cache ? cache.keyring(kms, opts.keyIds.join('\0'), await sizeOf(inputPath)) : kms;
      const result = await encryptFile(inputPath, {
        keyring, context: opts.context, onProgress: opts.onProgress, signal: opts.signal,
        ...(opts.outDir ? { outDir: opts.outDir } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(opts.outputName ? { outputPath: join(opts.outDir ?? dirname(inputPath), basename(opts.outputName)) } : {}),
        ...(opts.replacePath ? { outputPath: opts.replacePath, force: true } : {}),
      });
      return { outputPath: result.outputPath, bytesIn: result.bytesIn, bytesOut: result.bytesOut };
    },
    async decryptFile(inputPath, opts) {
      const kms = new KmsKeyring({ clients: clients() });
      const keyring = cache ? cache.keyring(kms, '', await sizeOf(inputPath)) : kms;
      const result = await decryptFile(inputPath, {
        keyring, onProgress: opts.onProgress, signal: opts.signal, ...(opts.force ? { force: true } : {}),
        ...(opts.outDir ? { outDir: opts.outDir } : {}),
        ...(opts.outputName ? { outputPath: join(opts.outDir ?? dirname(inputPath), basename(opts.outputName)) } : {}),
      });
      return { outputPath: result.outputPath, bytesOut: result.bytesOut };
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
