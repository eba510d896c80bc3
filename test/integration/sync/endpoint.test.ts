// Knowing the endpoint: the first sync of a binding probes which conditional requests the endpoint really enforces,
// remembers it, says so once where it does not, and then checks each write itself.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSyncCommand } from '../../../electron/core/sync/command.js';
import type { ProxyRequest } from '../../support/s3-proxy.js';
import { kenvMessage, writeKenv } from '../../support/kenv-fixtures.js';
import { testBackend } from '../../support/s3-server.js';
import { putRemote, readLocal, remoteBytes, remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

const onKey = (method: string, path: string) => (r: ProxyRequest) =>
  r.method === method && r.key.endsWith(`/${path}`) && [...r.query.keys()].every((k) => k === 'x-id');

async function readIndex(vault: string) {
  return JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
}

/** A .kenv file of a little more than 8 MiB: uploaded in two parts. */
async function writeBigKenv(vault: string, path: string, fill: number): Promise<Buffer> {
  const bytes = Buffer.concat([await kenvMessage(`big ${fill}`), Buffer.alloc(9 * 1024 * 1024, fill)]);
  await writeFile(join(vault, path), bytes);
  return bytes;
}

describe('endpoint probe', () => {
  it('the first sync probes once, leaves no probe object behind, and remembers what it found', async () => {
    const remote = world.newRemote();
    const vault = await world.newVault();
    await writeKenv(vault, 'a.kenv', 'a');
    const sync = await world.syncer(vault, remote);
    expect((await sync.sync()).failed).toEqual([]);
    const { endpoint } = await readIndex(vault);
    expect(endpoint).toMatchObject({ putIfNoneMatch: true, putIfMatch: true, completeIfNoneMatch: true, deleteIfMatch: true, getIfMatch: true });
    // moto ignores If-Match on CompleteMultipartUpload; our proxy in front of s3rver enforces it.
    expect(endpoint.completeIfMatch).toBe(testBackend() !== 'moto');
    if (testBackend() === 'moto') {
      expect(endpoint.versioning).toBe('Off');
      expect(sync.status.endpointWarning).toMatch(/ignores If-Match on multipart uploads.*turn on versioning/);
    } else {
      expect(sync.status.endpointWarning).toBeUndefined();
    }
    expect(await remoteKeys(world.s3, remote)).toEqual(['a.kenv']);

    const before = world.server.proxy.requests.length;
    await writeKenv(vault, 'b.kenv', 'b');
    expect((await sync.sync()).uploaded).toEqual(['b.kenv']);
    expect(world.server.proxy.requests.slice(before).filter((r) => r.key.includes('/.kenv-sync/'))).toEqual([]);
  });

  it.runIf(testBackend() === 'moto')(
    'two machines racing a multipart upload over one version on moto (If-Match ignored there): neither edit is lost',
    async () => {
      const bucket = 'versioned';
      await world.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await world.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      const remote = `s3://${bucket}/race/vault`;
      const a = await world.newVault();
      const b = await world.newVault();
      await writeBigKenv(a, 'big.kenv', 1);
      const syncA = await world.syncer(a, remote);
      const syncB = await world.syncer(b, remote);
      expect((await syncA.sync()).failed).toEqual([]);
      expect((await syncB.sync()).downloaded).toEqual(['big.kenv']);
      expect(syncB.status.endpointWarning).toMatch(/restores any version it replaced as a conflict copy/);

      const fromA = await writeBigKenv(a, 'big.kenv', 2);
      const fromB = await writeBigKenv(b, 'big.kenv', 3);
      // A completes its upload while B is between its parts and its CompleteMultipartUpload (If-Match: v1).
      let syncedA: Awaited<ReturnType<typeof syncA.sync>> | undefined;
      world.server.proxy.beforeNext(
        (r) => r.method === 'POST' && r.query.has('uploadId') && r.key.endsWith('/big.kenv'),
        async () => {
          syncedA = await syncA.sync();
        },
      );
      const reportB = await syncB.sync();
      expect(syncedA?.uploaded).toEqual(['big.kenv']);
      expect(reportB.failed).toEqual([]);
      expect(reportB.conflicts).toHaveLength(1);
      const copy = reportB.conflicts[0]?.conflictCopy ?? '';
      expect(copy).toMatch(/^big \(conflict .*\)\.kenv$/);
      expect((await remoteBytes(world.s3, remote, 'big.kenv')).equals(fromB)).toBe(true);
      expect((await remoteBytes(world.s3, remote, copy)).equals(fromA)).toBe(true);

      // Both machines end with both versions.
      expect((await syncA.sync()).failed).toEqual([]);
      expect((await syncB.sync()).failed).toEqual([]);
      for (const vault of [a, b]) {
        expect((await readLocal(vault, 'big.kenv')).equals(fromB)).toBe(true);
        expect((await readLocal(vault, copy)).equals(fromA)).toBe(true);
      }
    },
    180_000,
  );

  it.runIf(testBackend() === 's3rver')(
    'an endpoint that ignores every condition and keeps no versions: said once, and a third writer around the upload is caught',
    async () => {
      // s3rver itself ignores If-None-Match and If-Match everywhere: let it show through.
      world.server.proxy.enforce = false;
      try {
        const remote = world.newRemote();
        const vault = await world.newVault();
        await writeKenv(vault, 'doc.kenv', 'v1');
        const err: string[] = [];
        const io = { out: () => {}, err: (l: string) => err.push(l) };
        expect(await runSyncCommand({ vaultDir: vault, remote }, io)).toBe(0);
        expect(err).toEqual([expect.stringMatching(/^kenv sync: warning: This S3 endpoint ignores If-None-Match on uploads, .*turn on versioning/)]);
        expect((await readIndex(vault)).endpoint).toMatchObject({ putIfNoneMatch: false, putIfMatch: false, completeIfMatch: false, deleteIfMatch: false });

        // Before the write: the ETag is checked just before uploading, as the server would have.
        const sync = await world.syncer(vault, remote);
        await writeKenv(vault, 'doc.kenv', 'mine');
        const early = await kenvMessage('written before my upload');
        world.server.proxy.beforeNext(onKey('HEAD', 'doc.kenv'), async () => {
          await putRemote(world.s3, remote, 'doc.kenv', early);
        });
        const first = await sync.sync();
        expect(first.failed).toMatchObject([{ path: 'doc.kenv', code: 'SYNC_REMOTE_CHANGED' }]);
        expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(early);
        const resolved = await sync.sync();
        expect(resolved.conflicts).toHaveLength(1);

        // After the write: the object read back is not the one written, so the upload is not recorded as synced.
        const mine = await writeKenv(vault, 'doc.kenv', 'mine again');
        const late = await kenvMessage('written right after my upload');
        world.server.proxy.afterNext(onKey('PUT', 'doc.kenv'), async () => {
          await putRemote(world.s3, remote, 'doc.kenv', late);
        });
        const second = await sync.sync();
        expect(second.failed).toMatchObject([{ path: 'doc.kenv', code: 'SYNC_REMOTE_CHANGED' }]);
        const third = await sync.sync();
        expect(third.failed).toEqual([]);
        expect(third.conflicts).toHaveLength(1);
        const copy = third.conflicts[0]?.conflictCopy ?? '';
        expect(await remoteBytes(world.s3, remote, 'doc.kenv')).toEqual(mine);
        expect(await remoteBytes(world.s3, remote, copy)).toEqual(late);
      } finally {
        world.server.proxy.enforce = true;
      }
    },
  );
});

describe('checksums the server sends', () => {
  it('a download whose body fails the x-amz-checksum-* the server sent is fetched again', async () => {
    const remote = world.newRemote();
    const b = await world.newVault();
    // Written by another client with the SDK's default CRC32 checksum, which moto stores and sends back on GET
    // (s3rver sends none: there the SHA-256 in the metadata catches it, as sync.test.ts shows).
    const bytes = await kenvMessage('checked twice');
    await putRemote(world.s3, remote, 'doc.kenv', bytes);
    world.server.proxy.corruptNextGet((k) => k.endsWith('/doc.kenv'));
    const corrupted = world.server.proxy.stats.corruptedGets;
    const report = await (await world.syncer(b, remote)).sync();
    expect(world.server.proxy.stats.corruptedGets).toBe(corrupted + 1);
    expect(report.failed).toEqual([]);
    expect(report.downloaded).toEqual(['doc.kenv']);
    expect(await readLocal(b, 'doc.kenv')).toEqual(bytes);
  });
});
