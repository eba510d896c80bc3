import type { KeySummary } from '../../../shared/ipc.js';
import { KenvError } from '../errors.js';
import { listKeys } from '../kms/catalogue.js';
import { recipientFileFor } from '../kms/public-key.js';
import type { KmsClientFactory } from '../kms/client.js';
import type { KeyCatalogue } from './services.js';

/**
 * The key picker's catalogue: the core's `listKeys` (enabled customer-managed symmetric keys of the current Region,
 * with aliases and descriptions), less the keys KMS says this identity may not encrypt under.
 */
export function kmsKeyCatalogue(clients: () => KmsClientFactory): KeyCatalogue {
  return {
    async list() {
      const keys = await listKeys(clients(), { rsa: true });
      return keys
        .filter((k) => k.enabled && k.canGenerate !== false)
        .map((k): KeySummary => ({
          keyId: k.keyId, arn: k.arn, aliases: k.aliases, description: k.description, enabled: k.enabled, region: k.region,
          ...(k.keySpec && k.keySpec !== 'SYMMETRIC_DEFAULT' ? { keySpec: k.keySpec } : {}),
        }))
        .sort((a, b) => (a.aliases[0] ?? `~${a.keyId}`).localeCompare(b.aliases[0] ?? `~${b.keyId}`));
    },
    async recipientFile(keyArn) {
      if (!keyArn.startsWith('arn:')) throw new KenvError('INVALID_ARGUMENT', 'Export a recipient file by key ARN.');
      return (await recipientFileFor(clients(), keyArn, 'RSAES_OAEP_SHA_256')).text;
    },
  };
}
