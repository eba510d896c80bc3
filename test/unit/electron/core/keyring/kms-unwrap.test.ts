import { describe, expect, it } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import { KmsKeyring } from '../../../../../electron/core/keyring/kms-keyring.js';
import { inRegion, isMultiRegionKey, mrkMatchForDecrypt, parseKmsArn } from '../../../../../electron/core/keyring/mrk.js';
import type { KmsClientFactory } from '../../../../../electron/core/kms/client.js';
import { TrustedAccounts } from '../../../../../electron/core/kms/trust.js';

// Which data keys the KMS keyring sends to KMS Decrypt, with which KeyId, in which Region, and what it accepts back:
// against a scripted KMS that records every call.

interface Call {
  region: string | undefined;
  keyId: string;
  blob: Buffer;
  context: unknown;
}
type Answer = { KeyId?: string; Plaintext?: Uint8Array } | Error;

function scriptedKms(answer: (call: Call) => Answer): { clients: KmsClientFactory; calls: Call[] } {
  const calls: Call[] = [];
  const clients = ((region?: string) => ({
    send: async (cmd: { input: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: unknown } }) => {
      const call = { region, keyId: cmd.input.KeyId, blob: Buffer.from(cmd.input.CiphertextBlob), context: cmd.input.EncryptionContext };
      calls.push(call);
      const a = answer(call);
      if (a instanceof Error) throw a;
      return a;
    },
  })) as unknown as KmsClientFactory;
  return { clients, calls };
}

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const arn = (region = 'us-east-1', account = '111122223333', id = KEY_ID) => `arn:aws:kms:${region}:${account}:key/${id}`;
const MRK = 'mrk-80bd8ecdcd4342aebd84b7dc9da498a7';
const dataKey = Buffer.alloc(32, 0x5a);
const kmsEdk = (stored: string, blob = Buffer.from(`blob of ${stored}`)) => ({ providerId: 'aws-kms', providerInfo: Buffer.from(stored), ciphertext: blob });
const req = (edks: ReturnType<typeof kmsEdk>[]) => ({ suiteId: 0x0478, context: { team: 'x' }, edks });
const opens = (call: Call): Answer => ({ KeyId: call.keyId.includes('alias/') ? arn() : call.keyId, Plaintext: Buffer.from(dataKey) });

async function failure(p: Promise<unknown>): Promise<KenvError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KenvError) return e;
    throw e;
  }
  throw new Error('it opened');
}

