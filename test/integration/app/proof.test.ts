import { mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, ReplicateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canOpenFile } from '../../../electron/core/app/proof.js';
import { coreVault } from '../../../electron/core/app/vault.js';
import { TrustedAccounts } from '../../../electron/core/kms/trust.js';
import { inspectFile } from '../../../electron/core/files.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { RawAesKeyring } from '../../../electron/core/keyring/raw-aes-keyring.js';
import { LocalKmsFixture, kmsClient } from '../../support/local-kms.js';
import { encryptBuffer } from '../../support/streams.js';

// The app's side of issue 13, through coreVault (what the handlers call) against the local KMS.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let client: KMSClient;
const clients = () => () => client;

beforeAll(async () => {
  kms = await fixture.start();
  client = kmsClient(kms);
});
afterAll(() => fixture.closeAll());

async function sealed(dir: string, name: string, opts: { fileId?: boolean } = {}): Promise<string> {
  await writeFile(join(dir, name), `contents of ${name}`);
  const vault = coreVault(clients);
  const out = await vault.encryptFile(join(dir, name), {
    keyIds: [kms.keys()[0]!.arn], context: {}, onProgress: () => undefined, signal: new AbortController().signal, ...opts,
  });
  return out.outputPath;
}

describe('the app', () => {
  it('gives encrypted files an audit id unless the setting turns it off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    expect((await inspectFile(await sealed(dir, 'a.txt'))).encryptionContext['kenv:file-id']).toMatch(/^[0-9a-f]{32}$/);
    expect((await inspectFile(await sealed(dir, 'b.txt', { fileId: false }))).encryptionContext).toEqual({});
  });

  it('says before decrypting whether this identity can open a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    const kenv = await sealed(dir, 'c.txt');
    const vault = coreVault(clients);
    expect(await vault.canOpen!(kenv)).toMatchObject({ canOpen: true });
    kms.deny({ operation: 'Decrypt', key: kms.keys()[0]!.arn });
    try {
      const check = await vault.canOpen!(kenv);
      expect(check.canOpen).toBe(false);
      expect(check.keys[0]).toMatchObject({ ok: false, code: 'KMS_ACCESS_DENIED' });
    } finally {
      kms.allow();
    }
  });

  it('refuses to encrypt when this identity could not open the result (preflight)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    kms.deny({ operation: 'Decrypt', key: kms.keys()[0]!.arn });
    try {
      await expect(sealed(dir, 'd.txt')).rejects.toMatchObject({ code: 'KMS_ACCESS_DENIED' });
      expect(await readdir(dir)).toEqual(['d.txt']);
    } finally {
      kms.allow();
    }
  });

  it('checks a vault folder without writing plaintext and names the tampered file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    await sealed(dir, 'good.txt');
    const bad = await sealed(dir, 'bad.txt');
    const bytes = await readFile(bad);
    bytes[bytes.length - 20]! ^= 1;
    await writeFile(bad, bytes);
    const before = (await readdir(dir)).sort();
    const results = await coreVault(clients).verifyFolder!(dir);
    expect(results).toEqual([
      { path: 'bad.txt.kenv', ok: false, error: expect.objectContaining({ code: 'FRAME_TAMPERED' }) },
      { path: 'good.txt.kenv', ok: true, error: null },
    ]);
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it("Check vault opens a multi-Region key of another Region with its replica in the profile's Region first", async () => {
    // The file is wrapped under a multi-Region key's primary in eu-west-1; the profile works in us-east-1, where a
    // replica lives. With the primary's own Region refusing Decrypt, only the replica here can open it.
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    const west = kmsClient(kms, 'eu-west-1');
    const primary = (await west.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
    await west.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: 'us-east-1' }));
    const regions: (string | undefined)[] = [];
    const regional = () => (region?: string) => {
      regions.push(region);
      return kmsClient(kms, region ?? 'us-east-1');
    };
    await writeFile(join(dir, 'mrk.txt'), 'across Regions');
    await coreVault(regional).encryptFile(join(dir, 'mrk.txt'), { keyIds: [primary], context: {}, onProgress: () => undefined, signal: new AbortController().signal });
    const profile = async () => ({ trust: new TrustedAccounts([], 'aws', async () => primary.split(':')[4]!), region: 'us-east-1' });
    regions.length = 0;
    const rule = { operation: 'Decrypt', key: primary };
    kms.deny(rule);
    try {
      expect(await coreVault(regional, { trust: profile }).verifyFolder!(dir)).toEqual([{ path: 'mrk.txt.kenv', ok: true, error: null }]);
      expect(regions).toEqual(['us-east-1']);
    } finally {
      kms.allow(rule);
    }
  });

  it('never asks KMS about a key in an account that is not trusted, and says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    const kenv = await sealed(dir, 'e.txt');
    const arn = kms.keys()[0]!.arn;
    const account = arn.split(':')[4]!;
    let asked = 0;
    const counting = () => () => {
      asked++;
      return client;
    };
    const stranger = new TrustedAccounts([], 'aws', async () => '999999999999');
    const refused = await canOpenFile(kenv, counting(), { trust: stranger });
    expect(refused).toEqual({ canOpen: false, keys: [{ key: arn, ok: false, code: 'UNTRUSTED_KEY_ACCOUNT', reason: expect.stringContaining('which you do not trust') }] });
    expect(asked).toBe(0);
    const trusted = await canOpenFile(kenv, counting(), { trust: new TrustedAccounts([account], 'aws', async () => '999999999999') });
    expect(trusted).toEqual({ canOpen: true, keys: [{ key: arn, ok: true }] });
    expect(asked).toBeGreaterThan(0);
  });

  it('hands only KMS keys to the trust check: a file for a local (raw AES) key can be opened under any trust, with no KMS call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    const keyring = new RawAesKeyring({ namespace: 'my-keys', name: 'laptop', key: Buffer.alloc(32, 7) });
    await writeFile(join(dir, 'local.kenv'), await encryptBuffer(Buffer.from('local'), { keyring }));
    let asked = 0;
    const stranger = new TrustedAccounts([], 'aws', async () => '999999999999');
    expect(await canOpenFile(join(dir, 'local.kenv'), () => { asked++; return client; }, { trust: stranger })).toEqual({
      canOpen: true, keys: [{ key: expect.stringContaining('laptop'), ok: true }],
    });
    expect(asked).toBe(0);
  });

  it('applies the decrypt\'s cap on data keys before any KMS call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    const kenv = await sealed(dir, 'f.txt');
    let asked = 0;
    await expect(canOpenFile(kenv, () => { asked++; return client; }, { maxDataKeys: 0 })).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(asked).toBe(0);
    expect(await canOpenFile(kenv, () => client, { maxDataKeys: 1 })).toMatchObject({ canOpen: true });
  });

  it('applies the cap it is given, not the default: a file for two keys is refused under a cap of one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    await writeFile(join(dir, 'two.txt'), 'two');
    const out = await coreVault(clients).encryptFile(join(dir, 'two.txt'), {
      keyIds: [kms.keys()[0]!.arn, kms.keys()[0]!.arn], context: {}, onProgress: () => undefined, signal: new AbortController().signal,
    });
    let asked = 0;
    await expect(canOpenFile(out.outputPath, () => { asked++; return client; }, { maxDataKeys: 1 })).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(asked).toBe(0);
    expect(await canOpenFile(out.outputPath, () => client, { maxDataKeys: 2 })).toMatchObject({ canOpen: true });
  });

  it('leaves no descriptor open on the file it checked, whether the check passes or the header is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    const kenv = await sealed(dir, 'h.txt');
    const openOn = async () => {
      const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return targets.filter((t) => t === kenv);
    };
    expect(await canOpenFile(kenv, () => client)).toMatchObject({ canOpen: true });
    expect(await openOn()).toEqual([]);
    await expect(canOpenFile(kenv, () => client, { maxDataKeys: 0 })).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(await openOn()).toEqual([]);
  });

  it('reads a header longer than one read (a large encryption context)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kenv-app-proof-'));
    await writeFile(join(dir, 'g.txt'), 'g');
    const out = await coreVault(clients).encryptFile(join(dir, 'g.txt'), {
      keyIds: [kms.keys()[0]!.arn], context: { note: 'n'.repeat(65_500) }, onProgress: () => undefined,
      signal: new AbortController().signal, fileId: false,
    });
    expect((await readFile(out.outputPath)).length).toBeGreaterThan(65_536);
    expect(await canOpenFile(out.outputPath, () => client)).toMatchObject({ canOpen: true });
  });
});
