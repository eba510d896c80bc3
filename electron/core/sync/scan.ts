import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { tryParseHeader } from '../format/header.js';
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

/** The most a new file's read holds at once: files up to this size are read in one call. */
const READ_CHUNK = 1024 * 1024;

/**
 * Files up to this size are read with blocking calls (open, fstat, read, close: well under a millisecond from a
 * local disk). Each asynchronous call costs a hand-off to libuv's thread pool and back, and on a busy machine
 * those hand-offs, not the bytes, were most of what a sync of many small files spent.
 */
export const BLOCKING_READ_MAX = 1024 * 1024;

/**
 * A small file's bytes and stat, read through one descriptor that never follows a link (see BLOCKING_READ_MAX);
 * undefined when it is larger than that (read it asynchronously).
 */
export function readSmallFile(abs: string): { bytes: Buffer; size: number; mtimeMs: number; isFile: boolean } | undefined {
  // Non-blocking: a FIFO put in the file's place opens at once (and is refused below) instead of hanging the process.
  const fd = openSync(abs, constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { bytes: Buffer.alloc(0), size: info.size, mtimeMs: info.mtimeMs, isFile: false };
    if (info.size > BLOCKING_READ_MAX) return undefined;
    const bytes = Buffer.allocUnsafe(info.size);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return { bytes: bytes.subarray(0, done), size: info.size, mtimeMs: info.mtimeMs, isFile: true };
  } finally {
    closeSync(fd);
  }
}

/**
 * The longest the scan runs blocking calls (lstat of known files) before it lets the event loop turn: a vault of
 * 10,000 unchanged files costs ~10,000 lstat calls, a few milliseconds in all from a local disk, where the same calls
 * through the thread pool cost a promise and two hand-offs each, most of what a sync with nothing to do spent.
 */
const SCAN_SLICE_MS = 8;

/** Does `bytes` begin with a message header? Undefined: not enough bytes to tell yet. */
function headerVerdict(bytes: Buffer): boolean | undefined {
  try {
    return tryParseHeader(bytes) === undefined ? undefined : true;
  } catch {
    return false;
  }
}

/**
 * Reads a new or changed file once, through one handle that never follows a link: its size and mtime, whether it is
 * a Kenv message (its header parses from the bytes read, or `isKenv` says so), and the SHA-256 of its bytes.
 */
async function readNewFile(
  abs: string,
  isKenv: ((absolutePath: string) => Promise<boolean>) | undefined,
): Promise<{ size: number; mtimeMs: number; sha256: string } | 'not-a-file' | 'invalid-kenv'> {
  const small = readSmallFile(abs);
  if (small) {
    if (!small.isFile) return 'not-a-file';
    if (isKenv ? !(await isKenv(abs).catch(() => false)) : headerVerdict(small.bytes) !== true) return 'invalid-kenv';
    return { size: small.size, mtimeMs: small.mtimeMs, sha256: createHash('sha256').update(small.bytes).digest('hex') };
  }
  const fh = await open(abs, constants.O_RDONLY | NOFOLLOW);
  try {
    const info = await fh.stat();
    if (!info.isFile()) return 'not-a-file';
    if (isKenv && !(await isKenv(abs).catch(() => false))) return 'invalid-kenv';
    const hash = createHash('sha256');
    // Bytes kept until the header parses (the read buffer is reused); undefined once it has, or when isKenv decided.
    let pending: Buffer | undefined = isKenv ? undefined : Buffer.alloc(0);
    const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(info.size, READ_CHUNK)));
    let position = 0;
    while (position < info.size) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, info.size - position), position);
      if (bytesRead === 0) break; // Shorter than its stat said: the upload sees the change and refuses it.
      const bytes = chunk.subarray(0, bytesRead);
      hash.update(bytes);
      position += bytesRead;
      if (pending) {
        const head = pending.length ? Buffer.concat([pending, bytes]) : bytes;
        const verdict = headerVerdict(head);
        if (verdict === false) return 'invalid-kenv';
        pending = verdict ? undefined : Buffer.from(head);
      }
    }
    if (pending) return 'invalid-kenv'; // It ends inside its header, or is empty.
    return { size: info.size, mtimeMs: info.mtimeMs, sha256: hash.digest('hex') };
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

/** Which folder a path held when the scan found it there (device and inode, from lstat). */
interface FolderId {
  dev: number;
  ino: number;
}

