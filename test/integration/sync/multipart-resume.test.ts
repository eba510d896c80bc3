// A 200 MiB multipart upload interrupted by killing the S3 server (on moto: cutting it off the network), resumed by
// a new sync after a restart.
import { createHash, randomFillSync } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { remoteBytes, remoteMetadata, useSyncWorld } from './helpers.js';
import { timeLimit } from '../../support/timeouts.js';

const world = useSyncWorld();

const MiB = 1024 * 1024;

/** A real message header followed by `size` random bytes: what sync sees of a large .kenv file. */
async function writeLargeKenv(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    const head = await kenvMessage('header');
    hash.update(head);
    await fh.write(head);
    const chunk = Buffer.alloc(4 * MiB);
    for (let done = 0; done < size; done += chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, size - done));
      randomFillSync(piece);
      hash.update(piece);
      await fh.write(piece);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

it('a 200 MiB upload killed mid-way resumes after a restart from the saved upload id, with no byte lost', async () => {
  const remote = world.newRemote();
  const vault = await world.newVault();
  const sha = await writeLargeKenv(join(vault, 'big.kenv'), 200 * MiB);
  const { size } = await stat(join(vault, 'big.kenv'));
  const partsInFile = Math.ceil(size / (8 * MiB)); // 200 MiB and a header: 26 parts of 8 MiB, the last one tiny
  const proxy = world.server.proxy;
  // Parts of big.kenv only (the endpoint probe of a first sync uploads parts of its own).
  let parts = 0;
  let killed: Promise<void> | undefined;
  proxy.on('part-uploaded', (_n, key) => {
    if (!key.endsWith('/big.kenv')) return;
    parts++;
    if (parts === 6 && !killed) killed = world.server.kill();
  });
  const before = 0;

  const first = await (await world.syncer(vault, remote)).sync();
  await killed;
  expect(first.uploaded).toEqual([]);
  expect(first.failed).toMatchObject([{ path: 'big.kenv' }]);
  const index = JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
  const uploadId = index.uploads['big.kenv']?.uploadId;
  expect(uploadId).toMatch(/\w+/);
  const partsFirstRun = parts - before;
  expect(partsFirstRun).toBeGreaterThanOrEqual(6);
  expect(partsFirstRun).toBeLessThan(partsInFile);

  await world.server.restart();
  const restarted = await world.syncer(vault, remote); // a new engine, as after an app restart
  const progress: number[] = [];
  restarted.on('progress', (p) => {
    if (!p.done) progress.push(p.bytesDone);
  });
  const second = await restarted.sync();
  expect(second.failed).toEqual([]);
  expect(second.uploaded).toEqual(['big.kenv']);
  const partsSecondRun = parts - before - partsFirstRun;
  // Only the parts the server had not stored were sent again (a part stored just as the server died counts too).
  expect(partsSecondRun).toBeGreaterThan(0);
  expect(partsSecondRun).toBeLessThanOrEqual(partsInFile - partsFirstRun);

  expect(progress.length).toBeGreaterThan(0);
  expect(progress).toEqual([...progress].sort((x, y) => x - y));
  expect(progress.at(-1)).toBeLessThanOrEqual(size);

  const stored = await remoteBytes(world.s3, remote, 'big.kenv');
  expect(createHash('sha256').update(stored).digest('hex')).toBe(sha);
  expect((await remoteMetadata(world.s3, remote, 'big.kenv'))['kenv-sha256']).toBe(sha);
  const after = JSON.parse(await readFile(join(vault, '.kenv-sync', 'index.json'), 'utf8'));
  expect(after.uploads).toEqual({});
  expect(after.entries['big.kenv'].sha256).toBe(sha);
  // 400 MiB through a proxy and a Python or Node S3 server on two shared cores: 30-90 s here.
}, timeLimit(240_000));
