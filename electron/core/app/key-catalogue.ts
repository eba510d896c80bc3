import { DescribeKeyCommand, type KMSClient, ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import type { KeySummary } from '../../../shared/ipc.js';
import type { KmsClientFactory } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';
import type { KeyCatalogue } from './services.js';

/**
 * The customer-managed symmetric KMS keys of the current Region, with their aliases and descriptions.
 *
 * AWS-managed keys (`alias/aws/…`) are left out: their policies allow only the owning AWS service, so they cannot
 * encrypt Kenv files. Keys that DescribeKey refuses are left out too; a refused ListKeys is an error the panel shows.
 */
export function kmsKeyCatalogue(clients: () => KmsClientFactory): KeyCatalogue {
  return {
    async list() {
      const client = clients()();
      const region = await client.config.region();
      const [keys, aliases] = await Promise.all([listKeys(client), listAliases(client)]);
      const out: KeySummary[] = [];
      await Promise.all(keys.map(async (key) => {
        try {
          const { KeyMetadata: m } = await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
          if (!m || !m.KeyId || !m.Arn) return;
          if (m.KeyManager === 'AWS' || (m.KeyUsage && m.KeyUsage !== 'ENCRYPT_DECRYPT') || (m.KeySpec && m.KeySpec !== 'SYMMETRIC_DEFAULT')) return;
          out.push({
            keyId: m.KeyId, arn: m.Arn, aliases: (aliases.get(m.KeyId) ?? []).sort(), description: m.Description ?? '',
            enabled: m.Enabled === true && m.KeyState === 'Enabled', region,
          });
        } catch {
          // A key this identity may not describe is one it cannot use either.
        }
      }));
      return out.sort((a, b) => (a.aliases[0] ?? `~${a.keyId}`).localeCompare(b.aliases[0] ?? `~${b.keyId}`));
    },
  };
}

async function listKeys(client: KMSClient): Promise<{ KeyId: string }[]> {
  const keys: { KeyId: string }[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) })).catch((e: unknown) => {
      throw kmsError(e, { operation: 'ListKeys' });
    });
    for (const k of page.Keys ?? []) if (k.KeyId) keys.push({ KeyId: k.KeyId });
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return keys;
}

async function listAliases(client: KMSClient): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  let marker: string | undefined;
  do {
    const page = await client.send(new ListAliasesCommand({ Limit: 100, ...(marker ? { Marker: marker } : {}) })).catch((e: unknown) => {
      throw kmsError(e, { operation: 'ListAliases' });
    });
    for (const a of page.Aliases ?? []) {
      if (!a.AliasName || !a.TargetKeyId || a.AliasName.startsWith('alias/aws/')) continue;
      byKey.set(a.TargetKeyId, [...(byKey.get(a.TargetKeyId) ?? []), a.AliasName]);
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return byKey;
}