/**
 * Is the folder at `dir` still the one the scan found there? Not when it, or a folder on its way, was replaced by a
 * link or another folder since: a path through a link swapped in leads to another folder, with another inode.
 */
function sameFolder(dir: string, id: FolderId | undefined): boolean {
  if (!id) return true;
  try {
    const now = lstatSync(dir, { throwIfNoEntry: false });
    return now !== undefined && now.isDirectory() && now.dev === id.dev && now.ino === id.ino;
  } catch {
    return false;
  }
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
 * How long after a file's modification its size and time cannot vouch for its content ("racy git"): a second write in
 * the same tick of the file system's clock leaves both as they were. Whole-second times come from a file system that
 * keeps coarse ones (FAT: 2 s, HFS+: 1 s); finer ones still come from a clock that moves in steps (Linux's jiffies,
 * up to 10 ms; Windows' timer, 15.6 ms).
 */
export function racyWindowMs(mtimeMs: number): number {
  return mtimeMs % 1000 === 0 ? 3000 : 100;
}

/** Was a file with this modification time looked at (`seenAt`, taken before its stat) too soon to trust its size and time? */
function isRacy(mtimeMs: number, seenAt: number): boolean {
  return seenAt - mtimeMs < racyWindowMs(mtimeMs);
}

/** Why a name whose bytes are not UTF-8 is skipped (Node reads it with U+FFFD in place of the bytes it cannot decode). */
export const NOT_UTF8 = 'its bytes are not UTF-8 text, which S3 keys must be';

/**
 * The names in `dir` whose bytes are not UTF-8. Node decodes such a name with U+FFFD in place of what it cannot
 * read, and no file has that decoded name: each call on it fails as if the file were gone, so without this check the
 * file would be neither synced nor reported. Only a folder with a U+FFFD in some name is listed again, as bytes.
 */
async function namesNotUtf8(dir: string, entries: readonly { name: string }[]): Promise<Set<string>> {
  const found = new Set<string>();
  if (!entries.some((e) => e.name.includes('\uFFFD'))) return found;
  let raw: Buffer[];
  try {
    raw = await readdir(dir, { encoding: 'buffer' });
  } catch {
    return found; // Gone or replaced since: the names are looked up one by one as before.
  }
  for (const name of raw) if (!isUtf8(name)) found.add(name.toString('utf8'));
  return found;
}

/**
 * Lists the vault's `.kenv` files with their size, mtime and SHA-256.
 *
 * A file whose size and mtime match the index keeps the index's hash and is not read again: a sync with nothing
 * to do costs one stat per file. New or changed files are read once, through one handle, to hash them and to check
 * that they are Kenv messages (their header parses; or, when `isKenv` is given, it says so), so that only messages
 * are ever uploaded; everything else is reported as skipped. Symbolic links are
 * reported and never followed, names the remote side could not carry back (`vaultNameProblem`) are never
 * uploaded, and a file or folder that cannot be read is reported in `unreadable` while the rest is scanned. The
 * sync state and trash folders at the vault's root are not part of the vault.
 */
export async function scanVault(
  vaultDir: string,
  index: Readonly<Record<string, IndexEntry>>,
  isKenv: ((absolutePath: string) => Promise<boolean>) | undefined,
  prefix = '',
): Promise<ScanResult> {
  const result: ScanResult = { files: new Map(), skipped: [], unreadable: [], occupied: new Set(), barriers: new Set() };
  const { files, skipped, occupied, barriers } = result;
  const leave = (path: string, barrier: boolean, skip?: SkippedFile['reason'], detail?: string) => {
    occupied.add(path);
    if (barrier) barriers.add(path);
    if (skip) skipped.push({ path, reason: skip, ...(detail ? { detail } : {}) });
  };

  /** Holds `rel` (a folder) and all below it: what was found there is dropped, nothing there is planned. */
  const changed = (rel: string, found: string[]) => {
    for (const path of found) files.delete(path);
    if (barriers.has(rel)) return;
    leave(rel, true);
    result.unreadable.push({
      path: `${rel}/`,
      code: 'INPUT_UNREADABLE',
      message: `${rel}/ changed while it was scanned (replaced by a link or another folder); it was skipped and the rest of the vault synced. Sync again.`,
    });
  };

  /** `id`: the folder the parent's lstat found at `dir` (undefined for the vault folder itself). */
  async function visit(dir: string, rel: string, id?: FolderId): Promise<void> {
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
    // readdir follows links: a folder replaced (itself, or one on its way) since its parent was listed is not read.
    if (!sameFolder(dir, id)) return changed(rel, []);
    const notUtf8 = await namesNotUtf8(dir, entries);
    // The files this folder gave, dropped again if it turns out to have changed while they were looked at.
    const found: string[] = [];
    // Each name is sorted out here, in one pass of blocking calls (see SCAN_SLICE_MS): a folder, or a file whose size
    // and time match the index, costs one lstat and no hand-off to the thread pool. What needs reading (new or
    // changed files) and the folders below are then visited at most 32 at once, so that a first sync of a big vault
    // does not open thousands of files at once.
    const later: (() => Promise<void>)[] = [];
    let slice = performance.now();
    // The wall-clock time the slice began: no later than any stat in it, so a file racy at its stat is racy by it
    // (a clock read per slice: reading the clock is not free on every machine).
    let sliceAt = Date.now();
    for (const entry of entries) {
      if (performance.now() - slice > SCAN_SLICE_MS) {
        await new Promise<void>((done) => setImmediate(done));
        slice = performance.now();
        sliceAt = Date.now();
      }
      if (!rel && (entry.name === SYNC_DIR || entry.name === TRASH_DIR)) continue;
      const abs = join(dir, entry.name);
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (notUtf8.has(entry.name)) {
        leave(path, true, 'unsafe-name', NOT_UTF8);
        continue;
      }
      if (entry.isSymbolicLink()) {
        leave(path, true, 'symlink');
        continue;
      }
      if (entry.isDirectory()) {
        const problem = vaultNameProblem(path, prefix);
        if (problem) {
          leave(path, true, 'unsafe-name', problem);
          continue;
        }
        let folder;
        try {
          folder = lstatSync(abs, { throwIfNoEntry: false });
        } catch (e) {
          leave(path, true);
          result.unreadable.push(unreadable(`${path}/`, e));
          continue;
        }
        if (!folder) continue; // Gone since the listing.
        if (!folder.isDirectory()) {
          changed(path, []);
          continue;
        }
        occupied.add(path);
        const sub = { dev: folder.dev, ino: folder.ino };
        later.push(() => visit(abs, path, sub));
        continue;
      }
      if (!entry.isFile()) {
        leave(path, true, 'not-a-file');
        continue;
      }
      if (!entry.name.endsWith('.kenv')) {
        leave(path, true, 'not-kenv');
        continue;
      }
      const problem = vaultNameProblem(path, prefix);
      if (problem) {
        leave(path, true, 'unsafe-name', problem);
        continue;
      }
      let info;
      try {
        info = lstatSync(abs, { throwIfNoEntry: false });
      } catch (e) {
        // Held as unreadable, so that its copy on S3 is neither deleted nor written over.
        leave(path, true);
        result.unreadable.push(unreadable(path, e));
        continue;
      }
      if (!info) continue; // Gone since the listing: the next sync sees the deletion.
      if (!info.isFile()) {
        leave(path, true, info.isSymbolicLink() ? 'symlink' : 'not-a-file');
        continue;
      }
      const known = index[path];
      if (known && known.size === info.size && known.mtimeMs === info.mtimeMs && !isRacy(info.mtimeMs, sliceAt)) {
        files.set(path, { path, size: info.size, mtimeMs: info.mtimeMs, sha256: known.sha256 });
        found.push(path);
        continue;
      }
      later.push(async () => {
        try {
          // A file sync may not open is reported as unreadable, not as an invalid message.
          const readAt = Date.now(); // Before its stat: a time no later than the one the content goes with.
          const read = await readNewFile(abs, isKenv);
          if (read === 'not-a-file' || read === 'invalid-kenv') return leave(path, true, read);
          if (!sameFolder(dir, id)) return changed(rel, found);
          files.set(path, { path, ...read, ...(isRacy(read.mtimeMs, readAt) ? { racy: true as const } : {}) });
          found.push(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          leave(path, true);
          result.unreadable.push(unreadable(path, e));
        }
      });
    }
    // The stats above may have yielded (and gone through a folder swapped in meanwhile).
    if (!sameFolder(dir, id)) return changed(rel, found);
    await forEachLimit(later, 32, (work) => work());
  }

  await visit(vaultDir, '');
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  result.unreadable.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}