describe('KMS keyring, discovery (no keys configured)', () => {
  it('sends the stored ARN, its ciphertext and the context to the Region in the ARN, and returns the data key', async () => {
    const { clients, calls } = scriptedKms(opens);
    const key = await new KmsKeyring({ clients }).unwrapDataKey(req([kmsEdk(arn('eu-west-1'))]));
    expect(key).toEqual(dataKey);
    expect(calls).toEqual([{ region: 'eu-west-1', keyId: arn('eu-west-1'), blob: Buffer.from(`blob of ${arn('eu-west-1')}`), context: { team: 'x' } }]);
  });

  it('zeroes the plaintext KMS handed back once it has its own copy', async () => {
    const answered: Buffer[] = [];
    const { clients } = scriptedKms((call) => {
      const p = Buffer.from(dataKey);
      answered.push(p);
      return { KeyId: call.keyId, Plaintext: p };
    });
    const key = await new KmsKeyring({ clients }).unwrapDataKey(req([kmsEdk(arn())]));
    expect(key).toEqual(dataKey);
    expect(answered[0]).toEqual(Buffer.alloc(32));
  });

  it('skips data keys of other providers and tries the next KMS data key after a failure', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    const { clients, calls } = scriptedKms((call) => (call.keyId === arn('us-east-1') ? denied : opens(call)));
    const raw = { providerId: 'raw-ns', providerInfo: Buffer.from('name'), ciphertext: Buffer.alloc(48) };
    const key = await new KmsKeyring({ clients }).unwrapDataKey(req([raw as ReturnType<typeof kmsEdk>, kmsEdk(arn('us-east-1')), kmsEdk(arn('us-west-2'))]));
    expect(key).toEqual(dataKey);
    expect(calls.map((c) => c.keyId)).toEqual([arn('us-east-1'), arn('us-west-2')]);
  });

  it('a file with no KMS data key says which keys hold it, without a call', async () => {
    const { clients, calls } = scriptedKms(opens);
    const raw = { providerId: 'aws-kms-rsa', providerInfo: Buffer.from(arn()), ciphertext: Buffer.alloc(48) };
    const e = await failure(new KmsKeyring({ clients }).unwrapDataKey({ suiteId: 0x0478, context: {}, edks: [raw] }));
    expect(e.code).toBe('NO_KEY_OPENED');
    expect(e.message).toContain(`its data key is wrapped only for KMS RSA key ${arn()}.`);
    expect(calls).toEqual([]);
  });

  it('a stored ARN that is not a key ARN (an alias ARN, junk, nothing) is never sent to KMS', async () => {
    const { clients, calls } = scriptedKms(opens);
    const e = await failure(
      new KmsKeyring({ clients }).unwrapDataKey(req([kmsEdk('arn:aws:kms:us-east-1:111122223333:alias/x'), kmsEdk(''), kmsEdk('x')])),
    );
    expect(calls).toEqual([]);
    expect(e.code).toBe('NO_KEY_OPENED');
    expect(e.message).toBe(
      "No key could open this file's data key. Tried arn:aws:kms:us-east-1:111122223333:alias/x: the stored key ARN is not a KMS key ARN; (empty): the stored key ARN is not a KMS key ARN; x: the stored key ARN is not a KMS key ARN.",
    );
  });

  it('refuses an answer for another key, a data key of the wrong size or none, and zeroes what came back', async () => {
    for (const [answer, named] of [
      [{ KeyId: arn('us-east-1', '999988887777'), Plaintext: Buffer.from(dataKey) }, arn('us-east-1', '999988887777')],
      [{ KeyId: arn(), Plaintext: Buffer.alloc(31, 1) }, arn()],
      [{ KeyId: arn(), Plaintext: Buffer.alloc(33, 1) }, arn()],
      [{ KeyId: arn() }, arn()],
      [{ Plaintext: Buffer.from(dataKey) }, 'none'],
    ] as const) {
      const { clients } = scriptedKms(() => answer);
      const e = await failure(new KmsKeyring({ clients }).unwrapDataKey(req([kmsEdk(arn())])));
      expect(e.code).toBe('NO_KEY_OPENED');
      expect(e.message).toBe(`No key could open this file's data key. Tried ${arn()}: KMS answered for another key (${named}) or with a data key of the wrong size.`);
      if ('Plaintext' in answer && answer.Plaintext) expect(Buffer.from(answer.Plaintext).every((b) => b === 0)).toBe(true);
    }
  });

  it('a KMS error becomes the attempt, with its own code when it is the only one', async () => {
    const { clients } = scriptedKms(() => Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const e = await failure(new KmsKeyring({ clients }).unwrapDataKey(req([kmsEdk(arn())])));
    expect(e.code).toBe('KMS_ACCESS_DENIED');
    expect(e.message).toContain(arn());
    const passThrough = new KenvError('KMS_THROTTLED', 'slow down');
    const { clients: c2 } = scriptedKms(() => passThrough);
    expect(await failure(new KmsKeyring({ clients: c2 }).unwrapDataKey(req([kmsEdk(arn())])))).toMatchObject({ code: 'KMS_THROTTLED' });
  });

  it("a failed Decrypt's sentence names the operation, the key as it was sent and the Region it was sent to", async () => {
    const odd = () => Object.assign(new Error('Something odd'), { name: 'WeirdException' });
    const { clients } = scriptedKms(odd);
    expect(await new KmsKeyring({ clients }).tryUnwrap(req([kmsEdk(arn('eu-west-1'))]))).toEqual([{
      key: arn('eu-west-1'), code: 'KMS_ERROR',
      reason: `Decrypt on ${arn('eu-west-1')} in eu-west-1 failed: WeirdException: Something odd. Check the key, the Region and your permissions, then retry.`,
    }]);
    const { clients: c2 } = scriptedKms(() => Object.assign(new Error('Alias not found'), { name: 'NotFoundException' }));
    expect(await new KmsKeyring({ clients: c2, keyIds: ['alias/team'] }).tryUnwrap(req([kmsEdk(arn())]))).toEqual([{
      key: arn(), code: 'KMS_KEY_NOT_FOUND',
      reason: 'The KMS key alias/team was not found in us-east-1, so Decrypt failed. Check the key id or alias for typos, the Region and the account (kenv keys lists the keys you can use).',
    }]);
  });

  it('asks a multi-Region key in the home Region first, and only the stored ARN when it is already there or not multi-Region', async () => {
    const { clients, calls } = scriptedKms(() => new KenvError('KMS_ERROR', 'no'));
    await failure(new KmsKeyring({ clients, region: 'eu-west-1' }).unwrapDataKey(req([kmsEdk(arn('us-east-1', undefined, MRK))])));
    expect(calls.map((c) => [c.keyId, c.region])).toEqual([
      [arn('eu-west-1', undefined, MRK), 'eu-west-1'],
      [arn('us-east-1', undefined, MRK), 'us-east-1'],
    ]);
    calls.length = 0;
    await failure(new KmsKeyring({ clients, region: 'us-east-1' }).unwrapDataKey(req([kmsEdk(arn('us-east-1', undefined, MRK))])));
    await failure(new KmsKeyring({ clients, region: 'eu-west-1' }).unwrapDataKey(req([kmsEdk(arn('us-east-1'))])));
    await failure(new KmsKeyring({ clients }).unwrapDataKey(req([kmsEdk(arn('us-east-1', undefined, MRK))])));
    expect(calls.map((c) => c.keyId)).toEqual([arn('us-east-1', undefined, MRK), arn('us-east-1'), arn('us-east-1', undefined, MRK)]);
  });

  it('the replica answers with its own ARN, and that is accepted', async () => {
    const { clients } = scriptedKms((call) => ({ KeyId: call.keyId, Plaintext: Buffer.from(dataKey) }));
    const key = await new KmsKeyring({ clients, region: 'eu-west-1' }).unwrapDataKey(req([kmsEdk(arn('us-east-1', undefined, MRK))]));
    expect(key).toEqual(dataKey);
  });
});

