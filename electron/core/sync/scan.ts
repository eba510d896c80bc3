import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SYNC_DIR, TRASH_DIR } from './index-store.js';
import { forEachLimit } from './pool.js';
import type { IndexEntry, LocalFile, SkippedFile } from './types.js';

export interface ScanResult {
  files: Map<string, LocalFile>;
  skipped: SkippedFile[];
}

/** SHA-256 (hex) of a file's bytes. */
export async function sha256File(path: string, size?: number): Promise<string> {
  if (size !== undefined && size <= 8 * 1024 * 1024) {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Lists the vault's `.kenv` files with their size, mtime and SHA-256.
 *
 * A file whose size and mtime match the index keeps the index's hash and is not read again: a sync with nothing
 * to do costs one stat per file. New or changed files are read once to hash them, and must pass `isKenv`, so
 * that only messages that parse are ever uploaded; everything else is reported as skipped. Symbolic links are not
 * followed. The sync state and trash folders at the vault's root are not part of the vault.
 */
export async function scanVault(
  vaultDir: string,
  index: Readonly<Record<string, IndexEntry>>,
  isKenv: (absolutePath: string) => Promise<boolean>,
): Promise<ScanResult> {
  const files = new Map<string, LocalFile>();
  const skipped: SkippedFile[] = [];

  async function visit(dir: string, rel: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    // Bounded, so that a first sync of a big vault does not open thousands of files at once.
    await forEachLimit(entries, 32, async (entry) => {
      if (!rel && (entry.name === SYNC_DIR || entry.name === TRASH_DIR)) return;
      const abs = join(dir, entry.name);
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return visit(abs, path);
      if (!entry.isFile()) return;
      if (!entry.name.endsWith('.kenv')) {
        skipped.push({ path, reason: 'not-kenv' });
        return;
      }
      let info;
      try {
        info = await lstat(abs);
      } catch {
        return; // Gone since the listing: the next sync sees the deletion.
      }
      const known = index[path];
      if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) {
        files.set(path, { path, size: info.size, mtimeMs: info.mtimeMs, sha256: known.sha256 });
        return;
      }
      if (!(await isKenv(abs).catch(() => false))) {
        skipped.push({ path, reason: 'invalid-kenv' });
        return;
      }
      const sha256 = await sha256File(abs, info.size);
      files.set(path, { path, size: info.size, mtimeMs: info.mtimeMs, sha256 });
    });
  }

  await visit(vaultDir, '');
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  return { files, skipped };
}
