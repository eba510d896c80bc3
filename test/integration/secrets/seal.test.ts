import { spawn } from 'node:child_process';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSealCommand, runUnsealCommand } from '../../../electron/core/secrets/command.js';
import { MAX_SECRET_BYTES, sealSecret, unsealSecret } from '../../../electron/core/secrets/seal.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { captureIo } from '../../support/aws-env.js';
import { kmsClient, LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let otherArn: string;
const clients = (region?: string) => kmsClient(kms, region ?? 'us-east-1');

beforeAll(async () => {
  kms = await fixture.start();
  const c = clients();
  otherArn = (await c.send(new CreateKeyCommand({ Description: 'other' }))).KeyMetadata!.Arn!;
  await c.send(new CreateAliasCommand({ AliasName: 'alias/other', TargetKeyId: otherArn }));
});
afterAll(() => fixture.closeAll());

describe('sealSecret / unsealSecret', () => {
  it('round-trips a secret with its encryption context', async () => {
    const { sealed, keyArn } = await sealSecret(Buffer.from('hunter2'), { keyId: 'alias/kenv-demo', context: { app: 'billing' }, clients });
    expect(sealed).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(keyArn).toBe(kms.keys()[0]!.arn);
    const { secret } = await unsealSecret(`${sealed}\n`, { context: { app: 'billing' }, clients });
    expect(secret.toString()).toBe('hunter2');
  });

  it('seals exactly 4,096 bytes of binary', async () => {
    const bytes = Buffer.from(Array.from({ length: MAX_SECRET_BYTES }, (_, i) => (i * 7) % 256));
    const { sealed } = await sealSecret(bytes, { keyId: 'alias/kenv-demo', clients });
    expect((await unsealSecret(sealed, { clients })).secret.equals(bytes)).toBe(true);
  });

  it('refuses 4,097 bytes with SECRET_TOO_LARGE pointing to kenv encrypt, without calling KMS', async () => {
    const before = kms.counts().Encrypt ?? 0;
    await expect(sealSecret(Buffer.alloc(MAX_SECRET_BYTES + 1), { keyId: 'alias/kenv-demo', clients })).rejects.toMatchObject({
      code: 'SECRET_TOO_LARGE', message: expect.stringContaining('kenv encrypt FILE --key alias/kenv-demo'),
    });
    expect(kms.counts().Encrypt ?? 0).toBe(before);
  });

  it('refuses an empty secret', async () => {
    await expect(sealSecret(Buffer.alloc(0), { keyId: 'alias/kenv-demo', clients })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a different encryption context is KMS_INVALID_CIPHERTEXT', async () => {
    const { sealed } = await sealSecret(Buffer.from('x'), { keyId: 'alias/kenv-demo', context: { app: 'billing' }, clients });
    await expect(unsealSecret(sealed, { context: { app: 'other' }, clients })).rejects.toMatchObject({ code: 'KMS_INVALID_CIPHERTEXT' });
  });

  it('unsealing with another key is KMS_INCORRECT_KEY', async () => {
    const { sealed } = await sealSecret(Buffer.from('x'), { keyId: 'alias/kenv-demo', clients });
    await expect(unsealSecret(sealed, { keyId: otherArn, clients })).rejects.toMatchObject({ code: 'KMS_INCORRECT_KEY' });
  });

  it('text that is not base64 is INVALID_ARGUMENT', async () => {
    await expect(unsealSecret('not a sealed secret!', { clients })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('Encrypt denied names kms:Encrypt', async () => {
    kms.deny({ operation: 'Encrypt', key: 'alias/other' });
    try {
      await expect(sealSecret(Buffer.from('x'), { keyId: 'alias/other', clients })).rejects.toMatchObject({
        code: 'KMS_ACCESS_DENIED', message: expect.stringContaining('kms:Encrypt'),
      });
    } finally {
      kms.allow();
    }
  });
});

describe('kenv seal / kenv unseal', () => {
  it('prints base64 on stdout and the key on stderr; unseal writes the bytes back', async () => {
    const seal = captureIo();
    expect(await runSealCommand({ key: 'alias/kenv-demo', context: { env: 'prod' }, input: Buffer.from('s3cret'), clients }, seal.io)).toBe(0);
    expect(seal.out).toHaveLength(1);
    expect(seal.err[0]).toMatch(/^Sealed 6 bytes with arn:aws:kms:us-east-1:/);
    const unseal = captureIo();
    const written: Buffer[] = [];
    expect(await runUnsealCommand({ context: { env: 'prod' }, input: Buffer.from(seal.out[0]!), clients, write: (d) => written.push(Buffer.from(d)) }, unseal.io)).toBe(0);
    expect(Buffer.concat(written).toString()).toBe('s3cret');
    expect(unseal.out).toEqual([]);
  });

  it('kenv seal over 4 KB exits 1 with SECRET_TOO_LARGE', async () => {
    const { err, io } = captureIo();
    expect(await runSealCommand({ key: 'alias/kenv-demo', input: Buffer.alloc(5000, 1), clients }, io)).toBe(1);
    expect(err[0]).toMatch(/^kenv: The secret is 5000 bytes.*kenv encrypt.*\[SECRET_TOO_LARGE\]$/);
  });

  it('reads standard input in a real process, stopping past the limit', async () => {
    const script = `
      import { runSealCommand } from ${JSON.stringify(new URL('../../../electron/core/secrets/command.ts', import.meta.url).pathname)};
      const code = await runSealCommand({ key: 'alias/kenv-demo' }, { out: (l) => console.log(l), err: (l) => console.error(l) });
      process.exit(code);`;
    const env = { ...process.env, AWS_ENDPOINT_URL_KMS: kms.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    // Asynchronous on purpose: the local KMS answers from this process, so a synchronous spawn would deadlock.
    const run = (input: Buffer) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.on('error', () => undefined);
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      child.stdin.end(input);
    });
    const ok = await run(Buffer.from('from stdin'));
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const big = await run(Buffer.alloc(100_000, 65));
    expect(big.status).toBe(1);
    expect(big.stderr).toContain('SECRET_TOO_LARGE');
  });
});