describe('KMS keyring with configured keys (strict)', () => {
  const trustNobody = new TrustedAccounts([], 'aws', async () => {
    throw new Error('STS must not be asked when keys are configured');
  });

  it('sends the stored ARN when a configured ARN or key id names it, and does not consult the discovery filter', async () => {
    for (const configured of [arn(), KEY_ID]) {
      const { clients, calls } = scriptedKms(opens);
      expect(await new KmsKeyring({ clients, keyIds: [configured], trust: trustNobody }).unwrapDataKey(req([kmsEdk(arn())]))).toEqual(dataKey);
      expect(calls.map((c) => [c.keyId, c.region])).toEqual([[arn(), 'us-east-1']]);
    }
  });

  it('never calls KMS for a data key under a key that is not configured', async () => {
    const { clients, calls } = scriptedKms(opens);
    const e = await failure(new KmsKeyring({ clients, keyIds: [arn()] }).unwrapDataKey(req([kmsEdk(arn('us-east-1', undefined, '99999999-12ab-34cd-56ef-1234567890ab'))])));
    expect(e.code).toBe('NO_KEY_OPENED');
    expect(calls).toEqual([]);
  });

  it('a configured key ARN does not open the same key id in another account or Region', async () => {
    const { clients, calls } = scriptedKms(opens);
    for (const stored of [arn('us-east-1', '999988887777'), arn('eu-west-1')]) {
      const e = await failure(new KmsKeyring({ clients, keyIds: [arn()] }).unwrapDataKey(req([kmsEdk(stored)])));
      expect(e.code).toBe('NO_KEY_OPENED');
    }
    expect(calls).toEqual([]);
  });

  it('a configured multi-Region key ARN opens its replica’s data key by calling the configured ARN in its Region', async () => {
    const { clients, calls } = scriptedKms((call) => ({ KeyId: call.keyId, Plaintext: Buffer.from(dataKey) }));
    const configured = arn('eu-west-1', undefined, MRK);
    expect(await new KmsKeyring({ clients, keyIds: [configured] }).unwrapDataKey(req([kmsEdk(arn('us-east-1', undefined, MRK))]))).toEqual(dataKey);
    expect(calls.map((c) => [c.keyId, c.region])).toEqual([[configured, 'eu-west-1']]);
    // KMS must answer for the configured key: the stored one is not enough.
    const { clients: c2 } = scriptedKms(() => ({ KeyId: arn('us-east-1', undefined, MRK), Plaintext: Buffer.from(dataKey) }));
    expect((await failure(new KmsKeyring({ clients: c2, keyIds: [configured] }).unwrapDataKey(req([kmsEdk(arn('us-east-1', undefined, MRK))])))).code).toBe('NO_KEY_OPENED');
  });

  it('a configured alias is sent as it is, to the stored key’s Region, and the answer must name the stored ARN', async () => {
    const { clients, calls } = scriptedKms(opens);
    const aliasArn = 'arn:aws:kms:us-east-1:111122223333:alias/team';
    expect(await new KmsKeyring({ clients, keyIds: ['alias/team', aliasArn, 'arn:aws:kms:eu-west-1:111122223333:alias/team', KEY_ID.replace('1234', '9999')] }).unwrapDataKey(req([kmsEdk(arn())]))).toEqual(dataKey);
    expect(calls.map((c) => [c.keyId, c.region])).toEqual([['alias/team', 'us-east-1']]);
    const { clients: c2, calls: calls2 } = scriptedKms(() => ({ KeyId: arn('us-east-1', undefined, '99999999-12ab-34cd-56ef-1234567890ab'), Plaintext: Buffer.from(dataKey) }));
    const e = await failure(new KmsKeyring({ clients: c2, keyIds: [aliasArn] }).unwrapDataKey(req([kmsEdk(arn())])));
    expect(e.code).toBe('NO_KEY_OPENED');
    expect(calls2.map((c) => [c.keyId, c.region])).toEqual([[aliasArn, 'us-east-1']]);
  });
});

