import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand, DecryptCommand, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serializeEncryptionContext } from '../../electron/core/format/context.js';
import { parseHeader } from '../../electron/core/format/header.js';
import type { LocalKms } from '../../electron/core/local-kms/server.js';
import { runKenv, problems } from '../support/cli.js';
import { LocalKmsFixture, kmsClient, localKmsEnv } from '../support/local-kms.js';

// Every kind of KMS key through the built CLI against the local KMS: RSA recipients, multi-Region replicas,
// keys of other accounts and the trusted-accounts filter.
// Many CLI runs and RSA key generation: on a loaded 2-core machine these take minutes, not seconds.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let env: Record<string, string>;
let rsaArn: string;
let recipientFile: string;
const FOREIGN = '999988887777';

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  env = localKmsEnv(kms, dir);
  rsaArn = (await kmsClient(kms).send(new CreateKeyCommand({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.Arn!;
  recipientFile = join(dir, 'recipient.txt');
  const out = await runKenv(['public-key', rsaArn, '--out', recipientFile], { env });
  expect(problems(out.stderr)).toEqual([]);
  expect(out.code).toBe(0);
});
afterAll(() => fixture.closeAll());

function file(name: string, bytes: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** No credentials, no reachable endpoint: what a person without AWS has. */
const offline = (): Record<string, string> => ({ HOME: dir, AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9' });

describe('kenv public-key', () => {
  it('writes one small recipient file: key ARN, algorithm and PEM public key', () => {
    const text = readFileSync(recipientFile, 'utf8');
    expect(text).toContain(`Key-ARN: ${rsaArn}\n`);
    expect(text).toContain('Encryption-Algorithm: RSAES_OAEP_SHA_256\n');
    expect(text).toMatch(/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----\n$/);
    expect(text.length).toBeLessThan(2000);
  });

  it('writes RSAES_OAEP_SHA_1 when chosen, and prints to stdout without --out', async () => {
    const out = await runKenv(['public-key', rsaArn, '--algorithm', 'RSAES_OAEP_SHA_1'], { env });
    expect(out.code).toBe(0);
    expect(out.stdout.toString()).toContain('Encryption-Algorithm: RSAES_OAEP_SHA_1\n');
  });

  it('refuses a signing key and a symmetric key with a clear error', async () => {
    const signing = (await kmsClient(kms).send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    const sign = await runKenv(['public-key', signing], { env });
    expect(sign.code).toBe(2);
    expect(sign.stderr).toMatch(/signing.*ENCRYPT_DECRYPT.*\[INVALID_KEY\]/);
    const symmetric = await runKenv(['public-key', 'alias/kenv-demo'], { env });
    expect(symmetric.code).toBe(2);
    expect(symmetric.stderr).toMatch(/symmetric KMS key.*\[INVALID_KEY\]/);
  });
});

describe('encrypting for a recipient (KMS RSA keyring)', () => {
  it('works with no AWS credentials and no network; the key holder decrypts with KMS', async () => {
    const plaintext = randomBytes(70_000);
    const input = file('dropbox.bin', plaintext);
    const before = kms.counts();
    const enc = await runKenv(['encrypt', input, '--recipient', recipientFile, '--context', 'from=alice'], { env: offline() });
    expect(problems(enc.stderr)).toEqual([]);
    expect(enc.code).toBe(0);
    expect(kms.counts()).toEqual(before);
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'opened'), '--context', 'from=alice'], { env });
    expect(problems(dec.stderr)).toEqual([]);
    expect(dec.code).toBe(0);
    expect(readFileSync(join(dir, 'opened', 'dropbox.bin')).equals(plaintext)).toBe(true);
  });

  it('writes exactly what the ESDK specification says: aws-kms-rsa, the key ARN, RSA-OAEP of SHA-384(context) || data key', async () => {
    const input = file('spec.txt', 'spec check');
    const context = { from: 'bob', 'ünï': 'cödé' };
    expect((await runKenv(['encrypt', input, '--recipient', recipientFile, '--context', 'from=bob', '--context', 'ünï=cödé'], { env: offline() })).code).toBe(0);
    const header = parseHeader(readFileSync(`${input}.kenv`));
    expect(header.encryptedDataKeys).toHaveLength(1);
    const edk = header.encryptedDataKeys[0]!;
    expect(edk.providerId).toBe('aws-kms-rsa');
    expect(edk.providerInfo.toString()).toBe(rsaArn);
    expect(edk.ciphertext.length).toBe(384);
    const out = await kmsClient(kms).send(new DecryptCommand({ KeyId: rsaArn, CiphertextBlob: edk.ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const plaintext = Buffer.from(out.Plaintext!);
    expect(plaintext.length).toBe(48 + 32);
    // The stored context: the pairs given, plus the random kenv:file-id audit id every Kenv file carries.
    expect(header.encryptionContext).toMatchObject(context);
    expect(plaintext.subarray(0, 48).equals(createHash('sha384').update(serializeEncryptionContext(header.encryptionContext)).digest())).toBe(true);
  });

  it('round-trips with RSAES_OAEP_SHA_1', async () => {
    const sha1File = file('recipient-sha1.txt', (await runKenv(['public-key', rsaArn, '--algorithm', 'RSAES_OAEP_SHA_1'], { env })).stdout);
    const input = file('sha1.txt', 'sha1 recipient');
    expect((await runKenv(['encrypt', input, '--recipient', sha1File], { env: offline() })).code).toBe(0);
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'sha1-out')], { env });
    expect(problems(dec.stderr)).toEqual([]);
    expect(readFileSync(join(dir, 'sha1-out', 'sha1.txt'), 'utf8')).toBe('sha1 recipient');
  });

  it('refuses --sign with a recipient (signing suites are not allowed with this keyring)', async () => {
    const out = await runKenv(['encrypt', file('signed.txt', 'x'), '--recipient', recipientFile, '--sign'], { env: offline() });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/--sign.*--recipient.*\[INVALID_ARGUMENT\]/);
  });

  it('mixes --key and --recipient in one file: either opens it', async () => {
    const input = file('mixed.txt', 'both');
    const enc = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--recipient', recipientFile], { env });
    expect(problems(enc.stderr)).toEqual([]);
    const ids = parseHeader(readFileSync(`${input}.kenv`)).encryptedDataKeys.map((e) => e.providerId);
    expect(ids).toEqual(['aws-kms', 'aws-kms-rsa']);
    kms.deny({ operation: 'Decrypt', key: 'alias/kenv-demo' });
    try {
      const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'mixed-out')], { env });
      expect(problems(dec.stderr)).toEqual([]);
      expect(readFileSync(join(dir, 'mixed-out', 'mixed.txt'), 'utf8')).toBe('both');
    } finally {
      kms.allow();
    }
  });

  it('a damaged or foreign recipient file is refused before anything is written', async () => {
    const bad = file('bad-recipient.txt', readFileSync(recipientFile, 'utf8').replace(/^Key-ARN: .*$/m, 'Key-ARN: alias/nope'));
    const out = await runKenv(['encrypt', file('bad.txt', 'x'), '--recipient', bad], { env: offline() });
    expect(out.code).toBe(2);
    expect(existsSync(join(dir, 'bad.txt.kenv'))).toBe(false);
    expect(out.stderr).toMatch(/not a Kenv recipient file.*not a KMS key ARN.*\[INVALID_KEY\]/);
  });

  it('decrypting with the wrong context fails without releasing anything', async () => {
    const input = file('ctx.txt', 'context bound');
    expect((await runKenv(['encrypt', input, '--recipient', recipientFile, '--context', 'a=1'], { env: offline() })).code).toBe(0);
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'ctx-out'), '--context', 'a=2'], { env });
    expect(dec.code).toBe(1);
    expect(dec.stderr).toMatch(/\[(CONTEXT_MISMATCH|NO_KEY_OPENED)\]/);
  });
});

