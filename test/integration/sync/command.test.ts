// `kenv sync` as the CLI runs it: the client comes from the environment (AWS_ENDPOINT_URL_S3 and keys).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSyncCommand } from '../../../electron/core/sync/command.js';
import { writeKenv } from '../../support/kenv-fixtures.js';
import { endpointWarningLines, localFiles, remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('runSyncCommand', () => {
  it('--dry-run prints the plan and changes nothing', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const c = capture();
    expect(await runSyncCommand({ vaultDir: vault, remote, dryRun: true }, c.io)).toBe(0);
    expect(c.out).toContain('upload         a.kenv');
    expect(c.out.at(-1)).toMatch(/^dry run, nothing changed: would upload 1, download 0/);
    expect(await remoteKeys(world.s3, remote)).toEqual([]);
  });

  it('syncs, printing progress, skipped plaintext and a summary', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    await writeFile(join(vault, 'plain.txt'), 'secret');
    const c = capture();
    expect(await runSyncCommand({ vaultDir: vault, remote }, c.io)).toBe(0);
    expect(c.out).toContainEqual(expect.stringMatching(/^uploaded +a\.kenv/));
    expect(c.out).toContain('skipped        plain.txt (not a .kenv file, never uploaded)');
    expect(c.out.at(-1)).toMatch(/^uploaded 1 \(.*\), downloaded 0 \(0 B\), deleted 0 local \/ 0 remote, conflicts 0, unchanged 0, skipped 1$/);
    expect(c.err).toEqual(endpointWarningLines(world));
  });

  it('--json prints one JSON object per line, ending with the summary', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const c = capture();
    expect(await runSyncCommand({ vaultDir: vault, remote, json: true }, c.io)).toBe(0);
    const events = c.out.map((l) => JSON.parse(l) as { event: string });
    expect(events[0]).toMatchObject({ event: 'plan', upload: ['a.kenv'] });
    expect(events.at(-1)).toMatchObject({ event: 'summary', uploaded: 1, failed: 0, conflicts: 0 });
  });

  it('exits 1 when a file fails, naming it on stderr', async () => {
    const remote = world.newRemote();
    const a = await world.newVault();
    const b = await world.newVault();
    await writeKenv(a, 'x.kenv', 'x');
    expect(await runSyncCommand({ vaultDir: a, remote }, capture().io)).toBe(0);
    world.server.proxy.corruptNextGet((k) => k.endsWith('/x.kenv'));
    world.server.proxy.corruptNextGet((k) => k.endsWith('/x.kenv'));
    const c = capture();
    expect(await runSyncCommand({ vaultDir: b, remote }, c.io)).toBe(1);
    expect(c.err).toEqual([...endpointWarningLines(world), expect.stringMatching(/^kenv sync: x\.kenv: .* \[SYNC_CHECKSUM_MISMATCH\]$/)]);
    expect(c.out.at(-1)).toMatch(/FAILED 1$/);
  });

  it('exits 2 on a wrong vault folder or remote', async () => {
    const vault = await world.newVault();
    const c = capture();
    expect(await runSyncCommand({ vaultDir: join(vault, 'missing'), remote: world.newRemote() }, c.io)).toBe(2);
    expect(await runSyncCommand({ vaultDir: vault, remote: 'https://bucket/x' }, c.io)).toBe(2);
    expect(c.err).toHaveLength(2);
  });

  it('stops with SYNC_MASS_DELETE (exit 1) when the prefix was emptied, and --max-delete 100 lets it through', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    for (let i = 0; i < 6; i++) await writeKenv(vault, `f${i}.kenv`, `f${i}`);
    expect(await runSyncCommand({ vaultDir: vault, remote }, capture().io)).toBe(0);
    const other = await world.newVault();
    expect(await runSyncCommand({ vaultDir: other, remote }, capture().io)).toBe(0);
    for (let i = 0; i < 6; i++) await rm(join(other, `f${i}.kenv`));
    expect(await runSyncCommand({ vaultDir: other, remote, maxDeletePercent: 100 }, capture().io)).toBe(0);
    expect(await remoteKeys(world.s3, remote)).toEqual([]);

    const c = capture();
    expect(await runSyncCommand({ vaultDir: vault, remote }, c.io)).toBe(1);
    expect(c.out).toEqual([]);
    expect(c.err).toEqual([...endpointWarningLines(world), expect.stringMatching(/would delete 6 of the vault folder's 6 files.*--max-delete 100.*\[SYNC_MASS_DELETE\]$/)]);
    expect(await localFiles(vault)).toHaveLength(6);
    expect(await runSyncCommand({ vaultDir: vault, remote, maxDeletePercent: 101 }, capture().io)).toBe(2);
    expect(await runSyncCommand({ vaultDir: vault, remote, maxDeletePercent: 100 }, capture().io)).toBe(0);
    expect(await localFiles(vault)).toEqual([]);
  });

  it('exits 1 with S3_NO_SUCH_BUCKET when the bucket does not exist', async () => {
    const vault = await world.newVault();
    const c = capture();
    expect(await runSyncCommand({ vaultDir: vault, remote: 's3://no-such-bucket/x' }, c.io)).toBe(1);
    expect(c.err).toEqual([expect.stringMatching(/\[S3_NO_SUCH_BUCKET\]$/)]);
  });

  it('--watch syncs at start and again after a local change, until stopped', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'first.kenv', '1');
    const stop = new AbortController();
    const c = capture();
    const running = runSyncCommand({ vaultDir: vault, remote, watch: true, signal: stop.signal }, c.io);
    await waitFor(async () => (await remoteKeys(world.s3, remote)).includes('first.kenv'));
    await writeKenv(vault, 'second.kenv', '2');
    await waitFor(async () => (await remoteKeys(world.s3, remote)).includes('second.kenv'));
    stop.abort();
    expect(await running).toBe(0);
    expect(c.out.at(-1)).toBe('stopped watching');
    expect(await localFiles(vault)).toEqual(['first.kenv', 'second.kenv']);
  });
});

/** Polls `check` until it holds; the test's own timeout bounds the wait. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}
