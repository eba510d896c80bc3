// Encrypt on arrival: plaintext placed in the vault is encrypted, verified, trashed, and only its .kenv is synced.
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawAesKeyring } from '../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring } from '../../../electron/core/keyring/types.js';
import { runCli } from '../../../electron/cli/main.js';
import { decryptFile } from '../../../electron/core/files.js';
import { writeKenv } from '../../support/kenv-fixtures.js';
import { LocalKmsFixture, kmsClient } from '../../support/local-kms.js';
import { endpointWarningLines, localFiles, readLocal, remoteBytes, remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
const kmsFixture = new LocalKmsFixture();
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await kmsFixture.closeAll();
  await world?.close();
});

const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'arrival', key: randomBytes(32) });

describe('encrypt on arrival', () => {
  it('encrypts a plaintext, verifies it, trashes the plaintext and uploads only the .kenv', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const secret = randomBytes(300_000);
    await mkdir(join(vault, 'docs'));
    await writeFile(join(vault, 'docs/report.pdf'), secret);
    const report = await (await world.syncer(vault, remote, { encryptOnArrival: { keyring, context: { team: 'blue' } } })).sync();

    expect(report.failed).toEqual([]);
    expect(report.encrypted).toEqual([{ path: 'docs/report.pdf', kenvPath: 'docs/report.pdf.kenv' }]);
    expect(report.uploaded).toEqual(['docs/report.pdf.kenv']);
    expect(report.skipped).toEqual([]);
    expect(await remoteKeys(world.s3, remote)).toEqual(['docs/report.pdf.kenv']);
    expect(await localFiles(vault)).toEqual(['docs/report.pdf.kenv']);
    expect(await localFiles(vault, true)).toContain('.kenv-trash/docs/report.pdf');
    expect(await readLocal(vault, '.kenv-trash/docs/report.pdf')).toEqual(secret);

    // What S3 holds decrypts to the original bytes, under the context given.
    const fetched = join(await world.newVault(), 'fetched.kenv');
    await writeFile(fetched, await remoteBytes(world.s3, remote, 'docs/report.pdf.kenv'));
    const out = await decryptFile(fetched, { keyring, requiredContext: { team: 'blue' } });
    expect(await readFile(out.outputPath)).toEqual(secret);
  });

  it('never uploads the plaintext, and the next sync has nothing to do', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const plaintext = 'my password is hunter2';
    await writeFile(join(vault, 'notes.txt'), plaintext);
    const sync = await world.syncer(vault, remote, { encryptOnArrival: { keyring } });
    await sync.sync();
    const keys = await remoteKeys(world.s3, remote);
    expect(keys).toEqual(['notes.txt.kenv']);
    for (const key of keys) expect((await remoteBytes(world.s3, remote, key)).includes(plaintext)).toBe(false);
    const again = await sync.sync();
    expect(again.encrypted).toEqual([]);
    expect(again.uploaded).toEqual([]);
    expect(again.unchanged).toBe(1);
  });

  it('leaves hidden and partial files alone', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeFile(join(vault, '.notes.txt.swp'), 'editor temp');
    await writeFile(join(vault, '.a.kenv.0123abcd.kenv-partial'), 'half written');
    const report = await (await world.syncer(vault, remote, { encryptOnArrival: { keyring } })).sync();
    expect(report.encrypted).toEqual([]);
    expect(report.skipped.map((s) => s.reason)).toEqual(['not-kenv', 'not-kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual([]);
    expect(await localFiles(vault)).toEqual(['.a.kenv.0123abcd.kenv-partial', '.notes.txt.swp']);
  });

  it('with the option off, plaintext is skipped as before', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeFile(join(vault, 'notes.txt'), 'plain');
    const report = await (await world.syncer(vault, remote)).sync();
    expect(report.encrypted).toEqual([]);
    expect(report.skipped).toEqual([{ path: 'notes.txt', reason: 'not-kenv' }]);
    expect(await remoteKeys(world.s3, remote)).toEqual([]);
    expect(await localFiles(vault)).toEqual(['notes.txt']);
  });

  it('a dry run encrypts nothing', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeFile(join(vault, 'notes.txt'), 'plain');
    const report = await (await world.syncer(vault, remote, { encryptOnArrival: { keyring } })).plan();
    expect(report.encrypted).toEqual([]);
    expect(await localFiles(vault)).toEqual(['notes.txt']);
  });

  it('never overwrites an existing .kenv of the same name, nor removes the plaintext', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeFile(join(vault, 'notes.txt'), 'new plaintext');
    const existing = await writeKenv(vault, 'notes.txt.kenv', 'an older encrypted version');
    const report = await (await world.syncer(vault, remote, { encryptOnArrival: { keyring } })).sync();
    expect(report.encrypted).toEqual([]);
    expect(report.failed).toEqual([]);
    expect(report.skipped).toEqual([{ path: 'notes.txt', reason: 'arrival-kenv-exists' }]);
    expect(report.uploaded).toEqual(['notes.txt.kenv']);
    expect(await readLocal(vault, 'notes.txt.kenv')).toEqual(existing);
    expect(await readLocal(vault, 'notes.txt')).toEqual(Buffer.from('new plaintext'));
    expect(await localFiles(vault, true)).not.toContain('.kenv-trash/notes.txt');
    expect(await remoteBytes(world.s3, remote, 'notes.txt.kenv')).toEqual(existing);
  });

  it('a plaintext that changes while it is encrypted is kept, and its .kenv is not synced', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeFile(join(vault, 'live.log'), 'line 1\n');
    // The data key is wrapped mid-encryption: the moment an application would append to the file.
    const appending: Keyring = {
      async wrapDataKey(req) {
        await appendFile(join(vault, 'live.log'), 'line 2\n');
        return keyring.wrapDataKey(req);
      },
      unwrapDataKey: (req) => keyring.unwrapDataKey(req),
    };
    const report = await (await world.syncer(vault, remote, { encryptOnArrival: { keyring: appending } })).sync();
    expect(report.encrypted).toEqual([]);
    expect(report.failed).toMatchObject([{ path: 'live.log', code: 'SYNC_LOCAL_CHANGED' }]);
    expect(await readLocal(vault, 'live.log')).toEqual(Buffer.from('line 1\nline 2\n'));
    expect(await localFiles(vault, true)).toEqual(['.kenv-sync/index.json', 'live.log']);
    expect(await remoteKeys(world.s3, remote)).toEqual([]);
  });

  it('a .kenv that does not decrypt with the keys keeps the plaintext', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeFile(join(vault, 'a.txt'), 'data');
    const other = new RawAesKeyring({ namespace: 'kenv-test', name: 'arrival', key: randomBytes(32) });
    // Wraps with one key, unwraps with another: the verification cannot open the message.
    const mismatched: Keyring = { wrapDataKey: (req) => keyring.wrapDataKey(req), unwrapDataKey: (req) => other.unwrapDataKey(req) };
    const report = await (await world.syncer(vault, remote, { encryptOnArrival: { keyring: mismatched } })).sync();
    expect(report.encrypted).toEqual([]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.path).toBe('a.txt');
    expect(await localFiles(vault)).toEqual(['a.txt']);
    expect(await remoteKeys(world.s3, remote)).toEqual([]);
  });
});