/** The local server's KMS operation counts, without the STS calls it answers on the same port. */
function kmsCounts(): Record<string, number> {
  return Object.fromEntries(Object.entries(kms.counts()).filter(([op]) => !op.startsWith('sts:')));
}

describe('trusted accounts (discovery filter)', () => {
  /** A file whose only data key names an RSA key of another account (made offline, as anyone could). */
  function foreignFile(name: string): string {
    const foreignArn = rsaArn.replace(':111122223333:', `:${FOREIGN}:`);
    const recipient = file(`${name}.recipient`, readFileSync(recipientFile, 'utf8').replace(rsaArn, foreignArn));
    return recipient;
  }

  it('a file naming a key in an untrusted account fails before any KMS call with UNTRUSTED_KEY_ACCOUNT', async () => {
    const input = file('stranger.txt', 'from a stranger');
    expect((await runKenv(['encrypt', input, '--recipient', foreignFile('stranger')], { env: offline() })).code).toBe(0);
    const before = kmsCounts();
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'stranger-out')], { env });
    expect(dec.code).toBe(1);
    expect(dec.stderr).toContain(FOREIGN);
    expect(dec.stderr).toContain(`--trust-account ${FOREIGN}`);
    expect(dec.stderr).toMatch(/\[UNTRUSTED_KEY_ACCOUNT\]/);
    // STS GetCallerIdentity (the caller's own account) may be asked; KMS not at all.
    expect(kmsCounts()).toEqual(before);
  });

  it('--trust-account and kenv_trusted_accounts in the profile let Kenv call KMS for that account', async () => {
    const input = file('trusted.txt', 'trusted');
    expect((await runKenv(['encrypt', input, '--recipient', foreignFile('trusted')], { env: offline() })).code).toBe(0);
    const before = kms.counts().Decrypt ?? 0;
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'trusted-out'), '--trust-account', FOREIGN], { env });
    // The local KMS has no such account's key: the call is made and fails as a missing key, not as untrusted.
    expect(dec.stderr).not.toContain('UNTRUSTED_KEY_ACCOUNT');
    expect(kms.counts().Decrypt ?? 0).toBeGreaterThan(before);

    const home = fixture.tempDir();
    writeFileSync(join(home, 'config'), `[default]\nregion = us-east-1\nkenv_trusted_accounts = 123456789012, ${FOREIGN}\n`);
    const viaProfile = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'trusted-out2')], { env: { ...env, AWS_CONFIG_FILE: join(home, 'config') } });
    expect(viaProfile.stderr).not.toContain('UNTRUSTED_KEY_ACCOUNT');
  });

  it("the identity's own account is trusted without any setting (STS GetCallerIdentity)", async () => {
    const input = file('own.txt', 'own');
    expect((await runKenv(['encrypt', input, '--key', 'alias/kenv-demo'], { env })).code).toBe(0);
    const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'own-out')], { env });
    expect(problems(dec.stderr)).toEqual([]);
    expect(dec.code).toBe(0);
  });
});

