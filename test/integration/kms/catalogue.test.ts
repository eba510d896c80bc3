import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyRotationCommand, type KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listKeys } from '../../../electron/core/kms/catalogue.js';
import { runKeysCommand } from '../../../electron/core/kms/command.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { captureIo, type TempAws, useTempAws } from '../../support/aws-env.js';
import { type LocalServer, listen, sendJson } from '../../support/http.js';
import { kmsClient, LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let admin: KMSClient;
let ids: Record<string, string>;

async function createKey(alias: string | undefined, description: string): Promise<string> {
  const out = await admin.send(new CreateKeyCommand({ Description: description }));
  const keyId = out.KeyMetadata!.KeyId!;
  if (alias) await admin.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  return keyId;
}

beforeAll(async () => {
  kms = await fixture.start({ region: 'eu-west-1' });
  admin = kmsClient(kms, 'eu-west-1');
  ids = {
    demo: kms.keys()[0]!.keyId,
    team: await createKey('alias/team', 'Team files'),
    rotated: await createKey('alias/rotated', 'Rotated yearly'),
    disabled: await createKey('alias/old', 'Disabled key'),
    doomed: await createKey('alias/doomed', 'Pending deletion'),
    noGenerate: await createKey('alias/read-only', 'Decrypt only'),
    noDecrypt: await createKey('alias/write-only', 'Encrypt only'),
    bare: await createKey(undefined, 'No alias'),
  };
  await admin.send(new CreateAliasCommand({ AliasName: 'alias/team-2', TargetKeyId: ids.team }));
  await admin.send(new EnableKeyRotationCommand({ KeyId: ids.rotated }));
  await admin.send(new DisableKeyCommand({ KeyId: ids.disabled }));
  await admin.send(new ScheduleKeyDeletionCommand({ KeyId: ids.doomed, PendingWindowInDays: 7 }));
  kms.deny({ operation: 'GenerateDataKey', key: 'alias/read-only' });
  kms.deny({ operation: 'Decrypt', key: 'alias/write-only' });
});
afterAll(async () => {
  admin.destroy();
  await fixture.closeAll();
});

const clients = () => (region?: string) => kmsClient(kms, region ?? 'eu-west-1');

describe('listKeys against the local KMS', () => {
  it('lists enabled symmetric keys with aliases, description, rotation and access, sorted by alias', async () => {
    const keys = await listKeys(clients());
    expect(keys.map((k) => k.aliases[0] ?? k.keyId)).toEqual(['alias/kenv-demo', 'alias/read-only', 'alias/rotated', 'alias/team', 'alias/write-only', ids.bare]);
    const team = keys.find((k) => k.keyId === ids.team)!;
    expect(team).toMatchObject({
      aliases: ['alias/team', 'alias/team-2'], description: 'Team files', state: 'Enabled', enabled: true, region: 'eu-west-1',
      arn: `arn:aws:kms:eu-west-1:111122223333:key/${ids.team}`, multiRegion: false, rotationEnabled: false,
      canGenerate: true, canDecrypt: true, notes: [],
    });
    expect(keys.find((k) => k.keyId === ids.rotated)!.rotationEnabled).toBe(true);
    expect(keys.find((k) => k.keyId === ids.demo)!.aliases).toEqual([DEMO_KEY_ALIAS]);
  });

  it('a key without GenerateDataKey permission: canGenerate false, canDecrypt unknown, the reason names kms:GenerateDataKey', async () => {
    const entry = (await listKeys(clients())).find((k) => k.keyId === ids.noGenerate)!;
    expect(entry.canGenerate).toBe(false);
    expect(entry.canDecrypt).toBeUndefined();
    expect(entry.notes[0]).toContain('kms:GenerateDataKey');
    expect(entry.notes[0]).toContain('alias/read-only');
  });

  it('a key without Decrypt permission: canGenerate true, canDecrypt false', async () => {
    const entry = (await listKeys(clients())).find((k) => k.keyId === ids.noDecrypt)!;
    expect(entry).toMatchObject({ canGenerate: true, canDecrypt: false });
    expect(entry.notes[0]).toContain('kms:Decrypt');
  });

  it('--all adds the disabled and pending-deletion keys, which cannot encrypt', async () => {
    const keys = await listKeys(clients(), { all: true });
    expect(keys).toHaveLength(8);
    expect(keys.find((k) => k.keyId === ids.disabled)).toMatchObject({ state: 'Disabled', enabled: false, canGenerate: false });
    const doomed = keys.find((k) => k.keyId === ids.doomed)!;
    expect(doomed).toMatchObject({ state: 'PendingDeletion', canGenerate: false });
    expect(doomed.deletionDate).toBeTruthy();
    expect(doomed.notes.join(' ')).toMatch(/scheduled for deletion/);
  });

  it('without access checks makes no GenerateDataKey or Decrypt calls', async () => {
    const before = kms.counts();
    const keys = await listKeys(clients(), { checkAccess: false });
    expect(keys.every((k) => k.canGenerate === undefined && k.canDecrypt === undefined)).toBe(true);
    expect(kms.counts().GenerateDataKey ?? 0).toBe(before.GenerateDataKey ?? 0);
    expect(kms.counts().Decrypt ?? 0).toBe(before.Decrypt ?? 0);
  });

  it('rides out throttling through the SDK retries', async () => {
    kms.throttleNext(2);
    expect(await listKeys(clients(), { checkAccess: false })).toHaveLength(6);
  });

  it('ListAliases denied is KMS_ACCESS_DENIED naming kms:ListAliases', async () => {
    kms.deny({ operation: 'ListAliases', key: '*' });
    try {
      await expect(listKeys(clients())).rejects.toMatchObject({ code: 'KMS_ACCESS_DENIED', message: expect.stringContaining('kms:ListAliases') });
    } finally {
      kms.allow({ operation: 'ListAliases', key: '*' });
    }
  });
});

describe('listKeys pagination', () => {
  it('pages through ListKeys and ListAliases', async () => {
    const big = await fixture.start({ region: 'us-west-2', seedDemoKey: false });
    const c = kmsClient(big, 'us-west-2');
    for (let i = 0; i < 23; i++) {
      const id = (await c.send(new CreateKeyCommand({ Description: `k${i}` }))).KeyMetadata!.KeyId!;
      await c.send(new CreateAliasCommand({ AliasName: `alias/k${String(i).padStart(2, '0')}`, TargetKeyId: id }));
    }
    const keys = await listKeys(() => c, { pageSize: 5, checkAccess: false });
    expect(keys.map((k) => k.aliases[0])).toEqual(Array.from({ length: 23 }, (_, i) => `alias/k${String(i).padStart(2, '0')}`));
    expect(big.counts().ListKeys).toBe(5);
    expect(big.counts().ListAliases).toBe(5);
    c.destroy();
  });
});

describe('listKeys against a KMS that pages wrongly', () => {
  // A KMS over HTTP whose ListKeys and ListAliases pages a test scripts; after 30 list requests it answers an error
  // no retry follows, so a listing that would loop ends and the test can say so.
  type Page = { items: string[]; truncated: boolean; marker?: string };
  let server: LocalServer;
  let script: Record<'ListKeys' | 'ListAliases', (marker: string | undefined) => Page>;
  let lists: string[];
  beforeAll(async () => {
    server = await listen((req, body, res) => {
      const op = String(req.headers['x-amz-target']).replace('TrentService.', '');
      const input = JSON.parse(body.toString() || '{}') as { Marker?: string; KeyId?: string };
      if (op === 'ListKeys' || op === 'ListAliases') {
        lists.push(`${op} ${input.Marker ?? '-'}`);
        if (lists.length > 30) return sendJson(res, 400, { __type: 'ListedForEver', message: 'listed for ever' });
        const page = script[op](input.Marker);
        const items = op === 'ListKeys' ? { Keys: page.items.map((KeyId) => ({ KeyId })) } : { Aliases: page.items.map((id) => ({ AliasName: `alias/${id}`, TargetKeyId: id })) };
        return sendJson(res, 200, { ...items, Truncated: page.truncated, ...(page.marker ? { NextMarker: page.marker } : {}) });
      }
      if (op === 'DescribeKey') {
        const KeyId = input.KeyId ?? '';
        return sendJson(res, 200, { KeyMetadata: { KeyId, Arn: `arn:aws:kms:us-east-1:111122223333:key/${KeyId}`, Enabled: true, KeyState: 'Enabled', KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' } });
      }
      if (op === 'GetKeyRotationStatus') return sendJson(res, 200, { KeyRotationEnabled: false });
      return sendJson(res, 400, { __type: 'UnsupportedOperationException', message: op });
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    lists = [];
    const whole = (): Page => ({ items: ['k1', 'k2'], truncated: false });
    script = { ListKeys: whole, ListAliases: whole };
  });
  const list = () => {
    const c = kmsClient({ url: server.url } as LocalKms, 'us-east-1', { maxAttempts: 1 });
    return listKeys(() => c, { checkAccess: false }).finally(() => c.destroy());
  };
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  it('a KMS that pages as KMS does: every key with its alias', async () => {
    script.ListKeys = (m) => (m === undefined ? { items: ['k1'], truncated: true, marker: 'm1' } : { items: ['k2'], truncated: false });
    expect((await list()).map((k) => [k.keyId, k.aliases])).toEqual([['k1', ['alias/k1']], ['k2', ['alias/k2']]]);
    expect(lists).toEqual(['ListKeys -', 'ListKeys m1', 'ListAliases -']);
  });

  it('a truncated page without a marker is KMS_ERROR, not a short list taken for every key', async () => {
    for (const op of ['ListKeys', 'ListAliases'] as const) {
      lists = [];
      script[op] = () => ({ items: ['k1'], truncated: true });
      expect(await failure(list())).toMatchObject({
        code: 'KMS_ERROR',
        message: `KMS said its ${op} list in us-east-1 goes on but gave no way to go on (no marker). Try again; if it persists, the endpoint does not list as KMS does.`,
      });
      script[op] = () => ({ items: ['k1', 'k2'], truncated: false });
    }
  });

  it('a marker it gave before, or new markers over the same keys, is KMS_ERROR instead of listing for ever', async () => {
    script.ListKeys = (m) => (m === undefined ? { items: ['k1'], truncated: true, marker: 'same' } : { items: ['k2'], truncated: true, marker: 'same' });
    expect(await failure(list())).toMatchObject({ code: 'KMS_ERROR', message: expect.stringContaining('(a marker it gave before)') });
    expect(lists).toEqual(['ListKeys -', 'ListKeys same']);
    lists = [];
    let n = 0;
    script.ListKeys = () => ({ items: ['k1'], truncated: true, marker: `fresh-${++n}` });
    expect(await failure(list())).toMatchObject({ code: 'KMS_ERROR', message: expect.stringContaining('(a page with nothing new)') });
    expect(lists).toEqual(['ListKeys -', 'ListKeys fresh-1']);
  });
});

describe('kenv keys', () => {
  let aws: TempAws;
  beforeEach(() => {
    aws = useTempAws();
    aws.setEnv('AWS_ENDPOINT_URL_KMS', kms.url);
    aws.setEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    aws.setEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    aws.setEnv('AWS_REGION', 'eu-west-1');
  });
  afterEach(() => aws.restore());

  it('prints a table with access per key, and the reasons on stderr', async () => {
    const { out, err, io } = captureIo();
    expect(await runKeysCommand({}, io)).toBe(0);
    expect(out[0]).toMatch(/^ALIAS +KEY ID +STATE +ROTATION +MULTI-REGION +ENCRYPT +DECRYPT +DESCRIPTION$/);
    expect(out.find((l) => l.startsWith('alias/team '))).toMatch(/Enabled +no +no +yes +yes +Team files/);
    expect(out.find((l) => l.startsWith('alias/read-only '))).toMatch(/Enabled +no +no +no +\? +Decrypt only/);
    expect(out).toContain(`  alias/team-2 → ${ids.team}`);
    expect(err.some((l) => l.startsWith('alias/read-only: ') && l.includes('kms:GenerateDataKey'))).toBe(true);
  });

  it('--json --all gives every entry', async () => {
    const { out, io } = captureIo();
    expect(await runKeysCommand({ json: true, all: true }, io)).toBe(0);
    expect(JSON.parse(out.join('\n'))).toHaveLength(8);
  });

  it('no Region is NO_REGION', async () => {
    aws.setEnv('AWS_REGION', undefined);
    const { err, io } = captureIo();
    expect(await runKeysCommand({}, io)).toBe(1);
    expect(err[0]).toMatch(/^kenv: .*\[NO_REGION\]$/);
  });
});
