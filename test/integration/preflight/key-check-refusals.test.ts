import { randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { SUITE_COMMIT_KEY } from '../../../electron/core/format/suites.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import type { WrapRequest } from '../../../electron/core/keyring/types.js';
import type { KmsClientFactory } from '../../../electron/core/kms/client.js';
import { checkKey, runKeyCheckCommand } from '../../../electron/core/preflight/key-check.js';
import { PreflightKeyring, preflightDataKeys } from '../../../electron/core/preflight/preflight.js';
import { kmsClient, newAliasedKey, useLocalKms } from '../../support/local-kms.js';

// `kenv keys check` (runKeyCheckCommand, checkKey) and the preflight every encrypt runs (PreflightKeyring), when KMS
// refuses part-way, throttles, ignores DryRun, or is asked about something that is no key.
const local = useLocalKms();
/** One attempt per request, so a throttle is seen at once instead of being retried away. */
let clients: KmsClientFactory;
const request: WrapRequest = { suiteId: SUITE_COMMIT_KEY.id, context: {} };

beforeAll(() => {
  clients = () => kmsClient(local.kms, 'us-east-1', { maxAttempts: 1 });
});

function capture(): { out: string[]; err: string[]; io: { out(l: string): void; err(l: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => void out.push(l), err: (l) => void err.push(l) } };
}

/** Runs `body` with `rules` denied on the local KMS, and allows everything again after. */
async function denying<T>(rules: { operation: string; key: string }[], body: () => Promise<T>): Promise<T> {
  for (const r of rules) local.kms.deny(r);
  try {
    return await body();
  } finally {
    local.kms.allow();
  }
}

describe('kenv keys check', () => {
  it('refuses what is not a key reference, reports it on stderr and carries on with the next key', async () => {
    const { alias } = await newAliasedKey(local.client);
    const c = capture();
    expect(await runKeyCheckCommand({ keys: ['not a key', alias], clients }, c.io)).toBe(1);
    expect(c.err).toEqual(['kenv: not a key: "not a key" is not a KMS key reference: give a key id, a key ARN, an alias name (alias/…) or an alias ARN. [INVALID_KEY]']);
    expect(c.out[0]).toMatch(new RegExp(`^${alias}  arn:aws:kms:us-east-1:\\d{12}:key/\\S+  \\(Enabled\\)$`));
    expect(c.out).toContain('  => this identity can encrypt files under this key and open them again.');
  });

  it('an identity that may decrypt but not make data keys: can open, cannot encrypt, exit 1', async () => {
    const { arn } = await newAliasedKey(local.client);
    const c = capture();
    const code = await denying([{ operation: 'GenerateDataKey', key: arn }, { operation: 'Encrypt', key: arn }], () => runKeyCheckCommand({ keys: [arn], clients }, c.io));
    expect(code).toBe(1);
    expect(c.out[0]).toBe(`${arn}  (Enabled)`);
    expect(c.out).toContain('  => this identity can open files under this key, but not encrypt new ones (kms:GenerateDataKey is refused).');
    expect(c.out.some((l) => /^ {2}kms:GenerateDataKey +DENIED +DryRun \[KMS_ACCESS_DENIED\]$/.test(l))).toBe(true);
    expect(c.out.some((l) => /^ {2}kms:Encrypt +DENIED +DryRun \[KMS_ACCESS_DENIED\]$/.test(l))).toBe(true);
    expect(c.out.some((l) => l.startsWith('     kms:GenerateDataKey: '))).toBe(true);
  });

  it('no DescribeKey and no data key to try Decrypt on: says Decrypt was not tried, and why', async () => {
    const { arn } = await newAliasedKey(local.client);
    const report = await denying([{ operation: 'DescribeKey', key: arn }, { operation: 'GenerateDataKeyWithoutPlaintext', key: arn }], () => checkKey(arn, clients));
    expect(report.keyArn).toBeUndefined();
    expect(report.state).toBeUndefined();
    expect(report.roundTrip).toBe(false);
    expect(report.canEncrypt).toBe(true);
    expect(report.checks.find((c) => c.action === 'kms:DescribeKey')).toMatchObject({ allowed: false, code: 'KMS_ACCESS_DENIED' });
    expect(report.checks.find((c) => c.action === 'kms:Decrypt')).toEqual({
      action: 'kms:Decrypt', allowed: false, how: 'not tried: no data key to try it on',
      reason: 'GenerateDataKeyWithoutPlaintext was refused, so there was no encrypted data key to ask Decrypt about.',
    });
    const c = capture();
    expect(await denying([{ operation: 'GenerateDataKeyWithoutPlaintext', key: arn }], () => runKeyCheckCommand({ keys: [arn], clients }, c.io))).toBe(1);
    expect(c.out.some((l) => /^ {2}kms:Decrypt +DENIED +not tried: no data key to try it on \[NOT_TRIED\]$/.test(l))).toBe(true);
    expect(c.out).toContain('  => this identity could NOT open files encrypted under this key: kms:Decrypt (or the data key round trip) is refused.');
  });

  it('a throttled KMS is an error of its own (KMS_THROTTLED), not a denied permission', async () => {
    const { arn } = await newAliasedKey(local.client);
    local.kms.throttleNext(1);
    await expect(checkKey(arn, clients)).rejects.toMatchObject({ code: 'KMS_THROTTLED' });
    const c = capture();
    local.kms.throttleNext(1);
    expect(await runKeyCheckCommand({ keys: [arn], json: true, clients }, c.io)).toBe(1);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(new RegExp(`^kenv: ${arn}: .* \\[KMS_THROTTLED\\]$`));
    expect(JSON.parse(c.out.join('\n'))).toEqual([]);
  });

  it('a throttle on the last step, the Decrypt of the data key, is KMS_THROTTLED too', async () => {
    const { arn } = await newAliasedKey(local.client);
    // DescribeKey, GenerateDataKey, Encrypt and GenerateDataKeyWithoutPlaintext pass; the Decrypt after them is throttled.
    let calls = 0;
    const throttlingDecrypt: KmsClientFactory = (region) => {
      const real = clients(region);
      return { send: (cmd: { constructor: { name: string } }) => {
        calls++;
        if (cmd.constructor.name === 'DecryptCommand') local.kms.throttleNext(1);
        return real.send(cmd as never);
      } } as unknown as KMSClient;
    };
    await expect(checkKey(arn, throttlingDecrypt)).rejects.toMatchObject({ code: 'KMS_THROTTLED' });
    expect(calls).toBe(5);
  });

  it('a KMS that ignores DryRun and sends key material back: the round trip counts, the material is zeroed', async () => {
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const handedOut: Uint8Array[] = [];
    const ignoring = (() => ({
      send: async (cmd: { constructor: { name: string } }) => {
        const name = cmd.constructor.name;
        if (name === 'DescribeKeyCommand') return { KeyMetadata: {} };
        if (name === 'GenerateDataKeyWithoutPlaintextCommand') return { CiphertextBlob: randomBytes(64), KeyId: keyArn };
        if (name === 'EncryptCommand') return { CiphertextBlob: randomBytes(64) };
        const material = randomBytes(32);
        handedOut.push(material);
        return { Plaintext: material };
      },
    })) as unknown as KmsClientFactory;
    const report = await checkKey(keyArn, ignoring);
    expect(report).toMatchObject({ keyArn, roundTrip: true, canEncrypt: true });
    expect(report.state).toBeUndefined();
    expect(report.checks.find((c) => c.action === 'kms:Decrypt')).toMatchObject({ allowed: true, how: 'this KMS ignores DryRun; the key it returned was zeroed' });
    expect(handedOut).toHaveLength(2);
    for (const m of handedOut) expect(Buffer.from(m).equals(Buffer.alloc(32))).toBe(true);
  });
});

describe('preflight before a write', () => {
  it('passes when the second of two keys would open the file, having asked about the first', async () => {
    const [a, b] = [await newAliasedKey(local.client), await newAliasedKey(local.client)];
    const keyring = new PreflightKeyring(new KmsKeyring({ keyIds: [a.arn, b.arn], clients }), clients);
    const wrapped = await denying([{ operation: 'Decrypt', key: a.arn }], () => keyring.wrapDataKey(request));
    expect(wrapped.edks).toHaveLength(2);
    wrapped.dataKey.fill(0);
  });

  it('refuses, naming every key, when none would open; a throttle is reported as the throttle', async () => {
    const [a, b] = [await newAliasedKey(local.client), await newAliasedKey(local.client)];
    const keyring = new PreflightKeyring(new KmsKeyring({ keyIds: [a.arn, b.arn], clients }), clients);
    const e = await denying([{ operation: 'Decrypt', key: a.arn }, { operation: 'Decrypt', key: b.arn }], () =>
      keyring.wrapDataKey(request).then(() => undefined, (err: unknown) => err as { code?: string; message?: string }));
    expect(e?.code).toBe('KMS_ACCESS_DENIED');
    expect(e?.message).toContain(`could not decrypt the file it was about to write under any of its keys (${a.arn}, ${b.arn})`);
    expect(e?.message).toContain('Nothing was written.');

    const checks = await preflightDataKeys(clients, [], {});
    expect(checks).toEqual([]);
  });

  it('a throttled check fails with KMS_THROTTLED, so a batch retries the file instead of calling it denied', async () => {
    const a = await newAliasedKey(local.client);
    const keyring = new PreflightKeyring(new KmsKeyring({ keyIds: [a.arn], clients }), clients);
    const throttled: KmsClientFactory = (region) => {
      const real = clients(region);
      return { send: (cmd: { constructor: { name: string } }) => {
        if (cmd.constructor.name === 'DecryptCommand') local.kms.throttleNext(1);
        return real.send(cmd as never);
      } } as unknown as KMSClient;
    };
    const viaThrottle = new PreflightKeyring(new KmsKeyring({ keyIds: [a.arn], clients }), throttled);
    const e = await viaThrottle.wrapDataKey(request).then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
    expect(e?.code).toBe('KMS_THROTTLED');
    // The throttle's own sentence (retry later), not the permission one (ask for kms:Decrypt).
    expect(e?.message).not.toContain('Preflight stopped');
    expect(e?.message).not.toContain('kms:Decrypt');
    const ok = await keyring.wrapDataKey(request);
    ok.dataKey.fill(0);
  });

  it('counts a data key wrapped by a local key as openable without asking KMS', async () => {
    const edk = { providerId: 'aws-raw-vectors-persistent', providerInfo: Buffer.from('local key'), ciphertext: randomBytes(40) };
    let asked = 0;
    const counting: KmsClientFactory = (region) => (asked++, clients(region));
    const checks = await preflightDataKeys(counting, [edk], {});
    expect(checks).toEqual([{ key: expect.any(String), ok: true, how: 'local-key' }]);
    expect(asked).toBe(0);
  });
});