describe('kenv sync --encrypt-on-arrival', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdin: process.stdin, stdout: process.stdout, out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };

  it('without --key is a usage error that changes nothing', async () => {
    const vault = await world.newVault();
    await writeFile(join(vault, 'notes.txt'), 'plain');
    const c = io();
    expect(await runCli(['sync', vault, world.newRemote(), '--encrypt-on-arrival'], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/--encrypt-on-arrival needs the keys to encrypt with: pass --key KEY/);
    expect(await localFiles(vault, true)).toEqual(['notes.txt']);
  });

  it('encrypts arrivals with a KMS key, then syncs only the .kenv', async () => {
    const kms = await kmsFixture.start();
    const key = (await kmsClient(kms, process.env.AWS_REGION).send(new CreateKeyCommand({ Description: 'vault' }))).KeyMetadata!.Arn!;
    process.env.AWS_ENDPOINT_URL_KMS = kms.url;
    try {
      const remote = world.newRemote();
      const vault = await world.newVault();
      await writeFile(join(vault, 'notes.txt'), 'plain');
      const c = io();
      expect(await runCli(['sync', vault, remote, '--encrypt-on-arrival', '--key', key, '--context', 'vault=team'], c.io)).toBe(0);
      expect(c.err).toEqual(endpointWarningLines(world));
      expect(c.out).toContain('encrypted      notes.txt -> notes.txt.kenv (verified; plaintext moved to .kenv-trash)');
      expect(c.out.at(-1)).toMatch(/^uploaded 1 .*, encrypted on arrival 1$/);
      expect(await remoteKeys(world.s3, remote)).toEqual(['notes.txt.kenv']);
      expect(await localFiles(vault)).toEqual(['notes.txt.kenv']);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_KMS;
    }
  });

  it('--key without --encrypt-on-arrival is a usage error', async () => {
    const vault = await world.newVault();
    const c = io();
    expect(await runCli(['sync', vault, world.newRemote(), '--key', 'alias/x'], c.io)).toBe(2);
  });
});
