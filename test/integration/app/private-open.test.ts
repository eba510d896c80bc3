import { access, mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrivateFile } from '../../../shared/ipc.js';
import { PrivateOpens } from '../../../electron/core/app/private-open.js';
import { coreVault } from '../../../electron/core/app/vault.js';
import { decryptFile, encryptFile, inspectFile } from '../../../electron/core/files.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { LocalKmsFixture, kmsClient } from '../../support/local-kms.js';
import { RecordingSink, recordingShell } from '../../support/app-services.js';

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let client: KMSClient;
const clients = () => () => client;

beforeAll(async () => {
  kms = await fixture.start();
  client = kmsClient(kms);
});
afterAll(() => fixture.closeAll());

async function sealedFile(text: string, context: Record<string, string> = { team: 'finance' }) {
  const dir = await mkdtemp(join(tmpdir(), 'kenv-private-'));
  await writeFile(join(dir, 'notes.txt'), text);
  const demo = kms.keys()[0]!.arn;
  const { outputPath } = await encryptFile(join(dir, 'notes.txt'), { keyring: new KmsKeyring({ keyIds: [demo], clients: clients() }), context });
  return { dir, kenv: outputPath, demo };
}

describe('PrivateOpens', () => {
  it('decrypts into a private 0700 folder and opens the plaintext with the OS', async () => {
    const { dir, kenv } = await sealedFile('secret plans');
    const shell = recordingShell();
    const opens = new PrivateOpens(coreVault(clients), shell, new RecordingSink(), dir);
    const file = await opens.open(kenv);
    expect(file).toMatchObject({ kenvPath: kenv, name: 'notes.txt', edited: false, canReencrypt: true });
    expect(shell.opened).toEqual([`open:${file.plainPath}`]);
    expect((await stat(dirname(file.plainPath))).mode & 0o777).toBe(0o700);
    expect(await readFile(file.plainPath, 'utf8')).toBe('secret plans');
    expect(opens.knows(file.plainPath)).toBe(true);
    opens.closeAll();
  });

  it('notices a save, re-encrypts over the original under the same key and context, and wipes on close', async () => {
    const { dir, kenv, demo } = await sealedFile('version 1');
    const events = new RecordingSink();
    const opens = new PrivateOpens(coreVault(clients), recordingShell(), events, dir);
    const file = await opens.open(kenv);
    await writeFile(file.plainPath, 'version 2, edited');
    await expect.poll(() => events.events.some((e) => e.event === 'private:changed' && (e.payload as PrivateFile).edited)).toBe(true);

    await opens.reencrypt(file.id);
    const info = await inspectFile(kenv);
    expect(info.encryptedDataKeys).toEqual([{ providerId: 'aws-kms', keyArn: demo }]);
    expect(info.encryptionContext).toEqual({ team: 'finance' });
    const out = join(dir, 'check');
    const { outputPath } = await decryptFile(kenv, { keyring: new KmsKeyring({ clients: clients() }), outDir: dir, outputPath: out });
    expect(await readFile(outputPath, 'utf8')).toBe('version 2, edited');

    opens.close(file.id);
    await expect(access(dirname(file.plainPath))).rejects.toThrow();
    expect(events.events.at(-1)).toMatchObject({ event: 'private:changed', payload: { id: file.id, closed: true } });
    expect(() => opens.close(file.id)).toThrow(/no longer open/);
  });

  it('leaves no folder behind when the file does not decrypt', async () => {
    const { dir, kenv } = await sealedFile('x');
    const bytes = await readFile(kenv);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 1, bytes.length - 20);
    await writeFile(kenv, bytes);
    const opens = new PrivateOpens(coreVault(clients), recordingShell(), new RecordingSink(), dir);
    await expect(opens.open(kenv)).rejects.toHaveProperty('code');
    expect((await readdir(dir)).filter((n) => n.startsWith('kenv-open-'))).toEqual([]);
  });

  it('wipes the plaintext folders a crashed run left behind, and only those, at the next start', async () => {
    const { dir, kenv } = await sealedFile('still secret');
    // A run that was killed: its private folders and their plaintext are still there.
    for (const n of [1, 2]) {
      const left = await mkdtemp(join(dir, 'kenv-open-'));
      await writeFile(join(left, `plain-${n}.txt`), 'plaintext from a crashed run');
    }
    const elsewhere = await mkdtemp(join(tmpdir(), 'kenv-not-ours-'));
    await writeFile(join(elsewhere, 'keep.txt'), 'keep');
    await symlink(elsewhere, join(dir, 'kenv-open-link'));
    await mkdir(join(dir, 'unrelated'));

    const opens = new PrivateOpens(coreVault(clients), recordingShell(), new RecordingSink(), dir);
    const live = await opens.open(kenv);
    expect(await opens.sweepLeftovers()).toBe(2);
    expect((await readdir(dir)).filter((n) => n.startsWith('kenv-open-')).sort()).toEqual([dirname(live.plainPath).split('/').pop(), 'kenv-open-link'].sort());
    expect(await readFile(live.plainPath, 'utf8')).toBe('still secret');
    expect(await readFile(join(elsewhere, 'keep.txt'), 'utf8')).toBe('keep');
    await access(join(dir, 'unrelated'));
    opens.closeAll();
  });
});
