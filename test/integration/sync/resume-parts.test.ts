// Resuming a multipart upload on a real server (s3rver behind the proxy, and moto): a part the server already holds
// is skipped only when it is the file's own part. Both servers list parts without checksums, so what is compared
// there is the part's MD5 (its ETag) and size.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { partCrc32 } from '../../../electron/core/sync/part-checksum.js';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { timeLimit } from '../../support/timeouts.js';
import { remoteBytes, remoteKey, remoteMetadata, useSyncWorld } from './helpers.js';

const world = useSyncWorld();
const MiB = 1024 * 1024;

it('a recorded upload holding another part 1 of the same size: part 1 is sent again and the object is the file', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  // A real message header, then random bytes: two parts of which the first is 8 MiB.
  const file = Buffer.concat([await kenvMessage('header'), randomBytes(8 * MiB + 1000)]);
  await writeFile(join(vault, 'big.kenv'), file);
  const info = await stat(join(vault, 'big.kenv'));
  const sha256 = createHash('sha256').update(file).digest('hex');

  // An earlier upload of this file, as a sync that died would have left it, but its part 1 holds other bytes.
  const { Bucket, Key } = remoteKey(remote, 'big.kenv');
  const created = await world.s3.send(
    new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/octet-stream', Metadata: { 'kenv-sha256': sha256 }, ChecksumAlgorithm: 'CRC32' }),
  );
  const other = randomBytes(8 * MiB);
  await world.s3.send(new UploadPartCommand({ Bucket, Key, UploadId: created.UploadId, PartNumber: 1, Body: other, ChecksumCRC32: partCrc32(other) }));
  await mkdir(join(vault, '.kenv-sync'), { recursive: true });
  const pending = { path: 'big.kenv', key: Key, uploadId: created.UploadId, size: info.size, mtimeMs: info.mtimeMs, sha256, partSize: 8 * MiB, checksum: 'CRC32' };
  await writeFile(join(vault, '.kenv-sync', 'index.json'), JSON.stringify({ version: 1, remote: `${remote}/`, entries: {}, uploads: { 'big.kenv': pending } }));

  let parts = 0;
  const onPart = (_count: number, key: string) => {
    if (key === Key) parts++;
  };
  world.server.proxy.on('part-uploaded', onPart);
  try {
    const report = await (await world.syncer(vault, remote)).sync();
    expect(report.failed).toEqual([]);
    expect(report.uploaded).toEqual(['big.kenv']);
  } finally {
    world.server.proxy.off('part-uploaded', onPart);
  }
  expect(parts).toBe(2); // part 1 again, and part 2
  expect((await remoteBytes(world.s3, remote, 'big.kenv')).equals(file)).toBe(true);
  expect((await remoteMetadata(world.s3, remote, 'big.kenv'))['kenv-sha256']).toBe(sha256);
}, timeLimit(120_000));
