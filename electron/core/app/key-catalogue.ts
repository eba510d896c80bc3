import type { KeySummary } from '../../../shared/ipc.js';
import { listKeys } from '../kms/catalogue.js';
import type { KmsClientFactory } from '../kms/client.js';
import type { KeyCatalogue } from './services.js';

/**
 * The key picker's catalogue: the core's `listKeys` (enabled customer-managed symmetric keys of the current Region,
 * with aliases and descriptions), less the keys KMS says this identity may not encrypt under.
 */
export function kmsKeyCatalogue(clients: () => KmsClientFactory): KeyCatalogue {
  return {
    async list() {
      const keys = await listKeys(clients());
      return keys
        .filter((k) => k.enabled && k.canGenerate !== false)
        .map((k): KeySummary => ({ keyId: k.keyId, arn: k.arn, aliases: k.aliases, description: k.description, enabled: k.enabled, region: k.region }))
        .sort((a, b) => (a.aliases[0] ?? `~${a.keyId}`).localeCompare(b.aliases[0] ?? `~${b.keyId}`));
    },
  };
}
