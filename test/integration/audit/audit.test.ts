import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { CreateKeyCommand, DecryptCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_ID_CONTEXT_KEY } from '../../../electron/core/audit/file-id.js';
import { decryptFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { runKenv, problems } from '../../support/cli.js';
import { LocalKmsFixture, kmsClient, localKmsEnv } from '../../support/local-kms.js';

// The audit id: every file Kenv encrypts carries a random kenv:file-id in its context, which KMS sees on Decrypt.
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

function input(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, `secret contents of ${name}`);
  return path;
}

async function contextOf(path: string): Promise<Record<string, string>> {
  const r = await runKenv(['inspect', path, '--json'], { env });
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout.toString()) as { encryptionContext: Record<string, string> }).encryptionContext;
}

describe('kenv:file-id', () => {
  it('gives every file its own opaque id, never its name, in a batch too', async () => {
    const files = ['quarterly-report.pdf', 'b.txt', 'c.txt'].map(input);
    const r = await runKenv(['encrypt', ...files, '--key', 'alias/kenv-demo', '--context', 'team=audit'], { env });
    expect(problems(r.stderr)).toEqual([]);
    const ids = new Set<string>();
    for (const f of files) {
      const ctx = await contextOf(`${f}.kenv`);
      expect(ctx.team).toBe('audit');
      expect(ctx[FILE_ID_CONTEXT_KEY]).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.stringify(ctx)).not.toContain('quarterly');
      ids.add(ctx[FILE_ID_CONTEXT_KEY]!);
    }
    expect(ids.size).toBe(3);
  });

  it('is on for stdin too, and off with --no-file-id', async () => {
    const piped = await runKenv(['encrypt', '-', '--key', 'alias/kenv-demo'], { env, input: Buffer.from('from stdin') });
    expect(piped.code).toBe(0);
    const pipedPath = join(dir, 'piped.kenv');
    writeFileSync(pipedPath, piped.stdout);
    expect((await contextOf(pipedPath))[FILE_ID_CONTEXT_KEY]).toMatch(/^[0-9a-f]{32}$/);

    const file = input('no-id.txt');
    expect((await runKenv(['encrypt', file, '--key', 'alias/kenv-demo', '--no-file-id'], { env })).code).toBe(0);
    expect(await contextOf(`${file}.kenv`)).toEqual({});
    const audit = await runKenv(['audit', `${file}.kenv`], { env });
    expect(audit.code).toBe(1);
    expect(audit.stderr).toContain('no kenv:file-id');
  });

  it("a decrypt sends KMS one Decrypt carrying the file's audit id in its context, which is what CloudTrail logs", async () => {
    const file = input('logged.txt');
    expect((await runKenv(['encrypt', file, '--key', 'alias/kenv-demo'], { env })).code).toBe(0);
    const id = (await contextOf(`${file}.kenv`))[FILE_ID_CONTEXT_KEY];
    const client = kmsClient(kms);
    const seen: Record<string, string>[] = [];
    const send = client.send.bind(client) as (c: unknown) => Promise<unknown>;
    (client as unknown as { send: (c: unknown) => Promise<unknown> }).send = (command) => {
      if (command instanceof DecryptCommand) seen.push(command.input.EncryptionContext ?? {});
      return send(command);
    };
    await decryptFile(`${file}.kenv`, { keyring: new KmsKeyring({ clients: () => client }), outDir: join(dir, 'logged-out') });
    expect(seen).toEqual([{ [FILE_ID_CONTEXT_KEY]: id }]);
  });

  it('survives rewrap', async () => {
    const file = input('rewrapped.txt');
    expect((await runKenv(['encrypt', file, '--key', 'alias/kenv-demo'], { env })).code).toBe(0);
    const id = (await contextOf(`${file}.kenv`))[FILE_ID_CONTEXT_KEY];
    const other = (await kmsClient(kms).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const r = await runKenv(['rewrap', `${file}.kenv`, '--to-key', other], { env });
    expect(problems(r.stderr)).toEqual([]);
    expect((await contextOf(`${file}.kenv`))[FILE_ID_CONTEXT_KEY]).toBe(id);
  });
});

describe('kenv audit', () => {
  it('prints the id and ready-to-run CloudTrail lookups without calling KMS', async () => {
    const file = input('audited.txt');
    expect((await runKenv(['encrypt', file, '--key', 'alias/kenv-demo'], { env })).code).toBe(0);
    const id = (await contextOf(`${file}.kenv`))[FILE_ID_CONTEXT_KEY]!;
    const before = JSON.stringify(kms.counts());
    const r = await runKenv(['audit', `${file}.kenv`], { env });
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain(`file id      ${id}`);
    expect(out).toContain(
      `aws cloudtrail lookup-events --region us-east-1 --lookup-attributes AttributeKey=EventName,AttributeValue=Decrypt --query "Events[?contains(CloudTrailEvent, '${id}')]`,
    );
    expect(out).toContain(`json_extract_scalar(requestparameters, '$.encryptionContext["kenv:file-id"]') = '${id}'`);
    expect(JSON.stringify(kms.counts())).toBe(before);
    const json = await runKenv(['audit', `${file}.kenv`, '--json'], { env });
    expect(JSON.parse(json.stdout.toString())[0]).toMatchObject({ fileId: id, lookups: { cloudTrail: [expect.stringContaining(id)] } });
  });

  it('refuses to paste a hostile id into a command', async () => {
    const file = input('hostile.txt');
    const r = await runKenv(['encrypt', file, '--key', 'alias/kenv-demo', '--context', `${FILE_ID_CONTEXT_KEY}=x' ; rm -rf ~ #`], { env });
    expect(r.code).toBe(0);
    const audit = await runKenv(['audit', `${file}.kenv`], { env });
    expect(audit.code).toBe(1);
    expect(audit.stdout.toString()).not.toContain('rm -rf');
    expect(audit.stderr).toContain('[INVALID_ARGUMENT]');
  });
});
