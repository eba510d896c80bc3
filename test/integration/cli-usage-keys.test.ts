import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problems, runKenv } from '../support/cli.js';

// Key options the CLI cannot build a keyring from are refused with one sentence naming the option and what to give,
// before any file is read or written. No run has AWS credentials or a KMS endpoint.

let dir: string;
let publicPem: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-usage-keys-'));
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  publicPem = join(dir, 'public.pem');
  await writeFile(publicPem, publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(dir, 'report.txt'), 'quarterly numbers');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const listing = async (): Promise<string[]> => (await readdir(dir)).sort();

describe('raw RSA and recipient options that cannot make a keyring', () => {
  it('a raw RSA key without its namespace, name and padding: exit 2 naming all four options, nothing written', async () => {
    const r = await runKenv(['encrypt', join(dir, 'report.txt'), '--raw-rsa-key', publicPem], { cwd: dir });
    expect(r.code).toBe(2);
    expect(problems(r.stderr)).toEqual([
      'kenv: A raw RSA key needs all four of --raw-rsa-key FILE.pem, --raw-rsa-namespace NS, --raw-rsa-name NAME and --raw-rsa-padding (oaep-sha1|oaep-sha256|oaep-sha384|oaep-sha512|pkcs1). [INVALID_ARGUMENT]',
    ]);
    expect(await listing()).toEqual(['public.pem', 'report.txt']);
  });

  it('a padding that is not one of the five: exit 2 listing them, nothing written', async () => {
    const r = await runKenv(['encrypt', join(dir, 'report.txt'), '--raw-rsa-key', publicPem, '--raw-rsa-namespace', 'ns', '--raw-rsa-name', 'n', '--raw-rsa-padding', 'oaep-md5'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(problems(r.stderr)).toEqual(['kenv: --raw-rsa-padding must be one of oaep-sha1, oaep-sha256, oaep-sha384, oaep-sha512, pkcs1; "oaep-md5" is not. [INVALID_ARGUMENT]']);
    expect(await listing()).toEqual(['public.pem', 'report.txt']);
  });

  it('decrypting with a PEM that holds only the public key: exit 2 saying the private key is needed, the .kenv not even opened', async () => {
    const r = await runKenv(['decrypt', join(dir, 'never-opened.kenv'), '--raw-rsa-key', publicPem, '--raw-rsa-namespace', 'ns', '--raw-rsa-name', 'n', '--raw-rsa-padding', 'oaep-sha256'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(problems(r.stderr)).toEqual([`kenv: Decrypting with a raw RSA key needs the private key; ${publicPem} holds only a public key. [INVALID_KEY]`]);
    expect(await listing()).toEqual(['public.pem', 'report.txt']);
  });

  it('a recipient file that does not exist: exit 2 naming it, nothing written', async () => {
    const missing = join(dir, 'no-such-recipient.json');
    const r = await runKenv(['encrypt', join(dir, 'report.txt'), '--recipient', missing], { cwd: dir });
    expect(r.code).toBe(2);
    expect(problems(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^kenv: Cannot read the recipient file ${missing}: .*\\[INVALID_KEY\\]$`))]);
    expect(await listing()).toEqual(['public.pem', 'report.txt']);
  });
});
