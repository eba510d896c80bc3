import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type WriteStream, createWriteStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsKeyring } from '../../electron/core/keyring/kms-keyring.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../electron/core/local-kms/server.js';
import { isPartialName, partialName } from '../../electron/core/partials.js';
import { childCoverageEnv, KENV_BIN, runKenv, problems } from '../support/cli.js';
import { LocalKmsFixture, kmsClient, localKmsEnv } from '../support/local-kms.js';
import { messageLayout } from '../support/message-layout.js';
import { encryptBuffer } from '../support/streams.js';
import { timeLimit } from '../support/timeouts.js';

// No plaintext left behind by a real `kenv decrypt` process: SIGINT and SIGTERM remove the partial output before
// exiting 130 / 143; a partial left by kill -9 is removed by the next Kenv run that writes into the same folder.
// The input is a named pipe that the test feeds and then holds open, so the process is caught mid-file, with
// plaintext already in its partial, every time.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let dir: string;
let env: Record<string, string>;
let message: Buffer;
let headerAndMostFrames: Buffer;

beforeAll(async () => {
  kms = await fixture.start();
  dir = fixture.tempDir();
  env = localKmsEnv(kms, dir);
  const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => kmsClient(kms) });
  message = await encryptBuffer(randomBytes(16 * 1024 * 1024), { keyring, frameLength: 64 * 1024 });
  const finalFrame = messageLayout(message, false).find((r) => r.name === 'final frame marker')!;
  headerAndMostFrames = message.subarray(0, finalFrame.start - 64 * 1024);
}, timeLimit(120_000));
afterAll(() => fixture.closeAll());

const partials = (folder: string): string[] => readdirSync(folder).filter(isPartialName);

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts `kenv decrypt FOLDER/in.kenv` on a named pipe fed with most of the message, and waits for plaintext in its partial. */
async function caughtMidFile(name: string): Promise<{ child: ChildProcess; folder: string; feed: WriteStream; exited: Promise<number | null> }> {
  const folder = join(dir, name);
  mkdirSync(folder);
  const fifo = join(folder, 'in.kenv');
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, [KENV_BIN, 'decrypt', fifo], { env: { PATH: process.env.PATH ?? '', ...childCoverageEnv(), ...env }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? -9 : null))));
  const feed = createWriteStream(fifo);
  feed.on('error', () => undefined);
  feed.write(headerAndMostFrames);
  await until(() => partials(folder).some((p) => statSync(join(folder, p)).size > 0), 'plaintext in the partial');
  const [partial] = partials(folder);
  expect(partial).toMatch(new RegExp(`^\\.kenv-${child.pid}-`));
  expect(partial!.length).toBeLessThanOrEqual(41);
  expect(statSync(join(folder, partial!)).mode & 0o777).toBe(0o600);
  return { child, folder, feed, exited };
}

describe('kenv decrypt interrupted', () => {
  it('SIGINT removes the partial and exits 130', async () => {
    const { child, folder, feed, exited } = await caughtMidFile('sigint');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    feed.destroy();
    expect(partials(folder)).toEqual([]);
    expect(existsSync(join(folder, 'in'))).toBe(false);
  });

  it('SIGTERM removes the partial and exits 143', async () => {
    const { child, folder, feed, exited } = await caughtMidFile('sigterm');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    feed.destroy();
    expect(partials(folder)).toEqual([]);
  });

  it('after kill -9 the partial stays, and the next Kenv run writing into that folder removes it', async () => {
    const { child, folder, feed, exited } = await caughtMidFile('sigkill');
    child.kill('SIGKILL');
    await exited;
    feed.destroy();
    const [left] = partials(folder);
    expect(left).toBeDefined();
    // Another live process's partial and files that only look alike are never touched.
    const alive = partialName();
    writeFileSync(join(folder, alive), 'a live process writes this');
    writeFileSync(join(folder, '.kenv-1-zzzzzzzzzzzz-0000.partial'), 'not of the exact form');
    writeFileSync(join(folder, 'other.kenv'), message);
    const next = await runKenv(['decrypt', join(folder, 'other.kenv')], { env });
    expect(problems(next.stderr)).toEqual([]);
    expect(next.code).toBe(0);
    expect(readdirSync(folder).sort()).toEqual(['.kenv-1-zzzzzzzzzzzz-0000.partial', alive, 'in.kenv', 'other', 'other.kenv'].sort());
  });
});

describe('kenv decrypt - (stdout)', () => {
  it('streaming releases authenticated frames early; --buffer releases nothing of a message whose signature fails', async () => {
    const keyring = new KmsKeyring({ keyIds: [DEMO_KEY_ALIAS], clients: () => kmsClient(kms) });
    const plaintext = randomBytes(12 * 1024 * 1024);
    const signed = await encryptBuffer(plaintext, { keyring, sign: true, frameLength: 64 * 1024 });
    const bad = Buffer.from(signed);
    bad[bad.length - 1]! ^= 1;

    const streamed = await runKenv(['decrypt', '-'], { env, input: bad });
    expect(streamed.code).toBe(1);
    expect(streamed.stderr).toContain('[BAD_SIGNATURE]');
    // What streaming to stdout releases early (see the README): frames that verified, before the signature did.
    expect(streamed.stdout.length).toBeGreaterThan(0);
    expect(streamed.stdout.length).toBeLessThan(plaintext.length);

    const buffered = await runKenv(['decrypt', '-', '--buffer'], { env: { ...env, TMPDIR: dir }, input: bad });
    expect(buffered.code).toBe(1);
    expect(buffered.stderr).toContain('[BAD_SIGNATURE]');
    expect(buffered.stdout.length).toBe(0);

    const good = await runKenv(['decrypt', '-', '--buffer'], { env: { ...env, TMPDIR: dir }, input: signed });
    expect(problems(good.stderr)).toEqual([]);
    expect(good.stdout.equals(plaintext)).toBe(true);
    expect(partials(dir)).toEqual([]);
  });
});
