import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { PlannedFile } from '../../../shared/ipc.js';
import { KenvError } from '../errors.js';

const MAX_FILES = 10_000;

/**
 * Turns dropped or chosen paths into the files to work on, folders expanded.
 *
 * `.kenv` files are decrypted and everything else is encrypted, in one mixed batch. Symbolic links inside folders
 * are skipped (a link can point anywhere, including back up the tree); a link dropped directly is followed.
 */
export async function planFiles(paths: string[]): Promise<PlannedFile[]> {
  const out: PlannedFile[] = [];
  const seen = new Set<string>();
  const add = (path: string, size: number) => {
    if (seen.has(path)) return;
    seen.add(path);
    if (out.length >= MAX_FILES) {
      throw new KenvError('INVALID_ARGUMENT', `That is more than ${MAX_FILES.toLocaleString('en')} files. Drop fewer files or a smaller folder at a time.`);
    }
    out.push({ path, name: basename(path), size, direction: isKenvName(path) ? 'decrypt' : 'encrypt' });
  };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new KenvError('INPUT_NOT_FOUND', `${basename(path)} no longer exists at ${path}. Check the file and drop it again.`);
    }
    if (info.isDirectory()) await walk(path, add);
    else if (info.isFile()) add(path, info.size);
  }
  return out;
}

async function walk(dir: string, add: (path: string, size: number) => void): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, add);
    else if (entry.isFile()) add(path, (await lstat(path)).size);
  }
}

/** Is this the name of an encrypted file? */
export function isKenvName(path: string): boolean {
  return path.toLowerCase().endsWith('.kenv');
}
