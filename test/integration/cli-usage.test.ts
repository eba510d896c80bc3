import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problems, runKenv } from '../support/cli.js';

// A command line the CLI cannot act on is refused before any file is touched or any KMS call is made: exit status 2,
// one sentence saying what is wrong and what to give instead. None of these runs has AWS credentials or a KMS
// endpoint, so a refusal that came after a KMS call would show up as a credentials error instead.

let dir: string;
let keyFile: string;
const RAW = (): string[] => ['--raw-aes-key', keyFile, '--raw-aes-namespace', 'ns', '--raw-aes-name', 'usage'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-usage-'));
  keyFile = join(dir, 'key.bin');
  await writeFile(keyFile, randomBytes(32));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh folder holding one plaintext file; returns the file and the folder's listing function. */
async function oneFile(name: string): Promise<{ file: string; folder: string; listing: () => Promise<string[]> }> {
  const folder = await mkdtemp(join(dir, `${name}-`));
  const file = join(folder, 'report.txt');
  await writeFile(file, 'quarterly numbers');
  return { file, folder, listing: async () => (await readdir(folder)).sort() };
}

describe('usage errors: exit 2, one sentence, nothing written', () => {
  it('encrypt --sign with --recipient is refused: a signature anyone with the public key can make proves nothing', async () => {
    const { file, listing } = await oneFile('sign-recipient');
    const result = await runKenv(['encrypt', file, '--sign', '--recipient', join(dir, 'never-read.pem')], { cwd: dir });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual([expect.stringMatching(/^kenv: --sign cannot be used with --recipient: .*\[INVALID_ARGUMENT\]$/)]);
    expect(await listing()).toEqual(['report.txt']);
  });

  it('decrypt has no --recipient: a recipient file encrypts only', async () => {
    const result = await runKenv(['decrypt', join(dir, 'x.kenv'), '--recipient', join(dir, 'r.pem')], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--recipient'/);
  });

  it('"-" given twice is refused: standard input can be read only once', async () => {
    const result = await runKenv(['encrypt', '-', '-', ...RAW()], { cwd: dir, input: Buffer.from('x') });
    expect(result.code).toBe(2);
    expect(result.stdout.length).toBe(0);
    expect(problems(result.stderr)).toEqual(['kenv: "-" (standard input to standard output) can be given only once. [INVALID_ARGUMENT]']);
  });

  it('a context pair without a key, a key given twice with two values, and a reserved aws-crypto- key are refused', async () => {
    const { file, listing } = await oneFile('context');
    const noKey = await runKenv(['encrypt', file, ...RAW(), '-c', '=value'], { cwd: dir });
    expect(noKey.code).toBe(2);
    expect(problems(noKey.stderr)).toEqual(['kenv: --context takes key=value pairs; "=value" has no key. [INVALID_ARGUMENT]']);
    const twice = await runKenv(['encrypt', file, ...RAW(), '-c', 'team=a', '-c', 'team=b'], { cwd: dir });
    expect(twice.code).toBe(2);
    expect(problems(twice.stderr)).toEqual(['kenv: The context key "team" is given twice with different values. [INVALID_ARGUMENT]']);
    const reserved = await runKenv(['encrypt', file, ...RAW(), '-c', 'aws-crypto-public-key=forged'], { cwd: dir });
    expect(reserved.code).toBe(2);
    expect(problems(reserved.stderr)).toEqual([expect.stringMatching(/^kenv: The encryption context key "aws-crypto-public-key" is reserved by the AWS Encryption SDK .*\[INVALID_ARGUMENT\]$/)]);
    expect(await listing()).toEqual(['report.txt']);
  });

  it('the same context pair given twice with the same value is one pair, and the file opens with it required', async () => {
    const { file, folder } = await oneFile('context-same');
    const enc = await runKenv(['encrypt', file, ...RAW(), '-c', 'team=a', '-c', 'team=a', '--no-file-id'], { cwd: dir });
    expect(problems(enc.stderr)).toEqual([]);
    expect(enc.code).toBe(0);
    const inspect = await runKenv(['inspect', `${file}.kenv`, '--json'], { cwd: dir });
    expect(JSON.parse(inspect.stdout.toString()).encryptionContext).toEqual({ team: 'a' });
    const dec = await runKenv(['decrypt', `${file}.kenv`, ...RAW(), '-c', 'team=a', '--out', join(folder, 'opened')], { cwd: dir });
    expect(problems(dec.stderr)).toEqual([]);
    expect(await readFile(join(folder, 'opened', 'report.txt'), 'utf8')).toBe('quarterly numbers');
  });

  it('a Region, frame size, data key cap or key reference that is not one is refused by name, with what to give', async () => {
    const { file, listing } = await oneFile('options');
    const cases: [string[], RegExp][] = [
      [['--region', 'eu west 1'], /"eu west 1" is not an AWS Region name: give one such as us-east-1/],
      [['--frame-size', '4KB'], /"4KB" is not a size: give bytes, or a whole number with KiB, MiB or GiB/],
      [['--frame-size', '128MiB'], /"128MiB" is out of range: give 1 byte to 64 MiB/],
      [['--max-data-keys', '0'], /"0" is not a number of data keys: give a whole number from 1 to 65535/],
      [['--key', 'my key'], /"my key" is not a KMS key reference: give a key id, a key ARN, an alias name/],
    ];
    for (const [args, message] of cases) {
      const result = await runKenv(['encrypt', file, ...RAW(), ...args], { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(await listing()).toEqual(['report.txt']);
  });

  it('a raw AES key needs all three flags', async () => {
    const { file, listing } = await oneFile('raw-partial');
    const result = await runKenv(['encrypt', file, '--raw-aes-key', keyFile, '--raw-aes-name', 'usage'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual(['kenv: A raw AES key needs all three of --raw-aes-key FILE, --raw-aes-namespace NS and --raw-aes-name NAME. [INVALID_ARGUMENT]']);
    expect(await listing()).toEqual(['report.txt']);
  });

  it('a raw AES key file that is missing, or is neither 32 bytes nor their base64, is refused with how to make one', async () => {
    const { file, listing } = await oneFile('raw-bad');
    const missing = join(dir, 'no-such-key.bin');
    const gone = await runKenv(['encrypt', file, '--raw-aes-key', missing, '--raw-aes-namespace', 'ns', '--raw-aes-name', 'usage'], { cwd: dir });
    expect(gone.code).toBe(2);
    expect(problems(gone.stderr)).toEqual([expect.stringMatching(new RegExp(`^kenv: Cannot read the raw AES key file ${missing}: .*\\[INVALID_KEY\\]$`))]);
    const short = join(dir, 'short-key.bin');
    await writeFile(short, randomBytes(31));
    const wrong = await runKenv(['encrypt', file, '--raw-aes-key', short, '--raw-aes-namespace', 'ns', '--raw-aes-name', 'usage'], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(problems(wrong.stderr)).toEqual([
      `kenv: The raw AES key file ${short} must hold exactly 32 bytes or their base64 (44 characters); it holds 31 bytes. Make one with: head -c 32 /dev/urandom > ${short} [INVALID_KEY]`,
    ]);
    expect(await listing()).toEqual(['report.txt']);
  });

  it('a raw AES key file holding the base64 of 32 bytes is the same key as the 32 bytes themselves', async () => {
    const { file, folder } = await oneFile('raw-base64');
    const b64 = join(dir, 'key.b64');
    await writeFile(b64, `${(await readFile(keyFile)).toString('base64')}\n`);
    const enc = await runKenv(['encrypt', file, '--raw-aes-key', b64, '--raw-aes-namespace', 'ns', '--raw-aes-name', 'usage'], { cwd: dir });
    expect(problems(enc.stderr)).toEqual([]);
    const dec = await runKenv(['decrypt', `${file}.kenv`, ...RAW(), '--out', join(folder, 'opened')], { cwd: dir });
    expect(problems(dec.stderr)).toEqual([]);
    expect(await readFile(join(folder, 'opened', 'report.txt'), 'utf8')).toBe('quarterly numbers');
  });

  it('a raw RSA key file that cannot be read is refused naming the file', async () => {
    const { file, listing } = await oneFile('rsa-missing');
    const missing = join(dir, 'no-such.pem');
    const result = await runKenv(['encrypt', file, '--raw-rsa-key', missing, '--raw-rsa-namespace', 'ns', '--raw-rsa-name', 'usage', '--raw-rsa-padding', 'oaep-sha256'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual([expect.stringMatching(new RegExp(`^kenv: Cannot read the RSA key file ${missing}: .*\\[INVALID_KEY\\]$`))]);
    expect(await listing()).toEqual(['report.txt']);
  });

  it('sync --key without --encrypt-on-arrival is refused: the key would be used for nothing', async () => {
    const vault = join(dir, 'vault');
    await mkdir(vault, { recursive: true });
    const result = await runKenv(['sync', vault, 's3://bucket/prefix', '--key', 'alias/kenv-demo'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual(['kenv: --key and --context only apply with --encrypt-on-arrival. [INVALID_ARGUMENT]']);
  });

  it('an unknown command or a missing argument is a usage error that points to --help; --version prints the version', async () => {
    const unknown = await runKenv(['encrpyt', 'x'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'encrpyt'/);
    expect(unknown.stderr).toMatch(/run kenv --help for usage/);
    const missing = await runKenv(['inspect'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'file'/);
    const version = await runKenv(['--version'], { cwd: dir });
    expect(version.code).toBe(0);
    expect(version.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
