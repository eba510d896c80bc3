import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SYNC_DIR, TRASH_DIR } from './index-store.js';
import { forEachLimit } from './pool.js';
import { vaultNameProblem } from './names.js';
import type { IndexEntry, LocalFile, SkippedFile, SyncFailure } from './types.js';

export interface ScanResult {
  files: Map<string, LocalFile>;
  skipped: SkippedFile[];
  /** Files and folders that could not be read: each reported here, the rest of the vault still syncs. */
  unreadable: SyncFailure[];
  /** Every name in the folder that is not a `.kenv` file sync manages (folders included). */
  occupied: Set<string>;
  /** Names nothing below is managed: symbolic links, files, unreadable or unsafe folders. */
  barriers: Set<string>;
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** SHA-256 (hex) of a file's bytes. Never through a symbolic link. */
export async function sha256File(path: string, size?: number): Promise<string> {
  const fh = await open(path, constants.O_RDONLY | NOFOLLOW);
  try {
    if (size !== undefined && size <= 8 * 1024 * 1024) return createHash('sha256').update(await fh.readFile()).digest('hex');
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

/**
 * Is the local name of `path` (a remote object or an index entry) held by something sync does not manage: a
 * symbolic link, a folder, a plaintext, an unreadable or invalid file, on the path itself or a folder on its way?
 * Such a path is neither written, nor deleted, nor planned: sync never writes through or over what it did not put there.
 */
export function isLocalNameTaken(scan: Pick<ScanResult, 'occupied' | 'barriers'>, path: string): string | undefined {
  if (scan.occupied.has(path)) return path;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const folder = path.slice(0, i);
    if (scan.barriers.has(folder)) return folder;
  }
  return undefined;
}

function unreadable(path: string, e: unknown): SyncFailure {
  const reason = e instanceof Error ? e.message : String(e);
  return {
    path,
    code: 'INPUT_UNREADABLE',
    message: `${path} could not be read (${reason}); it was skipped and the rest of the vault synced. Check its permissions.`,
  };
}

/**
 * Lists the vault's `.kenv` files with their size, mtime and SHA-256.
 *
 * A file whose size and mtime match the index keeps the index's hash and is not read again: a sync with nothing
 * to do costs one stat per file. New or changed files are read once to hash them, and must pass `isKenv`, so
 * that only messages that parse are ever uploaded; everything else is reported as skipped. Symbolic links are
 * reported and never followed, names the remote side could not carry back (`vaultNameProblem`) are never
 * uploaded, and a file or folder that cannot be read is reported in `unreadable` while the rest is scanned. The
 * sync state and trash folders at the vault's root are not part of the vault.
 */
export async function scanVault(
  vaultDir: string,
  index: Readonly<Record<string, IndexEntry>>,
  isKenv: (absolutePath: string) => Promise<boolean>,
  prefix = '',
): Promise<ScanResult> {
  const result: ScanResult = { files: new Map(), skipped: [], unreadable: [], occupied: new Set(), barriers: new Set() };
  const { files, skipped, occupied, barriers } = result;
  const leave = (path: string, barrier: boolean, skip?: SkippedFile['reason'], detail?: string) => {
    occupied.add(path);
    if (barrier) barriers.add(path);
    if (skip) skipped.push({ path, reason: skip, ...(detail ? { detail } : {}) });
  };

  async function visit(dir: string, rel: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (!rel) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // Gone since its parent was listed.
      leave(rel, true);
      result.unreadable.push(unreadable(`${rel}/`, e));
      return;
    }
    // Bounded, so that a first sync of a big vault does not open thousands of files at once.
    await forEachLimit(entries, 32, async (entry) => {
      if (!rel && (entry.name === SYNC_DIR || entry.name === TRASH_DIR)) return;
      const abs = join(dir, entry.name);
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) return leave(path, true, 'symlink');
      if (entry.isDirectory()) {
        const problem = vaultNameProblem(path, prefix);
        if (problem) return leave(path, true, 'unsafe-name', problem);
        occupied.add(path);
        return visit(abs, path);
      }
      if (!entry.isFile()) return leave(path, true, 'not-a-file');
      if (!entry.name.endsWith('.kenv')) return leave(path, true, 'not-kenv');
      const problem = vaultNameProblem(path, prefix);
      if (problem) return leave(path, true, 'unsafe-name', problem);
      let info;
      try {
        info = await lstat(abs);
      } catch {
        return; // Gone since the listing: the next sync sees the deletion.
      }
      if (!info.isFile()) return leave(path, true, info.isSymbolicLink() ? 'symlink' : 'not-a-file');
      const known = index[path];
      if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) {
        files.set(path, { path, size: info.size, mtimeMs: info.mtimeMs, sha256: known.sha256 });
        return;
      }
      try {
        // Opened first, so that a file sync may not read is reported as unreadable, not as an invalid message.
        await (await open(abs, constants.O_RDONLY | NOFOLLOW)).close();
        if (!(await isKenv(abs).catch(() => false))) return leave(path, true, 'invalid-kenv');
        const sha256 = await sha256File(abs, info.size);
        files.set(path, { path, size: info.size, mtimeMs: info.mtimeMs, sha256 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        leave(path, true);
        result.unreadable.push(unreadable(path, e));
      }
    });
  }

  await visit(vaultDir, '');
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  result.unreadable.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}
