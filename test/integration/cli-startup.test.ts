import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../electron/core/local-kms/server.js';
import { problems, runKenv } from '../support/cli.js';
import { LocalKmsFixture, localKmsEnv } from '../support/local-kms.js';

// Cold start (issue 11): a command loads only what it runs. `kenv --help`, `kenv inspect` and a raw-key encrypt or
// decrypt load no AWS SDK, no keychain and no progress bar; the errors a person sees stay the same. And `kenv` runs
// the bundle `npm run build` makes (build/scripts/build-cli.mjs): one file for the CLI and one for the frame
// worker, not tsc's output module by module.

const ROOT = resolve(import.meta.dirname, '../..');
const fixture = new LocalKmsFixture();
let dir: string;
let keyFile: string;
let preload: string;
let register: string;
const RAW = (): string[] => ['--raw-aes-key', keyFile, '--raw-aes-namespace', 'ns', '--raw-aes-name', 'startup'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-startup-'));
  keyFile = join(dir, 'key.bin');
  await writeFile(keyFile, randomBytes(32));
  // Written at exit: every CommonJS module the process loaded (the bundle, the AWS SDK, the keychain and
  // cli-progress are CommonJS).
  preload = join(dir, 'loaded.cjs');
  await writeFile(preload, "process.on('exit', () => require('node:fs').appendFileSync(process.env.KENV_LOADED_OUT, Object.keys(require('node:module')._cache).join('\\n') + '\\n'));\n");
  // Written as they load: every ES module any thread of the process resolved (bin/kenv.js, the frame worker).
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(hooks, "import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const result = await next(specifier, context);\n  appendFileSync(process.env.KENV_LOADED_OUT, `${result.url}\\n`);\n  return result;\n}\n");
  register = join(dir, 'register.mjs');
  await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);
});

afterAll(async () => {
  await fixture.closeAll();
  await rm(dir, { recursive: true, force: true });
});

