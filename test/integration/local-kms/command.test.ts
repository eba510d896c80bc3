import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { isLoopback, parseDenyRule, runLocalKmsCommand } from '../../../electron/core/local-kms/command.js';
import { LOCAL_KMS_WARNING } from '../../../electron/core/local-kms/server.js';
import { runKenv, problems } from '../../support/cli.js';
import { LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

const script = fileURLToPath(new URL('../../support/local-kms-command.ts', import.meta.url));
const fixture = new LocalKmsFixture();
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await fixture.closeAll();
});

/** Starts the command as its own process and collects its output lines until it prints the "Use it" line. */
async function startCommand(args: string[]): Promise<{ child: ChildProcess; lines: string[]; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  children.push(child);
  const lines: string[] = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const reader = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      if (line.startsWith('Use it with')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`local-kms exited with ${code}: ${stderr.join('')}`)));
  });
  const url = /^listening on (http:\/\/[^/]+:\d+)$/.exec(lines[0] ?? '')?.[1];
  if (!url) throw new Error(`unexpected first line: ${lines[0]}`);
  return { child, lines, url };
}

describe('kenv local-kms command', () => {
  it('prints where it listens, the warning and the demo key, serves the SDK, and stops cleanly on SIGTERM', async () => {
    const state = fixture.tempDir();
    const { child, lines, url } = await startCommand(['--state', state, '--port', '0']);
    expect(lines[1]).toBe(`WARNING: ${LOCAL_KMS_WARNING} State folder: ${state}`);
    expect(lines[2]).toMatch(/^key arn:aws:kms:us-east-1:111122223333:key\/[0-9a-f-]{36} \(alias\/kenv-demo\)$/);

    const client = new KMSClient({ region: 'us-east-1', endpoint: url, credentials: LOCAL_CREDENTIALS });
    try {
      const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: 'alias/kenv-demo', Plaintext: Buffer.from('hi') }));
      const { Plaintext } = await client.send(new DecryptCommand({ CiphertextBlob }));
      expect(Buffer.from(Plaintext!).toString()).toBe('hi');
    } finally {
      client.destroy();
    }

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(lines.at(-1)).toBe('stopped');
  });

  it('answers STS GetCallerIdentity, so kenv whoami works with the environment it prints', async () => {
    const { child, lines, url } = await startCommand(['--state', fixture.tempDir()]);
    const use = lines.at(-1)!;
    expect(use).toContain(`AWS_ENDPOINT_URL_KMS=${url} AWS_ENDPOINT_URL_STS=${url}`);
    const home = fixture.tempDir();
    const run = await runKenv(['whoami'], {
      env: {
        HOME: home, AWS_ENDPOINT_URL_KMS: url, AWS_ENDPOINT_URL_STS: url, AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAKENVDEMO00000000', AWS_SECRET_ACCESS_KEY: 'kenv-demo-not-a-secret',
      },
    });
    expect(problems(run.stderr)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toContain('arn:aws:iam::111122223333:user/local-kms-user');
    expect(run.stdout.toString()).toContain('111122223333');
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('stops cleanly on SIGINT and reuses the demo key on the next start', async () => {
    const state = fixture.tempDir();
    const first = await startCommand(['--state', state]);
    const exited = once(first.child, 'exit');
    first.child.kill('SIGINT');
    expect((await exited)[0]).toBe(0);

    const second = await startCommand(['--state', state]);
    expect(second.lines[2]).toBe(first.lines[2]);
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
  });

  it('prints the throttle and deny settings it was given', async () => {
    const { child, lines } = await startCommand(['--state', fixture.tempDir(), '--throttle-first', '2', '--deny', 'Decrypt=alias/kenv-demo']);
    expect(lines).toContain('throttling the first 2 requests');
    expect(lines).toContain('denying kms:Decrypt on alias/kenv-demo');
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('refuses a bad port, throttle count, deny rule or missing state folder before listening', async () => {
    const out: string[] = [];
    const state = fixture.tempDir();
    for (const opts of [
      { state, port: 'eighty' },
      { state, port: 70000 },
      { state, throttleFirst: '-1' },
      { state, deny: ['Decrypt'] },
      { state: '' },
    ]) {
      await expect(runLocalKmsCommand(opts, (l) => out.push(l)), JSON.stringify(opts)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
    expect(out).toEqual([]);
  });

  it('parses --deny OP=KEY', () => {
    expect(parseDenyRule('Decrypt=alias/x')).toEqual({ operation: 'Decrypt', key: 'alias/x' });
    expect(parseDenyRule('*=*')).toEqual({ operation: '*', key: '*' });
    expect(parseDenyRule('Encrypt=arn:aws:kms:us-east-1:111122223333:key/k')).toEqual({
      operation: 'Encrypt',
      key: 'arn:aws:kms:us-east-1:111122223333:key/k',
    });
  });

  it('refuses a host other machines can reach without --allow-remote, before listening', async () => {
    const state = fixture.tempDir();
    const out: string[] = [];
    for (const host of ['0.0.0.0', '::', '[::]', '192.0.2.10', '::ffff:192.0.2.10', 'fe80::1', 'kms.example.com']) {
      await expect(runLocalKmsCommand({ state, host }, (l) => out.push(l)), host).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('--allow-remote'),
      });
    }
    expect(out).toEqual([]);
  });

  it('kenv local-kms --host 0.0.0.0 exits with a usage error naming --allow-remote', async () => {
    const run = await runKenv(['local-kms', '--state', fixture.tempDir(), '--host', '0.0.0.0'], { env: { HOME: fixture.tempDir() } });
    expect(run.code).toBe(2);
    expect(run.stderr.toString()).toMatch(/0\.0\.0\.0 is not a loopback address.*--allow-remote/);
    expect(run.stdout.toString()).not.toContain('listening');
  });

  it('listens on another loopback address without the flag, and on every address with --allow-remote', async () => {
    const loop = await startCommand(['--state', fixture.tempDir(), '--host', '127.0.0.2']);
    expect(loop.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    const any = await startCommand(['--state', fixture.tempDir(), '--host', '0.0.0.0', '--allow-remote']);
    expect(any.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    for (const { child } of [loop, any]) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('counts 127.0.0.0/8, ::1, their mapped forms and localhost as loopback, and nothing else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', 'localhost.example.com', '']) {
      expect(isLoopback(host), host).toBe(false);
    }
  });
});
