import { hostname } from 'node:os';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KenvError } from '../errors.js';
import { SYNC_DIR } from './index-store.js';
import { vaultFolder } from './vault-fs.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the vault's sync lock (`.kenv-sync/lock`), so that the app and a `kenv sync` never run on one vault at
 * once; returns the function that releases it. A lock left by a process of this machine that no longer runs is
 * taken over; any other lock makes this throw SYNC_BUSY.
 */
export async function lockVault(vaultDir: string): Promise<() => Promise<void>> {
  // A real folder inside the vault: a `.kenv-sync` link would put the lock, the index and downloads elsewhere.
  const path = join(await vaultFolder(vaultDir, SYNC_DIR, true), 'lock');
  const me = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify({ ...me, since: new Date().toISOString() }));
      } finally {
        await fh.close();
      }
      return async () => {
        await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await readFile(path, 'utf8')
        .then((t) => JSON.parse(t) as { pid?: number; host?: string })
        .catch(() => ({}) as { pid?: number; host?: string });
      const stale = holder.host === me.host && typeof holder.pid === 'number' && holder.pid !== me.pid && !alive(holder.pid);
      if (!stale) {
        throw new KenvError(
          'SYNC_BUSY',
          `Another sync of this vault is running (process ${holder.pid ?? '?'} on ${holder.host ?? 'another machine'}). ` +
            `Wait for it to finish; if it crashed on another machine, delete ${path}.`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new KenvError('SYNC_BUSY', `Could not take the sync lock ${path}. Try again.`);
}
