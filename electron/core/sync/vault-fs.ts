import { link, lstat, mkdir, realpath, rename, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { KenvError } from '../errors.js';
import { foldName } from './names.js';

function unsafe(vaultDir: string, rel: string, why: string): KenvError {
  return new KenvError(
    'SYNC_UNSAFE_PATH',
    `Sync did not write at ${rel || '.'} in ${vaultDir}: ${why}. Sync never writes through a symbolic link or outside the vault; replace the link with a real folder, or move it out of the vault.`,
  );
}

/**
 * The absolute path of the vault folder `relDir` ('/'-separated, '' for the vault itself), made of real folders
 * inside the vault. Missing folders are created when `create` is set.
 *
 * Each part is checked with `lstat` (never followed) and must be a folder, not a symbolic link; then the real path
 * of the result must be the vault's real path plus `relDir`. Anything else throws SYNC_UNSAFE_PATH: sync never
 * writes, renames or deletes through a link, nor outside the vault (as rclone and Syncthing refuse to). Call it
 * right before each write, so a folder swapped for a link after the scan is caught too.
 */
export async function vaultFolder(vaultDir: string, relDir: string, create: boolean): Promise<string> {
  const root = await realpath(vaultDir);
  let abs = root;
  const parts = relDir ? relDir.split('/') : [];
  for (const part of parts) {
    abs = join(abs, part);
    let info = await lstat(abs).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!info && create) {
      await mkdir(abs).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      info = await lstat(abs);
    }
    if (!info) throw Object.assign(new Error(`ENOENT: no such folder, '${abs}'`), { code: 'ENOENT', syscall: 'lstat', path: abs });
    if (info.isSymbolicLink()) throw unsafe(vaultDir, relDir, `${part} is a symbolic link`);
    if (!info.isDirectory()) throw unsafe(vaultDir, relDir, `${part} is not a folder`);
  }
  const real = await realpath(abs);
  // Folders that differ only in case are one folder on macOS and Windows, and realpath answers the stored case.
  if (real !== abs && foldName(real) !== foldName(abs)) throw unsafe(vaultDir, relDir, `its real path ${real} is not inside ${root}${sep}`);
  return abs;
}

/**
 * Moves the finished file `tmp` to `dest`, which must not exist: a hard link fails rather than replace a file
 * that appeared since it was checked. On file systems without hard links, a rename after one more check.
 */
export async function placeNew(tmp: string, dest: string): Promise<void> {
  try {
    await link(tmp, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    if (await lstat(dest).then(() => true, () => false)) {
      throw Object.assign(new Error(`EEXIST: file already exists, '${dest}'`), { code: 'EEXIST', syscall: 'rename', path: dest });
    }
    await rename(tmp, dest);
    return;
  }
  await unlink(tmp);
}
