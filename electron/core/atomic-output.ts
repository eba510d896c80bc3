import { constants, createWriteStream, write } from 'node:fs';
import { type FileHandle, link, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { KenvError } from './errors.js';
import { openPartial, sweepFolderOnce, untrackPartial } from './partials.js';

/**
 * An output file that appears under its final name only when complete.
 *
 * Bytes go to a hidden temporary file in the destination folder; `commit` fsyncs it and moves it into place
 * (refusing to replace an existing file unless `force`), `abort` removes it. The destination folder is the
 * temporary file's folder, so the rename never crosses file systems. The temporary name is short whatever the
 * final one (see partials.ts), and the first one made in a folder removes the partials dead processes left there.
 */
export class AtomicOutput {
  private committed = false;

  private constructor(
    readonly finalPath: string,
    readonly tempPath: string,
    private readonly force: boolean,
    private handle: FileHandle | undefined,
    /** Where the bytes go. It does not close the file: `commit` and `abort` do. */
    readonly stream: Writable,
  ) {}

  /**
   * The temporary file's descriptor, for writers that put bytes at offsets instead of using `stream`. It is open for
   * reading too: a signed message's body is read back and hashed in order as it lands.
   */
  get fd(): number {
    if (!this.handle) throw new Error('the output is already committed or aborted');
    return this.handle.fd;
  }

  /** Creates the temporary file (mode 0600: it may hold plaintext) after checking that the target is free. */
  static async create(finalPath: string, opts: { force?: boolean } = {}): Promise<AtomicOutput> {
    const force = opts.force ?? false;
    await refuseExisting(finalPath, force);
    const folder = dirname(finalPath);
    await mkdir(folder, { recursive: true }).catch(() => undefined);
    await sweepFolderOnce(folder);
    const { path: tempPath, handle } = await openPartial(folder, constants.O_RDWR).catch((e: unknown) => {
      throw new KenvError('OUTPUT_FAILED', `Cannot write in ${folder}: ${errnoText(e)}. Choose another output folder with --out.`, { cause: e });
    });
    // The stream writes through the handle's descriptor but never closes it (destroy() would, even with autoClose
    // off, and the handle's own close would then hit a closed or reused descriptor): the handle closes it, once.
    const stream = createWriteStream('', {
      fd: handle.fd,
      autoClose: false,
      highWaterMark: 4 * 1024 * 1024,
      fs: { write: writeInSlices, writev: writevInSlices, close: (_fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => callback(null) },
    });
    return new AtomicOutput(finalPath, tempPath, force, handle, stream);
  }

  /** Flushes to disk and moves the file to its final name. Call only after the last byte is authenticated. */
  async commit(): Promise<void> {
    const handle = this.handle!;
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    try {
      await this.moveIntoPlace();
    } catch (e) {
      if (errnoCode(e) === 'ENAMETOOLONG') throw nameTooLong(this.finalPath, e);
      throw e;
    }
    untrackPartial(this.tempPath);
    await syncFolder(dirname(this.finalPath));
    this.committed = true;
  }

  private async moveIntoPlace(): Promise<void> {
    if (this.force) {
      await rename(this.tempPath, this.finalPath);
    } else {
      // link() fails if the name was taken meanwhile, where rename() would silently replace it.
      try {
        await link(this.tempPath, this.finalPath);
        await rm(this.tempPath, { force: true });
      } catch (e) {
        if (errnoCode(e) === 'EEXIST') throw outputExists(this.finalPath);
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS'].includes(errnoCode(e))) throw e;
        // File systems without hard links (FAT, some network shares): check, then rename.
        if (await exists(this.finalPath)) throw outputExists(this.finalPath);
        await rename(this.tempPath, this.finalPath);
      }
    }
  }

  /** Removes the temporary file. Safe to call more than once, and after commit (then it does nothing). */
  async abort(): Promise<void> {
    if (this.committed) return;
    this.stream.destroy();
    if (this.handle) {
      await this.handle.close().catch(() => undefined);
      this.handle = undefined;
    }
    await rm(this.tempPath, { force: true });
    untrackPartial(this.tempPath);
  }
}

/**
 * Most bytes per write call. Linux sizes page-cache folios after the write: a 2 MiB write at a 2 MiB-aligned offset
 * asks for a 2 MiB folio, which on a machine with fragmented memory costs compaction, several times the copy
 * itself (see MAX_WRITE_BYTES in crypto/file-frames.ts for the measurements).
 */
const MAX_WRITE_BYTES = 512 * 1024;

/**
 * The stream retries what a call did not write from the buffer(s) handed back here (Node's writeAll and writevAll
 * slice or concatenate them): without them a short write would throw in the stream's callback.
 */
type WriteCallback<B> = (err: NodeJS.ErrnoException | null, written: number, buffers: B) => void;

/**
 * fs.write for the output stream, in calls of at most MAX_WRITE_BYTES; reports the bytes written before any error.
 * The stream is made without `start`, so it gives no position: every call writes at the file's current position.
 */
function writeInSlices(fd: number, buffer: Buffer, offset: number, length: number, _position: unknown, callback: WriteCallback<Buffer>): void {
  let done = 0;
  const next = (): void => {
    if (done === length) return callback(null, done, buffer);
    write(fd, buffer, offset + done, Math.min(MAX_WRITE_BYTES, length - done), null, (err, written) => {
      if (err) return callback(err, done, buffer);
      done += written;
      // A zero-byte write ends early; the stream retries the rest.
      if (written === 0) return callback(null, done, buffer);
      next();
    });
  };
  next();
}

/** fs.writev for the output stream: the buffers one after the other, each in slices (see writeInSlices). */
function writevInSlices(fd: number, buffers: Buffer[], _position: unknown, callback: WriteCallback<Buffer[]>): void {
  let index = 0;
  let done = 0;
  const next = (): void => {
    const buffer = buffers[index++];
    if (!buffer) return callback(null, done, buffers);
    writeInSlices(fd, buffer, 0, buffer.length, null, (err, written) => {
      done += written;
      if (err || written < buffer.length) return callback(err, done, buffers);
      next();
    });
  };
  next();
}

async function syncFolder(folder: string): Promise<void> {
  // Makes the rename durable on POSIX; Windows cannot open folders this way, and there rename is already durable.
  if (process.platform === 'win32') return;
  const handle = await open(folder, constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

/**
 * Throws OUTPUT_EXISTS when `path` is taken and `force` is off, and NAME_TOO_LONG when the file system says its
 * name is too long: cheap checks before any KMS call. The length limit is the file system's own answer
 * (ENAMETOOLONG), not a guess: it differs between file systems and counts bytes, not characters.
 */
export async function refuseExisting(path: string, force: boolean): Promise<void> {
  try {
    await lstat(path);
  } catch (e) {
    if (errnoCode(e) === 'ENAMETOOLONG') throw nameTooLong(path, e);
    return;
  }
  if (!force) throw outputExists(path);
}

function nameTooLong(path: string, cause: unknown): KenvError {
  const name = basename(path);
  return new KenvError(
    'NAME_TOO_LONG',
    `The output name ${name} is ${Buffer.byteLength(name)} bytes long, more than the file system of ${dirname(path)} allows for one name; nothing was written. Give the input a shorter name: the output's is made from it (encrypting adds .kenv).`,
    { cause },
  );
}

function outputExists(path: string): KenvError {
  return new KenvError('OUTPUT_EXISTS', `${path} exists already; nothing was overwritten. Use --force to replace it, or --out to write elsewhere.`);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function errnoCode(e: unknown): string {
  return e && typeof e === 'object' && 'code' in e ? String(e.code) : '';
}

/**
 * What an I/O error means, in words. `side` is what the caller was doing: ENOENT is "the folder does not exist" when
 * writing (the output's folder is what is missing) but "it does not exist" when reading (the input itself is gone).
 */
export function errnoText(e: unknown, side: 'read' | 'write' = 'write'): string {
  const code = errnoCode(e);
  const text: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'the disk is full',
    EROFS: 'the file system is read-only',
    ENOENT: side === 'read' ? 'it does not exist' : 'the folder does not exist',
    EISDIR: 'it is a folder',
  };
  return text[code] ?? (e instanceof Error ? e.message : String(e));
}
