import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childCoverageEnv, KENV_BIN, problems, runKenv } from '../support/cli.js';

// A large file on a terminal shows a progress bar on stderr; the same command on a pipe writes status lines only.
// The terminal is a real pseudo-terminal: util-linux `script` runs kenv on one and records what it drew.

const run = promisify(execFile);
let dir: string;
let big: string;
const RAW = (dirOf: string): string[] => ['--raw-aes-key', join(dirOf, 'key.bin'), '--raw-aes-namespace', 'ns', '--raw-aes-name', 'progress'];
const MiB = 1024 * 1024;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-progress-'));
  await writeFile(join(dir, 'key.bin'), randomBytes(32));
  big = join(dir, 'scan.bin');
  await writeFile(big, randomBytes(20 * MiB));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs kenv with stdin, stdout and stderr on a pseudo-terminal; resolves with everything the terminal showed. */
async function onTerminal(args: string[]): Promise<string> {
  const command = [process.execPath, KENV_BIN, ...args].map((a) => `'${a}'`).join(' ');
  const { stdout } = await run('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, TERM: 'xterm', AWS_EC2_METADATA_DISABLED: 'true', ...childCoverageEnv() },
    maxBuffer: 16 * MiB,
  });
  return stdout;
}

describe('progress on a terminal', () => {
  it('encrypting and decrypting a 20 MiB file on a terminal draw a bar naming the file and its size', async () => {
    const encrypted = await onTerminal(['encrypt', big, ...RAW(dir), '--out', join(dir, 'tty')]);
    expect(encrypted).toContain(`encrypt ${big} [`);
    expect(encrypted).toMatch(/\| \d+\/20 MiB \| \d+ MiB\/s \| ETA/);
    expect(encrypted).toContain(`encrypted ${big} -> ${join(dir, 'tty', 'scan.bin.kenv')}`);

    const sealed = join(dir, 'tty', 'scan.bin.kenv');
    const decrypted = await onTerminal(['decrypt', sealed, ...RAW(dir), '--out', join(dir, 'tty-opened')]);
    expect(decrypted).toContain(`decrypt ${sealed} [`);
    expect(decrypted).toContain(`decrypted ${sealed} -> ${join(dir, 'tty-opened', 'scan.bin')}`);
    expect((await readFile(join(dir, 'tty-opened', 'scan.bin'))).equals(await readFile(big))).toBe(true);
  });

  it('the same encrypt with stderr on a pipe writes its status line and no bar', async () => {
    const result = await runKenv(['encrypt', big, ...RAW(dir), '--out', join(dir, 'piped')]);
    expect(problems(result.stderr)).toEqual([]);
    expect(result.stderr).toBe(`encrypted ${big} -> ${join(dir, 'piped', 'scan.bin.kenv')}\n`);
  });

  it('a small file on a terminal draws no bar: it is done before one would help', async () => {
    const small = join(dir, 'note.txt');
    await writeFile(small, 'short');
    const shown = await onTerminal(['encrypt', small, ...RAW(dir), '--out', join(dir, 'small')]);
    expect(shown).toContain(`encrypted ${small} -> ${join(dir, 'small', 'note.txt.kenv')}`);
    expect(shown).not.toContain('MiB/s');
  });
});