describe('multi-Region keys', () => {
  it('a file encrypted under the primary in us-east-1 decrypts with the replica in the user\'s Region, naming nothing', async () => {
    const primary = (await kmsClient(kms).send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
    await kmsClient(kms).send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: 'eu-west-1' }));
    const input = file('mrk.txt', 'multi-Region');
    expect((await runKenv(['encrypt', input, '--key', primary], { env })).code).toBe(0);
    // The primary's Region refuses: only the replica can open it.
    kms.deny({ operation: 'Decrypt', key: primary });
    try {
      const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, 'mrk-out')], { env: { ...env, AWS_REGION: 'eu-west-1' } });
      expect(problems(dec.stderr)).toEqual([]);
      expect(readFileSync(join(dir, 'mrk-out', 'mrk.txt'), 'utf8')).toBe('multi-Region');
    } finally {
      kms.allow();
    }
  });
});

describe('kenv keys', () => {
  it('shows a multi-Region key with its primary and replicas, and RSA keys for people without AWS', async () => {
    const primary = (await kmsClient(kms).send(new CreateKeyCommand({ MultiRegion: true, Description: 'shared' }))).KeyMetadata!;
    await kmsClient(kms).send(new ReplicateKeyCommand({ KeyId: primary.Arn!, ReplicaRegion: 'ap-south-1' }));
    const out = await runKenv(['keys'], { env });
    expect(out.code).toBe(0);
    const text = out.stdout.toString();
    expect(text).toContain(`${primary.KeyId}: primary in us-east-1; replicas in ap-south-1`);
    expect(text).toMatch(new RegExp(`For people without AWS[\\s\\S]*RSA_3072  ${rsaArn}`));
    const replica = await runKenv(['keys', '--region', 'ap-south-1'], { env });
    expect(replica.stdout.toString()).toMatch(new RegExp(`${primary.KeyId} +Enabled .* replica `));
  });
});

describe('raw RSA keys on the command line', () => {
  it('encrypts with a public or a private PEM, decrypts with the private PEM, refuses a public PEM on decrypt', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privatePem = file('rsa-private.pem', pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const publicPem = file('rsa-public.pem', pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    const flags = (pem: string) => ['--raw-rsa-key', pem, '--raw-rsa-namespace', 'team', '--raw-rsa-name', 'laptop', '--raw-rsa-padding', 'oaep-sha256'];
    for (const [name, pem] of [['pub', publicPem], ['priv', privatePem]] as const) {
      const input = file(`raw-${name}.txt`, `raw rsa ${name}`);
      const enc = await runKenv(['encrypt', input, ...flags(pem)], { env: offline() });
      expect(problems(enc.stderr)).toEqual([]);
      const dec = await runKenv(['decrypt', `${input}.kenv`, '--out', join(dir, `raw-${name}-out`), ...flags(privatePem)], { env: offline() });
      expect(problems(dec.stderr)).toEqual([]);
      expect(readFileSync(join(dir, `raw-${name}-out`, `raw-${name}.txt`), 'utf8')).toBe(`raw rsa ${name}`);
    }
    const inspected = await runKenv(['inspect', join(dir, 'raw-pub.txt.kenv')], { env: offline() });
    expect(inspected.stdout.toString()).toContain('raw RSA  team/laptop');
    const refused = await runKenv(['decrypt', join(dir, 'raw-pub.txt.kenv'), '--out', join(dir, 'raw-x'), ...flags(publicPem)], { env: offline() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/needs the private key.*\[INVALID_KEY\]/);
    const badPadding = await runKenv(['encrypt', file('raw-pad.txt', 'x'), ...flags(publicPem).slice(0, 6), '--raw-rsa-padding', 'oaep-md5'], { env: offline() });
    expect(badPadding.code).toBe(2);
    expect(badPadding.stderr).toMatch(/--raw-rsa-padding must be one of/);
  });
});
