// CompleteMultipartUpload may take minutes: S3 answers 200 at once and sends whitespace while it assembles the
// object (and may still fail inside that 200); an S3-compatible server may stay silent until it is done.
import { randomFillSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { VaultSync } from '../../../electron/core/sync/engine.js';
import { createS3Client } from '../../../electron/core/sync/s3-client.js';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { remoteBytes, useSyncWorld } from './helpers.js';
import { timeLimit } from '../../support/timeouts.js';

const world = useSyncWorld();

const MiB = 1024 * 1024;
/** The usual inactivity timeout, shortened for the test (under 6 s the SDK arms it at once). */
const SOCKET_TIMEOUT = 4_000;

/** A vault bound to a fresh prefix (its first sync, with the endpoint probe, already done) holding a 9 MiB .kenv: two parts. */
async function boundVaultWithLargeFile(): Promise<{ vault: string; remote: string; bytes: Buffer }> {
  const remote = world.newRemote();
  const vault = await world.newVault();
  expect((await (await world.syncer(vault, remote)).sync()).failed).toEqual([]);
  const bytes = Buffer.concat([await kenvMessage('header'), randomFillSync(Buffer.alloc(9 * MiB))]);
  await writeFile(join(vault, 'big.kenv'), bytes);
  return { vault, remote, bytes };
}

async function syncWithShortTimeout(vault: string, remote: string) {
  const s3 = await createS3Client({ timeouts: { socketTimeout: SOCKET_TIMEOUT } });
  try {
    return await new VaultSync({ vaultDir: vault, remote, s3 }).sync();
  } finally {
    s3.destroy();
  }
}

it('a CompleteMultipartUpload that stays silent longer than the inactivity timeout still completes', async () => {
  const { vault, remote, bytes } = await boundVaultWithLargeFile();
  // Every attempt the SDK makes is slow (it retries a timed-out request).
  world.server.proxy.slowNextComplete({ delayMs: SOCKET_TIMEOUT + 4_000 }, 3, (k) => k.endsWith('/big.kenv'));
  const report = await syncWithShortTimeout(vault, remote);
  world.server.proxy.clearFaults();
  expect(report.failed).toEqual([]);
  expect(report.uploaded).toEqual(['big.kenv']);
  expect((await remoteBytes(world.s3, remote, 'big.kenv')).equals(bytes)).toBe(true);
  const index = JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
  expect(index.uploads).toEqual({});
}, timeLimit(90_000));

it('whitespace keep-alive and then an error inside the 200 fails the file, keeps the upload, and the next sync completes it', async () => {
  const { vault, remote, bytes } = await boundVaultWithLargeFile();
  const proxy = world.server.proxy;
  // Longer than the inactivity timeout in all, but never silent for long; every attempt the SDK makes fails.
  proxy.slowNextComplete({ delayMs: SOCKET_TIMEOUT + 2_000, keepAliveMs: 500, errorCode: 'InternalError' }, 3, (k) => k.endsWith('/big.kenv'));
  const first = await syncWithShortTimeout(vault, remote);
  proxy.clearFaults();
  expect(first.uploaded).toEqual([]);
  expect(first.failed).toMatchObject([{ path: 'big.kenv', code: 'S3_ERROR', message: expect.stringContaining('InternalError') }]);
  // Nothing landed under the key, and the upload is kept for resuming.
  await expect(remoteBytes(world.s3, remote, 'big.kenv')).rejects.toThrow();
  const index = JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
  expect(index.uploads['big.kenv']?.uploadId).toMatch(/\w/);

  const partsBefore = proxy.requests.filter((r) => r.method === 'PUT' && r.key.endsWith('/big.kenv')).length;
  const second = await syncWithShortTimeout(vault, remote);
  expect(second.failed).toEqual([]);
  expect(second.uploaded).toEqual(['big.kenv']);
  // Resumed: the parts already stored were not sent again.
  expect(proxy.requests.filter((r) => r.method === 'PUT' && r.key.endsWith('/big.kenv')).length).toBe(partsBefore);
  expect((await remoteBytes(world.s3, remote, 'big.kenv')).equals(bytes)).toBe(true);
}, timeLimit(120_000));
