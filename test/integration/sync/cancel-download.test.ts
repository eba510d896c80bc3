// Stopping a sync in the middle of a download (bytes already on disk): the sync fails with CANCELLED, the vault
// folder holds no partial file, and the next sync downloads the file whole.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKenv } from '../../support/kenv-fixtures.js';
import { localFiles, readLocal, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

/** Bytes in every file under `dir`, Kenv's own folders included. */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && !e.name.endsWith('.json') && !e.name.endsWith('.lock')) total += (await stat(join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

describe('sync cancelled mid-download', () => {
  it('fails with CANCELLED after bytes were written, leaves no partial file, and the next sync downloads the file whole', async () => {
    const remote = world.newRemote();
    const a = await world.newVault();
    const b = await world.newVault();
    const big = await writeKenv(a, 'big.kenv', Buffer.alloc(48 * 1024 * 1024, 7));
    expect((await (await world.syncer(a, remote)).sync()).failed).toEqual([]);

    const controller = new AbortController();
    let seen = 0;
    let stopped = false;
    const watch = (async () => {
      while (!stopped) {
        seen = await bytesUnder(b).catch(() => 0);
        if (seen > 0) return controller.abort();
        await new Promise((r) => setImmediate(r));
      }
    })();
    const syncB = await world.syncer(b, remote);
    await expect(syncB.sync({ signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    stopped = true;
    await watch;
    expect(seen).toBeGreaterThan(0);
    expect(await localFiles(b)).toEqual([]);
    expect(await bytesUnder(b)).toBe(0);

    expect((await syncB.sync()).downloaded).toEqual(['big.kenv']);
    expect((await readLocal(b, 'big.kenv')).equals(big)).toBe(true);
  });
});
