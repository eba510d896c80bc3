import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../electron/core/local-kms/server.js';
import { childCoverageEnv, KENV_BIN, runKenv } from '../support/cli.js';
import { LocalKmsFixture, localKmsEnv } from '../support/local-kms.js';
import { type S3TestServer, startS3Server } from '../support/s3-server.js';
import { timeLimit } from '../support/timeouts.js';

// The CLI as a Unix tool (issue 9): data alone on stdout, per-file errors in batches, options checked with exit 2,
// a closed or full stdout handled, output folders made with care. Every test runs the built `kenv` in a child.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  mkdirSync(join(dir, '.aws'));
  writeFileSync(join(dir, '.aws', 'config'), '[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\n');
  // decrypt asks STS for the account it runs as (trusted accounts); the local KMS answers on the same port.
  env = localKmsEnv(kms, dir);
});
afterAll(() => fixture.closeAll());

function file(name: string, bytes: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function encrypted(name: string, bytes: Buffer | string, ...args: string[]): Promise<string> {
  const input = file(name, bytes);
  const enc = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', ...args], { env });
  expect(enc.code).toBe(0);
  return `${input}.kenv`;
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs kenv with its stdout on a pipe whose reader goes away: after `readBytes` bytes (0: before kenv writes
 * anything), the read end is closed, as `| head -c N` does.
 */
function runWithClosingReader(args: string[], opts: { input?: Buffer; readBytes?: number; env?: Record<string, string> } = {}): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KENV_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true', ...childCoverageEnv(), ...env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let got = 0;
    let err = '';
    const readBytes = opts.readBytes ?? 0;
    if (readBytes === 0) child.stdout.destroy();
    else {
      child.stdout.on('data', (c: Buffer) => {
        out.push(c);
        got += c.length;
        if (got >= readBytes) child.stdout.destroy();
      });
    }
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

/** Runs kenv with its stdout on /dev/full, where every write fails with ENOSPC. */
function runToFullDisk(args: string[], opts: { input?: Buffer; env?: Record<string, string> } = {}): Promise<Ended> {
  const full = openSync('/dev/full', 'w');
  return new Promise<Ended>((resolve, reject) => {
    const child = spawn(process.execPath, [KENV_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true', ...childCoverageEnv(), ...env, ...opts.env },
      stdio: ['pipe', full, 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.alloc(0), stderr: err }));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? Buffer.alloc(0));
  }).finally(() => closeSync(full));
}

describe('stdout carries data only', () => {
  it('encrypt - with a file beside it: stdout is the message alone, the status line is on stderr', async () => {
    const other = file('beside.txt', 'beside');
    const enc = await runKenv(['encrypt', '-', other, '--out', join(dir, 'beside-out'), '--key', 'alias/kenv-demo'], { env, input: Buffer.from('x') });
    expect(enc.code).toBe(0);
    expect(enc.stderr).toBe(`encrypted ${other} -> ${join(dir, 'beside-out', 'beside.txt.kenv')}\n`);
    const dec = await runKenv(['decrypt', '-'], { env, input: enc.stdout });
    expect(dec.stderr).toBe('');
    expect(dec.stdout.toString()).toBe('x');
  });

  it('decrypt - with a file beside it: stdout is the plaintext alone', async () => {
    const stdinMessage = await encrypted('stdin-part.txt', 'from stdin');
    const fileMessage = await encrypted('file-part.txt', 'from a file');
    const dec = await runKenv(['decrypt', fileMessage, '-', '--out', join(dir, 'parts-out')], { env, input: readFileSync(stdinMessage) });
    expect(dec.code).toBe(0);
    expect(dec.stdout.toString()).toBe('from stdin');
    expect(dec.stderr).toContain('decrypted ');
  });

  it('a batch of files writes nothing on stdout', async () => {
    const inputs = ['q1.txt', 'q2.txt'].map((n) => file(n, n));
    const enc = await runKenv(['encrypt', ...inputs, '--key', 'alias/kenv-demo', '--out', join(dir, 'quiet')], { env });
    expect(enc.code).toBe(0);
    expect(enc.stdout.length).toBe(0);
    const dec = await runKenv(['decrypt', ...inputs.map((i) => join(dir, 'quiet', `${i.split('/').pop()!}.kenv`)), '--out', join(dir, 'quiet-out')], { env });
    expect(dec.code).toBe(0);
    expect(dec.stdout.length).toBe(0);
  });
});

describe('batches: one line per failed file, the rest done, exit 1', () => {
  it('encrypt a nope c: nope is INPUT_NOT_FOUND, a and c are encrypted', async () => {
    const [a, c] = [file('ba.txt', 'a'), file('bc.txt', 'c')];
    const nope = join(dir, 'nope.txt');
    const out = join(dir, 'batch-enc');
    const enc = await runKenv(['encrypt', a, nope, c, '--key', 'alias/kenv-demo', '--out', out], { env });
    expect(enc.code).toBe(1);
    const failures = enc.stderr.split('\n').filter((l) => l.startsWith('kenv:'));
    expect(failures).toEqual([expect.stringMatching(new RegExp(`^kenv: ${nope}: .*does not exist.*\\[INPUT_NOT_FOUND\\]$`))]);
    expect(readdirSync(out).sort()).toEqual(['ba.txt.kenv', 'bc.txt.kenv']);
  });

  it('encrypt: a folder and an unreadable name get their own codes too', async () => {
    const a = file('bf.txt', 'a');
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const enc = await runKenv(['encrypt', a, folder, '--key', 'alias/kenv-demo', '--out', join(dir, 'batch-folder')], { env });
    expect(enc.code).toBe(1);
    expect(enc.stderr).toMatch(new RegExp(`kenv: ${folder}: .*folder.*\\[INPUT_UNREADABLE\\]`));
    expect(enc.stderr).not.toContain('INTERNAL');
  });

  it('decrypt a nope c: the same', async () => {
    const a = await encrypted('da.txt', 'a');
    const c = await encrypted('dc.txt', 'c');
    const nope = join(dir, 'nope.txt.kenv');
    const out = join(dir, 'batch-dec');
    const dec = await runKenv(['decrypt', a, nope, c, '--out', out], { env });
    expect(dec.code).toBe(1);
    expect(dec.stderr.split('\n').filter((l) => l.startsWith('kenv:'))).toEqual([expect.stringMatching(/nope\.txt\.kenv: .*\[INPUT_NOT_FOUND\]$/)]);
    expect(readdirSync(out).sort()).toEqual(['da.txt', 'dc.txt']);
  });

  it('rewrap a nope c: the same', async () => {
    const a = await encrypted('ra.txt', 'a');
    const c = await encrypted('rc.txt', 'c');
    const nope = join(dir, 'nope-r.kenv');
    const rewrap = await runKenv(['rewrap', a, nope, c, '--to-key', 'alias/kenv-demo'], { env });
    expect(rewrap.code).toBe(1);
    expect(rewrap.stdout.length).toBe(0);
    expect(rewrap.stderr.split('\n').filter((l) => l.startsWith('kenv:'))).toEqual([expect.stringMatching(/nope-r\.kenv: .*\[INPUT_NOT_FOUND\]$/)]);
    expect(rewrap.stderr).toContain(`${a}: rewrapped`);
    expect(rewrap.stderr).toContain(`${c}: rewrapped`);
  });
});

describe('options are checked before any work, and a wrong one exits 2', () => {
  const input = (): string => file('opt.txt', 'options');

  it('--frame-size 0 is refused, naming the range', async () => {
    const r = await runKenv(['encrypt', input(), '--key', 'alias/kenv-demo', '--frame-size', '0', '--force'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('1 byte to 64 MiB');
    expect(existsSync(join(dir, 'opt.txt.kenv'))).toBe(false);
  });

  it('--frame-size 1GiB is understood, and refused as above the 64 MiB Kenv writes', async () => {
    const r = await runKenv(['encrypt', input(), '--key', 'alias/kenv-demo', '--frame-size', '1GiB', '--force'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('out of range: give 1 byte to 64 MiB');
  });

  it.each([
    ['64MiB', 67108864],
    ['1K', 1024],
    ['512B', 512],
  ] as const)('--frame-size %s is a frame of %i bytes', async (size, bytes) => {
    const input = file(`size-${size}.txt`, 'sizes');
    const r = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--frame-size', size], { env });
    expect(r.code).toBe(0);
    const info = JSON.parse((await runKenv(['inspect', `${input}.kenv`, '--json'], { env })).stdout.toString()) as { frameLength: number };
    expect(info.frameLength).toBe(bytes);
  });

  it('inspect - reads the header from standard input, and names a cut-short or empty input', async () => {
    const sealed = readFileSync(await encrypted('piped.txt', 'piped', '--context', 'team=blue'));
    const fromFile = JSON.parse((await runKenv(['inspect', file('piped-copy.kenv', sealed), '--json'], { env })).stdout.toString()) as unknown;
    const piped = await runKenv(['inspect', '-', '--json'], { env, input: sealed });
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout.toString())).toEqual(fromFile);
    const human = await runKenv(['inspect', '-'], { env, input: sealed });
    expect(human.stdout.toString().split('\n')[0]).toBe('standard input');
    expect(human.stdout.toString()).toContain('team');
    const cut = await runKenv(['inspect', '-'], { env, input: sealed.subarray(0, 40) });
    expect([cut.code, cut.stderr.trim()]).toEqual([1, expect.stringMatching(/^kenv: stdin: Standard input ends inside its message header: .* \[TRUNCATED_HEADER\]$/)]);
    const empty = await runKenv(['inspect', '-'], { env });
    expect([empty.code, empty.stderr.trim()]).toEqual([1, expect.stringMatching(/^kenv: stdin: Standard input is empty, so it is not a \.kenv message\. \[NOT_KENV\]$/)]);
  });

  it.each(['1g', '1.5MiB', '1KB', '-1', 'huge'])('--frame-size %s is a usage error', async (size) => {
    const r = await runKenv(['encrypt', input(), '--key', 'alias/kenv-demo', '--frame-size', size, '--force'], { env });
    expect(r.code).toBe(2);
  });

  it('a reserved context key (aws-crypto-*) is a usage error, before any KMS call', async () => {
    const before = kms.counts().GenerateDataKey ?? 0;
    const r = await runKenv(['encrypt', input(), '--key', 'alias/kenv-demo', '--context', 'aws-crypto-public-key=x', '--force'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[INVALID_ARGUMENT]');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(kms.counts().GenerateDataKey ?? 0).toBe(before);
  });

  const usageErrors: string[][] = [
    ['encrypt', 'opt.txt', '--key', 'alias/kenv-demo', '--context', 'novalue'],
    ['encrypt', 'opt.txt', '--key', 'not a key'],
    ['encrypt', 'opt.txt', '--key', 'alias/kenv-demo', '--bogus'],
    ['encrypt', '-', '-', '--key', 'alias/kenv-demo'],
    ['decrypt', '-', '-'],
    ['rewrap', 'opt.txt.kenv', '--to-key', 'not a key'],
    ['seal', '--key', 'not a key'],
    ['keys', '--region', 'not a region'],
    ['whoami', '--region', 'bad/region'],
    ['inspect', 'a', 'b'],
    ['local-kms', '--state', 'lk', '--port', '70000'],
    ['sync', '.', 's3://bucket/prefix', '--encrypt-on-arrival', '--key', 'alias/kenv-demo', '--context', 'aws-crypto-x=1'],
    [],
  ];
  it.each(usageErrors.map((args) => [args.join(' ') || '(no arguments)', args] as const))('kenv %s exits 2', async (_name, args) => {
    const r = await runKenv([...args], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout.length).toBe(0);
  });
});

describe('a closed stdout ends quietly, status 141 (as cat or git after | head)', () => {
  it('decrypt - | head -c 10: the reader got its bytes, kenv ends with no message', async () => {
    const plaintext = randomBytes(4 * 1024 * 1024);
    const message = readFileSync(await encrypted('pipe.bin', plaintext, '--frame-size', '64KiB'));
    const r = await runWithClosingReader(['decrypt', '-'], { input: message, readBytes: 10 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
    expect(r.stdout.subarray(0, 10).equals(plaintext.subarray(0, 10))).toBe(true);
  });

  it('encrypt - | head -c 10', async () => {
    const r = await runWithClosingReader(['encrypt', '-', '--key', 'alias/kenv-demo'], { input: randomBytes(4 * 1024 * 1024), readBytes: 10 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
  });

  // Each command that prints, with the reader gone before it writes: no stack trace, no message, 141.
  const printing: [string, () => Promise<{ args: string[]; input?: Buffer }>][] = [
    ['inspect', async () => ({ args: ['inspect', await encrypted('closed.txt', 'closed', '--context', 'a=b')] })],
    ['inspect --json', async () => ({ args: ['inspect', await encrypted('closed-json.txt', 'closed'), '--json'] })],
    ['keys', async () => ({ args: ['keys'] })],
    ['keys --json', async () => ({ args: ['keys', '--json'] })],
    ['profiles', async () => ({ args: ['profiles'] })],
    ['profiles --json', async () => ({ args: ['profiles', '--json'] })],
    ['seal', async () => ({ args: ['seal', '--key', 'alias/kenv-demo'], input: Buffer.from('secret') })],
    ['unseal', async () => ({ args: ['unseal'], input: (await runKenv(['seal', '--key', 'alias/kenv-demo'], { env, input: Buffer.from('secret') })).stdout })],
    ['decrypt -', async () => ({ args: ['decrypt', '-'], input: readFileSync(await encrypted('closed-dec.txt', 'closed')) })],
    ['encrypt -', async () => ({ args: ['encrypt', '-', '--key', 'alias/kenv-demo'], input: Buffer.from('x') })],
    ['--help', async () => ({ args: ['--help'] })],
  ];
  it.each(printing)('%s with a reader already gone', async (_name, make) => {
    const c = await make();
    const r = await runWithClosingReader(c.args, { ...(c.input ? { input: c.input } : {}) });
    expect(r.stderr.split('\n').filter((l) => l.startsWith('kenv') || l.includes('Error') || l.includes(' at '))).toEqual([]);
    expect(r.code).toBe(141);
  });

  it('a file command stopped by a closed stdout leaves no temporary files', async () => {
    const stdinMessage = readFileSync(await encrypted('first.bin', randomBytes(3 * 1024 * 1024), '--frame-size', '64KiB'));
    const later = await encrypted('later.bin', randomBytes(1024));
    const out = join(dir, 'stopped-out');
    const r = await runWithClosingReader(['decrypt', '-', later, '--out', out], { input: stdinMessage, readBytes: 1 });
    expect(r.code).toBe(141);
    expect(r.stderr).toBe('');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});

describe('a full disk on stdout is OUTPUT_FAILED', () => {
  it('decrypt - > /dev/full', async () => {
    const message = readFileSync(await encrypted('full.bin', randomBytes(200_000)));
    const r = await runToFullDisk(['decrypt', '-'], { input: message });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kenv: Cannot write to standard output: the disk is full. What reached it is incomplete: make room on that disk, or send the output elsewhere. [OUTPUT_FAILED]\n');
  });

  const printing: [string, () => Promise<{ args: string[]; input?: Buffer }>][] = [
    ['encrypt -', async () => ({ args: ['encrypt', '-', '--key', 'alias/kenv-demo'], input: Buffer.from('x') })],
    ['inspect', async () => ({ args: ['inspect', await encrypted('full.txt', 'full')] })],
    ['inspect --json', async () => ({ args: ['inspect', await encrypted('full-json.txt', 'full'), '--json'] })],
    ['keys', async () => ({ args: ['keys'] })],
    ['profiles --json', async () => ({ args: ['profiles', '--json'] })],
    ['unseal', async () => ({ args: ['unseal'], input: (await runKenv(['seal', '--key', 'alias/kenv-demo'], { env, input: Buffer.from('secret') })).stdout })],
  ];
  it.each(printing)('%s > /dev/full says so, once', async (_name, make) => {
    const c = await make();
    const r = await runToFullDisk(c.args, { ...(c.input ? { input: c.input } : {}) });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('kenv'))).toEqual([expect.stringMatching(/^kenv: Cannot write to standard output: the disk is full\..*\[OUTPUT_FAILED\]$/)]);
  });
});

describe('sync on a closed or full stdout', () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket('unix');
  });
  afterAll(() => s3.close());

  it('sync --json | head -0 ends quietly with 141; > /dev/full is OUTPUT_FAILED', async () => {
    const vault = join(dir, 'sync-vault');
    mkdirSync(vault, { recursive: true });
    const closed = await runWithClosingReader(['sync', vault, 's3://unix/a', '--json'], { env: s3.env() });
    expect(closed.stderr).toBe('');
    expect(closed.code).toBe(141);
    const full = await runToFullDisk(['sync', vault, 's3://unix/b', '--json'], { env: s3.env() });
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/^kenv: Cannot write to standard output: the disk is full\..*\[OUTPUT_FAILED\]\n$/);
  });
});

describe('output folders', () => {
  it('--out /proc/nope fails at once with OUTPUT_FAILED instead of spinning', async () => {
    const message = await encrypted('proc.txt', 'proc');
    const r = await runKenv(['decrypt', message, '--out', '/proc/kenv-nope/deeper'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kenv: Cannot create the output folder \/proc\/kenv-nope\/deeper: \/proc does not take new folders\..*\[OUTPUT_FAILED\]\n$/);
  }, timeLimit(30_000));

  it('--out below /sys or below a file is refused the same way', async () => {
    const message = await encrypted('sys.txt', 'sys');
    const sys = await runKenv(['decrypt', message, '--out', '/sys/kenv-nope'], { env });
    expect(sys.code).toBe(1);
    expect(sys.stderr).toContain('[OUTPUT_FAILED]');
    const plain = file('plain-file', 'not a folder');
    const under = await runKenv(['encrypt', join(dir, 'sys.txt'), '--key', 'alias/kenv-demo', '--out', join(plain, 'sub')], { env });
    expect(under.code).toBe(1);
    expect(under.stderr).toContain(`${plain} is a file, not a folder`);
  });

  it('a failed decrypt removes the --out folders it made, and only those', async () => {
    const message = await encrypted('fail.txt', 'fail');
    const kept = join(dir, 'kept-empty');
    mkdirSync(kept);
    const foreign = 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000';
    const made = await runKenv(['decrypt', message, '--out', join(kept, 'new', 'deeper'), '--key', foreign], { env });
    expect(made.code).toBe(1);
    expect(made.stderr).toContain('[NO_KEY_OPENED]');
    expect(existsSync(kept)).toBe(true);
    expect(readdirSync(kept)).toEqual([]);
    const existing = await runKenv(['decrypt', message, '--out', kept, '--key', foreign], { env });
    expect(existing.code).toBe(1);
    expect(existsSync(kept)).toBe(true);
  });

  it('a batch where some files fail keeps the folder with what was written', async () => {
    const ok = await encrypted('half-ok.txt', 'ok');
    const out = join(dir, 'half', 'out');
    const dec = await runKenv(['decrypt', ok, join(dir, 'missing-half.kenv'), '--out', out], { env });
    expect(dec.code).toBe(1);
    expect(readdirSync(out)).toEqual(['half-ok.txt']);
  });

  it('stdin to stdout with --out makes no folder', async () => {
    const message = readFileSync(await encrypted('nofolder.txt', 'n'));
    const out = join(dir, 'never-made');
    const r = await runKenv(['decrypt', '-', '--out', out], { env, input: message });
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a folder on standard input', () => {
  /** Runs kenv with a folder redirected into its standard input (`kenv … < DIR`). */
  function withFolderOnStdin(args: string[]): Promise<Ended> {
    const folder = join(dir, 'stdin-folder');
    mkdirSync(folder, { recursive: true });
    const fd = openSync(folder, 'r');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [KENV_BIN, ...args], {
        env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true', ...childCoverageEnv(), ...env },
        stdio: [fd, 'pipe', 'pipe'],
      });
      closeSync(fd);
      const out: Buffer[] = [];
      let err = '';
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
    });
  }
  const sentence = 'Standard input is a folder, not data: redirect a file into it (< FILE) or pipe data to it. [INPUT_UNREADABLE]';

  it.each([
    ['encrypt -', ['encrypt', '-', '--key', 'alias/kenv-demo']],
    ['decrypt -', ['decrypt', '-']],
    ['decrypt - --buffer', ['decrypt', '-', '--buffer']],
  ])('%s fails as cat does ("Is a directory") instead of reading it as empty: nothing on stdout, exit 1', async (_, args) => {
    const r = await withFolderOnStdin(args);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([`kenv: stdin: ${sentence}`]);
    expect(r.code).toBe(1);
  });

  it.each([['seal', ['seal', '--key', 'alias/kenv-demo']], ['unseal', ['unseal']]])('%s fails the same way instead of taking an empty secret', async (_, args) => {
    const r = await withFolderOnStdin(args);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([`kenv: ${sentence}`]);
    expect(r.code).toBe(1);
  });
});

describe('a closed stderr', () => {
  it('loses the messages, not the work', async () => {
    const inputs = ['se1.txt', 'se2.txt'].map((n) => file(n, n));
    const out = join(dir, 'stderr-closed');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [KENV_BIN, 'encrypt', ...inputs, '--key', 'alias/kenv-demo', '--out', out], {
        env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...childCoverageEnv(), ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.destroy();
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['se1.txt.kenv', 'se2.txt.kenv']);
  });
});