let run = 0;
async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; modules: string[] }> {
  const out = join(dir, `loaded-${++run}.txt`);
  const result = await runKenv(args, { cwd: dir, env: { ...env, NODE_OPTIONS: `--require ${preload} --import ${register}`, KENV_LOADED_OUT: out } });
  const modules = (await readFile(out, 'utf8')).split('\n').filter(Boolean).map((m) => m.replace(/^file:\/\//, ''));
  return { code: result.code, stderr: result.stderr, modules };
}

const heavy = (modules: string[]): string[] => modules.filter((m) => /node_modules\/(@aws-sdk|@smithy|@napi-rs|cli-progress|zod)\//.test(m));
/** The files of this project a process loaded (not node: built-ins, npm packages or this test's recorders). */
const ours = (modules: string[]): string[] =>
  [...new Set(modules.filter((m) => m.startsWith(`${ROOT}/`) && !m.includes('/node_modules/')).map((m) => relative(ROOT, m)))].sort();

describe('what a command loads', () => {
  it('kenv --help, inspect, and a raw-key encrypt and decrypt load no AWS SDK, keychain or progress bar', async () => {
    const plain = join(dir, 'one.txt');
    await writeFile(plain, 'x');
    const help = await loadedBy(['--help']);
    expect(help.code).toBe(0);
    expect(heavy(help.modules)).toEqual([]);
    expect(ours(help.modules)).toEqual(['bin/kenv.js', 'out/cli/kenv.cjs']);

    const encrypt = await loadedBy(['encrypt', plain, ...RAW()]);
    expect(problems(encrypt.stderr)).toEqual([]);
    expect(encrypt.code).toBe(0);
    expect(heavy(encrypt.modules)).toEqual([]);
    expect(ours(encrypt.modules)).toEqual(['bin/kenv.js', 'out/cli/kenv.cjs']);

    const inspect = await loadedBy(['inspect', `${plain}.kenv`]);
    expect(inspect.code).toBe(0);
    expect(heavy(inspect.modules)).toEqual([]);
    expect(ours(inspect.modules)).toEqual(['bin/kenv.js', 'out/cli/kenv.cjs']);

    const decrypt = await loadedBy(['decrypt', `${plain}.kenv`, ...RAW(), '--out', join(dir, 'opened')]);
    expect(problems(decrypt.stderr)).toEqual([]);
    expect(decrypt.code).toBe(0);
    expect(heavy(decrypt.modules)).toEqual([]);
    expect(ours(decrypt.modules)).toEqual(['bin/kenv.js', 'out/cli/kenv.cjs']);
    expect(await readFile(join(dir, 'opened', 'one.txt'), 'utf8')).toBe('x');
  });

  it('a KMS key on the command line still loads the SDK and fails as before without AWS', async () => {
    const plain = join(dir, 'kms.txt');
    await writeFile(plain, 'x');
    const result = await loadedBy(['encrypt', plain, '--key', 'alias/nowhere', '--region', 'us-east-1']);
    expect(result.code).toBe(1);
    expect(problems(result.stderr)).toHaveLength(1);
    expect(result.modules.some((m) => m.includes('@aws-sdk/client-kms'))).toBe(true);
  });
});

describe('the bundled command, end to end', () => {
  // Above 256 KiB a file is sealed and opened by the frame workers: the bundle must find its own worker file.
  const MIB = 1024 * 1024;

  it('encrypts and decrypts with a raw AES key through the bundle and its frame worker', async () => {
    const plain = join(dir, 'raw-big.bin');
    const bytes = randomBytes(3 * MIB + 5);
    await writeFile(plain, bytes);
    const encrypt = await loadedBy(['encrypt', plain, ...RAW(), '--frame-size', '64KiB']);
    expect(problems(encrypt.stderr)).toEqual([]);
    expect(encrypt.code).toBe(0);
    expect(ours(encrypt.modules)).toEqual(['bin/kenv.js', 'out/cli/frame-worker.js', 'out/cli/kenv.cjs']);

    const decrypt = await loadedBy(['decrypt', `${plain}.kenv`, ...RAW(), '--out', join(dir, 'raw-opened')]);
    expect(problems(decrypt.stderr)).toEqual([]);
    expect(decrypt.code).toBe(0);
    expect(ours(decrypt.modules)).toEqual(['bin/kenv.js', 'out/cli/frame-worker.js', 'out/cli/kenv.cjs']);
    expect((await readFile(join(dir, 'raw-opened', 'raw-big.bin'))).equals(bytes)).toBe(true);
  });

  it('encrypts and decrypts with a KMS key (the local KMS) through the bundle, loading the SDK from node_modules', async () => {
    const kms: LocalKms = await fixture.start();
    const env = localKmsEnv(kms, fixture.tempDir());
    const plain = join(dir, 'kms-big.bin');
    const bytes = randomBytes(MIB + 1);
    await writeFile(plain, bytes);
    const encrypt = await loadedBy(['encrypt', plain, '--key', 'alias/kenv-demo'], env);
    expect(problems(encrypt.stderr)).toEqual([]);
    expect(encrypt.code).toBe(0);
    expect(encrypt.modules.some((m) => m.includes('node_modules/@aws-sdk/client-kms/'))).toBe(true);
    expect(ours(encrypt.modules)).toEqual(['bin/kenv.js', 'out/cli/frame-worker.js', 'out/cli/kenv.cjs']);

    const decrypt = await loadedBy(['decrypt', `${plain}.kenv`, '--out', join(dir, 'kms-opened')], env);
    expect(problems(decrypt.stderr)).toEqual([]);
    expect(decrypt.code).toBe(0);
    expect(ours(decrypt.modules)).toEqual(['bin/kenv.js', 'out/cli/frame-worker.js', 'out/cli/kenv.cjs']);
    expect((await readFile(join(dir, 'kms-opened', 'kms-big.bin'))).equals(bytes)).toBe(true);
  });
});

describe('lazy loading keeps the errors', () => {
  it('a bad --trust-account is refused at once, before any file is read', async () => {
    const result = await runKenv(['decrypt', join(dir, 'missing.kenv'), ...RAW(), '--trust-account', 'abc'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual(['kenv: "abc" is not an AWS account id: give 12 digits. [INVALID_ARGUMENT]']);
  });

  it('an encrypt without any key says how to give one', async () => {
    const plain = join(dir, 'nokey.txt');
    await writeFile(plain, 'x');
    const result = await runKenv(['encrypt', plain], { cwd: dir });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)[0]).toMatch(/Encrypting needs a key: pass --key KEY .*\[INVALID_ARGUMENT\]$/);
  });

  it('a raw key that cannot open a file names every data key it tried', async () => {
    const plain = join(dir, 'other.txt');
    await writeFile(plain, 'x');
    expect((await runKenv(['encrypt', plain, ...RAW()], { cwd: dir })).code).toBe(0);
    const otherKey = join(dir, 'other-key.bin');
    await writeFile(otherKey, randomBytes(32));
    const result = await runKenv(['decrypt', `${plain}.kenv`, '--raw-aes-key', otherKey, '--raw-aes-namespace', 'ns', '--raw-aes-name', 'startup', '--out', join(dir, 'nothing')], { cwd: dir });
    expect(result.code).toBe(1);
    expect(problems(result.stderr)[0]).toMatch(/\[NO_KEY_OPENED\]$/);
  });
});
