// The local KMS's deny rules: every form a key can be named in (id, ARN, alias, alias ARN, *) and the ReEncrypt
// permissions (ReEncryptFrom on the source, ReEncryptTo on the destination, or the operation name for both).
import { DecryptCommand, EncryptCommand, ReEncryptCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import type { DenyRule } from '../../../electron/core/local-kms/server.js';
import { newAliasedKey, useLocalKms } from '../../support/local-kms.js';

const local = useLocalKms();
type Key = Awaited<ReturnType<typeof newAliasedKey>>;
const FORMS = ['keyId', 'arn', 'alias', 'aliasArn'] as const;

const newKey = (): Promise<Key> => newAliasedKey(local.client);

async function sealUnder(keyId: string): Promise<Uint8Array> {
  return (await local.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
}

async function reEncrypt(from: Key, to: Key): Promise<Uint8Array | undefined> {
  return (await local.client.send(new ReEncryptCommand({ CiphertextBlob: await sealUnder(from.keyId), DestinationKeyId: to.keyId }))).CiphertextBlob;
}

/** Runs `check` while `rule` is in force, and lifts the rule afterwards whatever happens, so no other test sees it. */
async function whileDenied(rule: DenyRule, check: () => Promise<void>): Promise<void> {
  local.kms.deny(rule);
  try {
    await check();
  } finally {
    local.kms.allow(rule);
  }
}

const denied = { name: 'AccessDeniedException' };

describe('local KMS deny rules', () => {
  it.each(FORMS)('a Decrypt rule naming the key by %s denies Decrypt under that key only', async (form) => {
    const key = await newKey();
    const other = await newKey();
    const blob = await sealUnder(key.keyId);
    const otherBlob = await sealUnder(other.keyId);
    await whileDenied({ operation: 'Decrypt', key: key[form] }, async () => {
      await expect(local.client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toMatchObject(denied);
      expect((await local.client.send(new DecryptCommand({ CiphertextBlob: otherBlob }))).Plaintext).toBeDefined();
      // Encrypt under the same key is another operation: allowed.
      expect((await sealUnder(key.keyId)).length).toBeGreaterThan(0);
    });
    expect((await local.client.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext).toBeDefined();
  });

  // Each ReEncrypt permission, on a key named in each form: which direction it denies and which it lets through.
  const reEncryptRules = [
    ['ReEncryptFrom', 'from it, not to it', { fromIt: true, toIt: false }],
    ['ReEncryptTo', 'to it, not from it', { fromIt: false, toIt: true }],
    ['ReEncrypt', 'whichever side the key is on', { fromIt: true, toIt: true }],
  ] as const;
  const reEncryptCases = reEncryptRules.flatMap(([operation, says, deniesWhen]) =>
    FORMS.map((form) => [operation, form, says, deniesWhen] as const));
  it.each(reEncryptCases)('%s on a key named by %s denies ReEncrypt %s', async (operation, form, _says, { fromIt, toIt }) => {
    const [key, other] = [await newKey(), await newKey()];
    await whileDenied({ operation, key: key[form] }, async () => {
      if (fromIt) await expect(reEncrypt(key, other)).rejects.toMatchObject(denied);
      else expect(await reEncrypt(key, other)).toBeDefined();
      if (toIt) await expect(reEncrypt(other, key)).rejects.toMatchObject(denied);
      else expect(await reEncrypt(other, key)).toBeDefined();
    });
    expect(await reEncrypt(key, other)).toBeDefined();
    expect(await reEncrypt(other, key)).toBeDefined();
  });

  it('a ReEncrypt rule on the key * denies ReEncrypt on every key, even from a key to itself', async () => {
    const key = await newKey();
    await whileDenied({ operation: 'ReEncrypt', key: '*' }, async () => {
      await expect(reEncrypt(key, key)).rejects.toMatchObject(denied);
    });
  });
});
