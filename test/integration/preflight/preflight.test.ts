import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { runKenv, problems } from '../../support/cli.js';
import { LocalKmsFixture, kmsClient, localKmsEnv } from '../../support/local-kms.js';
import { type MotoServer, startMoto } from '../../support/moto.js';

// Preflight (encrypt refuses to write what this identity cannot open) and `kenv keys check`, through the CLI.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  env = localKmsEnv(kms, dir);
});
afterAll(() => fixture.closeAll());

async function newKey(): Promise<string> {
  const out = await kmsClient(kms).send(new CreateKeyCommand({ Description: 'preflight test key' }));
  return out.KeyMetadata!.Arn!;
}

function input(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, `contents of ${name}`);
  return path;
}

describe('preflight before encrypt', () => {
  it('stops an identity without kms:Decrypt before anything is written, naming the key and the permission', async () => {
    const key = await newKey();
    const file = input('no-decrypt.txt');
    kms.deny({ operation: 'Decrypt', key });
    try {
      const before = readdirSync(dir).sort();
      const r = await runKenv(['encrypt', file, '--key', key], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('[KMS_ACCESS_DENIED]');
      expect(r.stderr).toContain('Preflight');
      expect(r.stderr).toContain(key);
      expect(r.stderr).toContain('kms:Decrypt');
      expect(r.stderr).toContain('--no-preflight');
      expect(existsSync(`${file}.kenv`)).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(before);

      const skipped = await runKenv(['encrypt', file, '--key', key, '--no-preflight'], { env });
      expect(problems(skipped.stderr)).toEqual([]);
      expect(skipped.code).toBe(0);
      expect(existsSync(`${file}.kenv`)).toBe(true);
    } finally {
      kms.allow();
    }
  });

  it('passes when one of several keys would open the file', async () => {
    const denied = await newKey();
    const file = input('one-of-two.txt');
    kms.deny({ operation: 'Decrypt', key: denied });
    try {
      const r = await runKenv(['encrypt', file, '--key', denied, '--key', 'alias/kenv-demo'], { env });
      expect(problems(r.stderr)).toEqual([]);
      expect(r.code).toBe(0);
    } finally {
      kms.allow();
    }
  });

  it('stops every file of a batch and names each', async () => {
    const key = await newKey();
    const files = ['b1.txt', 'b2.txt', 'b3.txt'].map(input);
    kms.deny({ operation: 'Decrypt', key });
    try {
      const r = await runKenv(['encrypt', ...files, '--key', key], { env });
      expect(r.code).toBe(1);
      for (const f of files) {
        expect(r.stderr).toContain(`kenv: ${f}:`);
        expect(existsSync(`${f}.kenv`)).toBe(false);
      }
    } finally {
      kms.allow();
    }
  });

  it('checks a cached data key once, not once per file', async () => {
    const key = await newKey();
    const files = ['c1.txt', 'c2.txt', 'c3.txt', 'c4.txt'].map(input);
    const before = kms.counts().Decrypt ?? 0;
    const r = await runKenv(['encrypt', ...files, '--key', key, '--no-file-id'], { env });
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect((kms.counts().Decrypt ?? 0) - before).toBe(1);
  });
});

describe('kenv keys check', () => {
  it('proves the round trip of a usable key without a plaintext key', async () => {
    const key = await newKey();
    const counts = kms.counts();
    const r = await runKenv(['keys', 'check', key], { env });
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/kms:GenerateDataKeyWithoutPlaintext\s+allowed/);
    expect(out).toMatch(/kms:Decrypt\s+allowed\s+DryRun on that data key/);
    expect(out).toContain('can encrypt files under this key and open them again');
    const after = kms.counts();
    expect((after.GenerateDataKeyWithoutPlaintext ?? 0) - (counts.GenerateDataKeyWithoutPlaintext ?? 0)).toBe(1);
  });

  it('says plainly when this identity could not open files under the key', async () => {
    const key = await newKey();
    kms.deny({ operation: 'Decrypt', key });
    try {
      const r = await runKenv(['keys', 'check', key, '--json'], { env });
      expect(r.code).toBe(1);
      const [report] = JSON.parse(r.stdout.toString()) as { roundTrip: boolean; checks: { action: string; allowed: boolean; code?: string }[] }[];
      expect(report!.roundTrip).toBe(false);
      expect(report!.checks.find((c) => c.action === 'kms:Decrypt')).toMatchObject({ allowed: false, code: 'KMS_ACCESS_DENIED' });
      expect(report!.checks.find((c) => c.action === 'kms:GenerateDataKey')).toMatchObject({ allowed: true });
    } finally {
      kms.allow();
    }
  });

  it('still lists keys: kenv keys without check', async () => {
    const r = await runKenv(['keys', '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toBeInstanceOf(Array);
  });
});

describe('against moto, which ignores DryRun on Decrypt', () => {
  let moto: MotoServer;
  let motoEnv: Record<string, string>;
  let key: string;
  beforeAll(async () => {
    moto = await startMoto();
    motoEnv = { AWS_ENDPOINT_URL_KMS: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', HOME: dir };
    const client = new KMSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    key = (await client.send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.Arn!;
    await client.send(new CreateAliasCommand({ AliasName: 'alias/moto-preflight', TargetKeyId: key }));
    client.destroy();
  });
  afterAll(() => moto?.close());

  it('does not fail preflight spuriously, and keys check reports the round trip', async () => {
    const file = input('moto.txt');
    const r = await runKenv(['encrypt', file, '--key', 'alias/moto-preflight'], { env: motoEnv });
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    const check = await runKenv(['keys', 'check', key], { env: motoEnv });
    expect(check.code).toBe(0);
    expect(check.stdout.toString()).toContain('this KMS ignores DryRun');
  });
});
