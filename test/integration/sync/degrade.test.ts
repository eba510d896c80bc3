// Sync that degrades per file (issue 9, part 4): what cannot be read is reported and skipped, the rest syncs.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSyncCommand } from '../../../electron/core/sync/command.js';
import { childCoverageEnv, KENV_BIN } from '../../support/cli.js';
import { kenvMessage, writeKenv } from '../../support/kenv-fixtures.js';
import { localFiles, readLocal, remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

async function putRemote(remote: string, path: string, body: Buffer): Promise<void> {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  const sha256 = createHash('sha256').update(body).digest('hex');
  await world.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${path}`, Body: body, Metadata: { 'kenv-sha256': sha256 } }));
}

const NOBODY = 65534;

/**
 * Runs the built `kenv sync` as a user that permissions apply to. Root reads through chmod 000, so a test run as
 * root (as CI runs here) would prove nothing: there the command runs under an unprivileged uid with setpriv, in
 * a vault (and a HOME) that uid owns; as any other user it runs as that user. No fault is injected: the kernel
 * refuses the reads, as it would for a person.
 */
async function kenvSyncAsUser(vault: string, remote: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = process.getuid?.() === 0;
  const home = await mkdtemp(join(tmpdir(), 'kenv-home-'));
  if (root) {
    await chown(home, NOBODY, NOBODY);
    await chownTree(vault);
  }
  const [cmd, args] = root
    ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, KENV_BIN, 'sync', vault, remote]]
    : [process.execPath, [KENV_BIN, 'sync', vault, remote]];
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(cmd, args as string[], {
        env: { PATH: process.env.PATH ?? '', HOME: home, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true', ...childCoverageEnv(), ...world.server.env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function chownTree(dir: string): Promise<void> {
  await chown(dir, NOBODY, NOBODY);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (e.isDirectory()) await chownTree(p);
    else await chown(p, NOBODY, NOBODY);
  }
}

describe('unreadable files and folders', () => {
  it('an unreadable sub-folder is reported and skipped, the rest synced, exit 1, and what it holds is not deleted on S3', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'locked/inside.kenv', 'synced before');
    expect((await (await world.syncer(vault, remote)).sync()).uploaded).toEqual(['locked/inside.kenv']);
    await writeKenv(vault, 'ok.kenv', 'new');
    await writeKenv(vault, 'more/also.kenv', 'new too');
    await chmod(join(vault, 'locked'), 0o000);
    try {
      const run = await kenvSyncAsUser(vault, remote);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/locked\/.*could not be read.*\[INPUT_UNREADABLE\]/);
      expect(await remoteKeys(world.s3, remote)).toEqual(['locked/inside.kenv', 'more/also.kenv', 'ok.kenv']);
    } finally {
      await chmod(join(vault, 'locked'), 0o755);
    }
  });

  it('an unreadable file is reported as unreadable, not as an invalid .kenv, and the sync exits 1', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'ok.kenv', 'ok');
    await writeKenv(vault, 'secret.kenv', 'cannot read me');
    await chmod(join(vault, 'secret.kenv'), 0o000);
    const run = await kenvSyncAsUser(vault, remote);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/secret\.kenv.*could not be read.*\[INPUT_UNREADABLE\]/);
    expect(run.stdout).not.toMatch(/not a valid/);
    expect(await remoteKeys(world.s3, remote)).toEqual(['ok.kenv']);
  });
});

describe('downloads that are not valid .kenv messages', () => {
  it('are not placed in the vault, are reported, stay on S3, and are not fetched again until they change', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await putRemote(remote, 'bad.kenv', Buffer.from('not a kenv message, written by a third party'));
    await putRemote(remote, 'good.kenv', await kenvMessage('fine'));
    const sync = await world.syncer(vault, remote);
    const first = await sync.sync();
    expect(first.downloaded).toEqual(['good.kenv']);
    expect(first.skipped).toContainEqual({ path: 'bad.kenv', reason: 'invalid-remote-kenv' });
    expect(first.failed).toEqual([]);
    expect(await localFiles(vault, true)).not.toContainEqual(expect.stringMatching(/bad/));

    const gets = world.server.proxy.stats.gets;
    const second = await sync.sync();
    expect(second.skipped).toContainEqual({ path: 'bad.kenv', reason: 'invalid-remote-kenv' });
    expect(second.deletedRemote).toEqual([]);
    expect(world.server.proxy.stats.gets).toBe(gets);
    expect(await remoteKeys(world.s3, remote)).toEqual(['bad.kenv', 'good.kenv']);

    const fixed = await kenvMessage('replaced by a valid one');
    await putRemote(remote, 'bad.kenv', fixed);
    expect((await sync.sync()).downloaded).toEqual(['bad.kenv']);
    expect(await readLocal(vault, 'bad.kenv')).toEqual(fixed);
  });

  it('an invalid object over a synced file leaves the local file in place and in the index', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    const mine = await writeKenv(vault, 'doc.kenv', 'mine');
    const sync = await world.syncer(vault, remote);
    await sync.sync();
    await putRemote(remote, 'doc.kenv', randomBytes(500));
    for (let run = 0; run < 2; run++) {
      const report = await sync.sync();
      expect(report.skipped).toContainEqual({ path: 'doc.kenv', reason: 'invalid-remote-kenv' });
      expect(report.deletedLocal).toEqual([]);
      expect(report.conflicts).toEqual([]);
    }
    expect(await readLocal(vault, 'doc.kenv')).toEqual(mine);
    expect(await localFiles(vault)).toEqual(['doc.kenv']);
  });
});

it('without a terminal, a multipart upload prints one line for its file, not one per part', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  await writeFile(join(vault, 'big.kenv'), await kenvMessage(randomBytes(20 * 1024 * 1024)));
  const out: string[] = [];
  const code = await runSyncCommand({ vaultDir: vault, remote }, { out: (l) => out.push(l), err: () => undefined });
  expect(code).toBe(0);
  expect(out.filter((l) => l.includes('big.kenv'))).toEqual(['upload         big.kenv', expect.stringMatching(/^uploaded +big\.kenv \(20\.\d MiB\)$/)]);
});