describe('KMS keyring with configured keys: more than one', () => {
  it('any one configured key id that names the stored key is enough', async () => {
    const { clients, calls } = scriptedKms(opens);
    expect(await new KmsKeyring({ clients, keyIds: ['99999999-12ab-34cd-56ef-1234567890ab', KEY_ID] }).unwrapDataKey(req([kmsEdk(arn())]))).toEqual(dataKey);
    expect(calls.map((c) => c.keyId)).toEqual([arn()]);
  });

  it('an alias ARN of another Region is not sent for a data key wrapped elsewhere', async () => {
    const { clients, calls } = scriptedKms(opens);
    const e = await failure(new KmsKeyring({ clients, keyIds: ['arn:aws:kms:eu-west-1:111122223333:alias/team'] }).unwrapDataKey(req([kmsEdk(arn())])));
    expect(e.code).toBe('NO_KEY_OPENED');
    expect(calls).toEqual([]);
  });
});

describe('KMS ARNs and multi-Region keys', () => {
  it('parses key and alias ARNs into their parts, and nothing else', () => {
    expect(parseKmsArn(arn('eu-west-1', '123456789012', MRK))).toEqual({ partition: 'aws', region: 'eu-west-1', account: '123456789012', resourceType: 'key', resourceId: MRK });
    expect(parseKmsArn('arn:aws-cn:kms:cn-north-1:123456789012:alias/a/b')).toEqual({ partition: 'aws-cn', region: 'cn-north-1', account: '123456789012', resourceType: 'alias', resourceId: 'a/b' });
    for (const junk of [KEY_ID, 'alias/x', `x${arn()}`, 'arn:aws:kms:us-east-1:1:grant/x', 'arn:aws:s3:us-east-1:1:key/x', 'arn:aws:kms:us-east-1:1:key/']) expect(parseKmsArn(junk)).toBeUndefined();
  });

  it('knows a multi-Region key by its id, in an ARN or bare, and not an alias named like one', () => {
    expect(isMultiRegionKey(arn('us-east-1', undefined, MRK))).toBe(true);
    expect(isMultiRegionKey(MRK)).toBe(true);
    expect(isMultiRegionKey(arn())).toBe(false);
    expect(isMultiRegionKey(KEY_ID)).toBe(false);
    expect(isMultiRegionKey('arn:aws:kms:us-east-1:111122223333:alias/mrk-x')).toBe(false);
    expect(isMultiRegionKey('arn:aws:kms:us-east-1:111122223333:nonsense/mrk-x')).toBe(false);
  });

  it('matches multi-Region keys across Regions only when partition, account and id agree', () => {
    const m = (region: string, account = '111122223333', partition = 'aws') => `arn:${partition}:kms:${region}:${account}:key/${MRK}`;
    expect(mrkMatchForDecrypt(m('us-east-1'), m('eu-west-1'))).toBe(true);
    expect(mrkMatchForDecrypt(m('us-east-1'), m('eu-west-1', '999988887777'))).toBe(false);
    expect(mrkMatchForDecrypt(m('us-east-1'), m('eu-west-1', undefined, 'aws-cn'))).toBe(false);
    expect(mrkMatchForDecrypt(m('us-east-1'), m('eu-west-1').replace(MRK, `${MRK}0`))).toBe(false);
    expect(mrkMatchForDecrypt(MRK, m('eu-west-1'))).toBe(false);
    expect(mrkMatchForDecrypt(m('eu-west-1'), MRK)).toBe(false);
    expect(mrkMatchForDecrypt(MRK, MRK)).toBe(true);
  });

  it('names the same key in another Region', () => {
    expect(inRegion(parseKmsArn(arn('us-east-1', '123456789012', MRK))!, 'ap-south-1')).toBe(arn('ap-south-1', '123456789012', MRK));
  });
});
