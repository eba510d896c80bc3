/**
 * File to file encryption and decryption with the frame workers doing their own I/O at fixed offsets.
 *
 * The streaming Transforms (EncryptStream, DecryptStream) pass every byte through the main thread and one
 * pipeline; here each worker reads its batch, seals or opens it and writes it where it belongs, so reading,
 * sealing and writing overlap across workers and nothing is copied between threads. It covers unsigned messages
 * in regular files, signed and unsigned. A signed message's signature covers the header and the body in order: the
 * main thread hashes the body in order (the ciphertext read back from the output as batches land when encrypting,
 * read from the input when decrypting) while the workers seal or open batches in any order.
 */
import { fdatasync, read } from 'node:fs';
import { KenvError } from '../errors.js';
import { FINAL_FRAME_OVERHEAD, MAX_FRAMES, REGULAR_FRAME_OVERHEAD, framesInBatch, sealedBatchLength } from '../format/frames.js';
import { FINAL_FRAME_MARKER, IV_LENGTH } from '../format/suites.js';
import type { ParsedHeader } from '../format/header.js';
import type { EncryptionMaterials } from './encrypt-stream.js';
import { MAX_WRITE_FRAME_LENGTH } from './frame-length.js';
import { type OpenAtBatch, type OpenAtResult, type SealAtBatch, FileSideError, closeGate, openAt, sealAt, writeGate } from './file-frames.js';
import type { FramePool } from './frame-pool.js';
import { batchesInFlight, framesPerBatch } from './ordered-batches.js';

export interface FileCodecOptions {
  pool: FramePool;
  /** Called after each batch with the input bytes done so far (batches finish out of order; the sum only grows). */
  onBatch?: (inputBytesDone: number) => void;
  signal?: AbortSignal;
  /**
   * A signed message's running hash (createSign / createVerify): it is given the body's bytes (the frames, not the
   * header or the footer) in message order. Encrypting reads them back from `outFd`, which must then be readable.
   */
  bodyHash?: BodyHash;
}

/** What the body of a signed message is fed to, in order. */
export interface BodyHash {
  update(data: Buffer): unknown;
}

/**
 * Flushes the output to disk while it is still being written, so that the fsync before the rename finds little
 * left to do: every FLUSH_EVERY bytes, an fdatasync runs on the libuv pool (never two at once) while the workers
 * keep writing. It also keeps the page cache from filling with gigabytes of dirty pages on a large file.
 */
class BackgroundFlush {
  private sinceFlush = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly fd: number) {}

  written(bytes: number): void {
    this.sinceFlush += bytes;
    if (this.running || this.sinceFlush < FLUSH_EVERY) return;
    this.sinceFlush = 0;
    this.running = new Promise<void>((resolve) => {
      fdatasync(this.fd, (err) => {
        if (err) this.failure ??= new FileSideError('output', err.code ?? '', err.message);
        this.running = undefined;
        resolve();
      });
    });
  }

  /** Waits for the flush in progress; throws what any flush failed with. */
  async finish(): Promise<void> {
    await this.running;
    if (this.failure !== undefined) throw this.failure;
  }
}

/** 64 MiB: on the bench machine, 1 GiB file to file went 15-20 % faster than with a single fsync at the end. */
export const FLUSH_EVERY = 64 * 1024 * 1024;

/**
 * Inputs up to this size are sealed or opened on the calling thread: a small file then costs no worker start (the
 * first job of a process starts a thread, ~15-30 ms, several times the whole work), and reading, sealing and writing
 * 256 KiB blocks the event loop for well under a millisecond.
 */
export const INLINE_MAX_BYTES = 256 * 1024;

/** The pool's file jobs, or the same functions run here for a small input. */
function frameJobs(pool: FramePool, inline: boolean): { sealAt: (b: SealAtBatch) => Promise<number>; openAt: (b: OpenAtBatch) => Promise<OpenAtResult> } {
  if (!inline) return { sealAt: (b) => pool.sealAt(b), openAt: (b) => pool.openAt(b) };
  return { sealAt: async (b) => sealAt(b), openAt: async (b) => openAt(b) };
}

/** Where a job failed to verify: the streaming decryptor then names the exact fault in message order. */
export class FrameCheckFailed extends Error {
  override name = 'FrameCheckFailed';
  constructor(readonly sequence: number) {
    super(`frame ${sequence} did not verify`);
  }
}

/**
 * Encrypts `size` plaintext bytes of `inFd` into `outFd`, whose first bytes must already be the header.
 *
 * Returns the body's length. For a signed suite, pass the signer as `bodyHash`; the footer is the caller's.
 */
export async function encryptFileAt(materials: EncryptionMaterials, inFd: number, size: number, outFd: number, opts: FileCodecOptions): Promise<number> {
  const { header, encryptionKey } = materials;
  const frameLength = header.frameLength;
  const perBatch = framesPerBatch(frameLength);
  const batchBytes = perBatch * frameLength;
  const batches = Math.max(1, Math.ceil(size / batchBytes));
  if (framesInBatch(size, frameLength, true) > MAX_FRAMES) {
    throw new KenvError('INVALID_ARGUMENT', 'The input needs more than 4,294,967,294 frames; use a larger --frame-size.');
  }
  const regularSize = frameLength + REGULAR_FRAME_OVERHEAD;
  let bodyBytes = 0;
  let inputDone = 0;
  const flush = new BackgroundFlush(outFd);
  const jobs = frameJobs(opts.pool, size <= INLINE_MAX_BYTES);
  const hashed = opts.bodyHash ? new HashWrittenInOrder(outFd, header.bytes.length, opts.bodyHash) : undefined;
  await runWithFlush(flush, batches, opts, hashed, async (j) => {
    const final = j === batches - 1;
    const inOffset = j * batchBytes;
    const length = final ? size - inOffset : batchBytes;
    const written = await jobs.sealAt({
      key: encryptionKey,
      messageId: header.messageId,
      frameLength,
      firstSequence: j * perBatch + 1,
      final,
      inFd,
      inOffset,
      length,
      outFd,
      outOffset: header.bytes.length + j * perBatch * regularSize,
    });
    if (written !== sealedBatchLength(length, frameLength, final)) throw new Error('a sealed batch has the wrong length');
    bodyBytes += written;
    inputDone += length;
    flush.written(written);
    hashed?.batchWritten(j, header.bytes.length + j * perBatch * regularSize + written);
    opts.onBatch?.(inputDone);
  });
  if (hashed && hashed.hashedTo !== header.bytes.length + bodyBytes) throw new Error('the body was not hashed to its end');
  return bodyBytes;
}

/** How a message body of a given size must be laid out: `regular` full frames, then a final frame of `finalLength`. */
export interface BodyLayout {
  regular: number;
  finalLength: number;
}

/**
 * The only frame layout an unsigned body of `bodyBytes` can have, or undefined if it fits none (the streaming
 * decryptor then says what is wrong). Frames are fixed-size except the final one, which holds 0 to frameLength bytes.
 */
export function bodyLayout(header: ParsedHeader, bodyBytes: number): BodyLayout | undefined {
  if (header.suite.signed) return undefined;
  return framesLayout(header, bodyBytes);
}

function framesLayout(header: ParsedHeader, framesBytes: number): BodyLayout | undefined {
  const frameLength = header.frameLength;
  if (frameLength > MAX_WRITE_FRAME_LENGTH || framesBytes < FINAL_FRAME_OVERHEAD) return undefined;
  const regularSize = frameLength + REGULAR_FRAME_OVERHEAD;
  const regular = Math.floor((framesBytes - FINAL_FRAME_OVERHEAD) / regularSize);
  const finalLength = framesBytes - FINAL_FRAME_OVERHEAD - regular * regularSize;
  if (finalLength > frameLength || regular + 1 > MAX_FRAMES) return undefined;
  return { regular, finalLength };
}

/** The longest DER ECDSA P-384 signature: SEQUENCE of two INTEGERs of at most 49 bytes each. */
export const MAX_SIGNATURE_LENGTH = 104;

/** Where a signed message's frames end and what its footer holds. */
export interface SignedLayout {
  layout: BodyLayout;
  /** Bytes of frames after the header; the footer follows them. */
  framesBytes: number;
  signature: Buffer;
}

/**
 * The frame layout and the footer of a signed body of `bodyBytes` after the header in `fd`, or undefined when no
 * single reading fits (the streaming decryptor then says what is wrong).
 *
 * The footer (u16 length, then the signature) ends the file, and its length is not known beforehand: each length a
 * P-384 signature can have is tried, and a reading fits only where the u16 says that length and the final frame's
 * own header (marker, sequence number, content length) stands exactly where the frames before it put it.
 */
export async function signedLayout(header: ParsedHeader, fd: number, bodyBytes: number): Promise<SignedLayout | undefined> {
  if (!header.suite.signed || bodyBytes < FINAL_FRAME_OVERHEAD + 2) return undefined;
  const start = header.bytes.length;
  const tail = await readAt(fd, Math.min(bodyBytes, 2 + MAX_SIGNATURE_LENGTH), start + bodyBytes - Math.min(bodyBytes, 2 + MAX_SIGNATURE_LENGTH), 'input');
  const fits: SignedLayout[] = [];
  for (let n = 0; n <= MAX_SIGNATURE_LENGTH && 2 + n <= tail.length; n++) {
    if (tail.readUInt16BE(tail.length - 2 - n) !== n) continue;
    const framesBytes = bodyBytes - 2 - n;
    const layout = framesLayout(header, framesBytes);
    if (!layout) continue;
    const finalAt = start + layout.regular * (header.frameLength + REGULAR_FRAME_OVERHEAD);
    const head = await readAt(fd, 8 + IV_LENGTH + 4, finalAt, 'input');
    if (head.readUInt32BE(0) !== FINAL_FRAME_MARKER || head.readUInt32BE(4) !== layout.regular + 1 || head.readUInt32BE(8 + IV_LENGTH) !== layout.finalLength) continue;
    fits.push({ layout, framesBytes, signature: Buffer.from(tail.subarray(tail.length - n)) });
  }
  return fits.length === 1 ? fits[0] : undefined;
}

/**
 * Decrypts the body of the message in `inFd` laid out as `layout` into `outFd`.
 *
 * Every frame is checked to be the one its position calls for (sequence number, IV, final marker and length) and
 * authenticated before its plaintext is written. Throws FrameCheckFailed on the first batch that does not
 * verify; the caller must then discard the output. From the first failure on (a batch that does not verify, an I/O
 * error, a cancel), no batch writes any more plaintext (see writeGate). Returns the plaintext length.
 */
export async function decryptFileAt(
  header: ParsedHeader,
  key: Buffer,
  layout: BodyLayout,
  inFd: number,
  outFd: number,
  opts: FileCodecOptions,
): Promise<number> {
  const frameLength = header.frameLength;
  const perBatch = framesPerBatch(frameLength);
  const frames = layout.regular + 1;
  const batches = Math.ceil(frames / perBatch);
  const regularSize = frameLength + REGULAR_FRAME_OVERHEAD;
  let plaintextBytes = 0;
  let inputDone = header.bytes.length;
  const flush = new BackgroundFlush(outFd);
  const jobs = frameJobs(opts.pool, layout.regular * frameLength + layout.finalLength <= INLINE_MAX_BYTES);
  const gate = writeGate();
  const stop = (): void => closeGate(gate);
  opts.signal?.addEventListener('abort', stop);
  // The body is hashed from the input while the workers open it: neither waits for the other.
  const framesEnd = header.bytes.length + layout.regular * regularSize + FINAL_FRAME_OVERHEAD + layout.finalLength;
  const hashing = { stopped: false };
  const hashed = opts.bodyHash ? hashRange(inFd, header.bytes.length, framesEnd, opts.bodyHash, 'input', hashing) : undefined;
  hashed?.catch(() => undefined);
  try {
    await runWithFlush(flush, batches, opts, undefined, async (j) => {
      try {
        await openBatchAt(j);
      } catch (e) {
        stop();
        throw e;
      }
    });
  } catch (e) {
    // No read may outlive this call: the caller closes the input next.
    hashing.stopped = true;
    await hashed?.catch(() => undefined);
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
  await hashed;
  return plaintextBytes;

  async function openBatchAt(j: number): Promise<void> {
    const final = j === batches - 1;
    const first = j * perBatch;
    const count = final ? frames - first : perBatch;
    const byteLength = final ? (count - 1) * regularSize + FINAL_FRAME_OVERHEAD + layout.finalLength : count * regularSize;
    const result = await jobs.openAt({
      gate,
      key,
      messageId: header.messageId,
      frameLength,
      firstSequence: first + 1,
      final,
      frames: count,
      finalLength: layout.finalLength,
      byteLength,
      inFd,
      inOffset: header.bytes.length + first * regularSize,
      outFd,
      outOffset: first * frameLength,
    });
    if (!result.ok) throw new FrameCheckFailed(result.sequence);
    plaintextBytes += result.written;
    inputDone += byteLength;
    flush.written(result.written);
    opts.onBatch?.(inputDone);
  }
}

/**
 * Runs the jobs, then waits for the background flush and the read-back hash (also when a job failed: the caller
 * closes the file next, and no read or flush may outlive it).
 */
async function runWithFlush(flush: BackgroundFlush, count: number, opts: FileCodecOptions, hashed: HashWrittenInOrder | undefined, job: (index: number) => Promise<void>): Promise<void> {
  try {
    await runLanes(count, batchesInFlight(opts.pool.size), opts.signal, job);
  } catch (e) {
    hashed?.stop();
    await hashed?.finish().catch(() => undefined);
    await flush.finish().catch(() => undefined);
    throw e;
  }
  try {
    await hashed?.finish();
  } finally {
    await flush.finish();
  }
}

/** Bytes per read when hashing a body: large enough for few calls, small enough to keep the event loop responsive. */
const HASH_CHUNK = 1024 * 1024;

/**
 * Feeds `[start, end)` of `fd` to `hash` in order, a chunk at a time, until done or `control.stopped`. `buffer`
 * (default: one of HASH_CHUNK bytes) is reused for every read: a 4 GiB body makes no 4 GiB of garbage.
 */
async function hashRange(fd: number, start: number, end: number, hash: BodyHash, side: 'input' | 'output', control: { stopped: boolean }, buffer = Buffer.allocUnsafeSlow(Math.min(HASH_CHUNK, Math.max(1, end - start)))): Promise<void> {
  for (let at = start; at < end && !control.stopped; ) {
    const chunk = await readInto(fd, buffer.subarray(0, Math.min(buffer.length, end - at)), at, side);
    hash.update(chunk);
    at += chunk.length;
  }
}

/**
 * Hashes what the workers wrote, in message order, as soon as each stretch is complete: batch j's bytes are read
 * back once batch j and every batch before it are written. Reads run one at a time on the libuv pool.
 */
class HashWrittenInOrder {
  /** Offset up to which the output is hashed. */
  hashedTo: number;
  private readonly ends = new Map<number, number>();
  private next = 0;
  private busy = false;
  private pumping: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly control = { stopped: false };
  private readonly buffer = Buffer.allocUnsafeSlow(HASH_CHUNK);

  constructor(
    private readonly fd: number,
    start: number,
    private readonly hash: BodyHash,
  ) {
    this.hashedTo = start;
  }

  /** Batch `index` is written and ends at output offset `end`. */
  batchWritten(index: number, end: number): void {
    this.ends.set(index, end);
    if (this.busy) return;
    this.busy = true;
    this.pumping = this.pump();
  }

  stop(): void {
    this.control.stopped = true;
  }

  /** Waits for the reads in progress; throws what any read failed with. */
  async finish(): Promise<void> {
    await this.pumping;
    if (this.failure !== undefined) throw this.failure;
  }

  private async pump(): Promise<void> {
    try {
      for (let end = this.ends.get(this.next); end !== undefined && !this.control.stopped; end = this.ends.get(this.next)) {
        this.ends.delete(this.next++);
        await hashRange(this.fd, this.hashedTo, end, this.hash, 'output', this.control, this.buffer);
        this.hashedTo = end;
      }
    } catch (e) {
      this.failure ??= e;
      this.control.stopped = true;
    } finally {
      this.busy = false;
    }
  }
}

/** `length` bytes of `fd` at `position` (fewer only at the end of the file), into `buffer`. */
function readInto(fd: number, buffer: Buffer, position: number, side: 'input' | 'output'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let filled = 0;
    const next = (): void => {
      read(fd, buffer, filled, buffer.length - filled, position + filled, (err, n) => {
        if (err) return reject(new FileSideError(side, err.code ?? '', err.message));
        if (n === 0) return reject(new FileSideError(side, 'ESHRUNK', `the ${side} file became shorter while it was being read`));
        filled += n;
        if (filled === buffer.length) resolve(buffer);
        else next();
      });
    };
    next();
  });
}

function readAt(fd: number, length: number, position: number, side: 'input' | 'output'): Promise<Buffer> {
  return readInto(fd, Buffer.alloc(length), position, side);
}

/**
 * Runs `count` jobs, at most `lanes` at once, in index order of start. The first failure stops new jobs from
 * starting and is thrown once the running ones have finished (sealing jobs still write ciphertext into a file that
 * is then discarded; opening jobs write no more plaintext, see writeGate).
 */
async function runLanes(count: number, lanes: number, signal: AbortSignal | undefined, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (!failed && next < count) {
      if (signal?.aborted) {
        failed = true;
        failure = abortError();
        return;
      }
      const index = next++;
      try {
        await job(index);
      } catch (e) {
        if (!failed) failure = e;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
  if (failed) throw failure;
}

/** What stream.pipeline rejects with on abort, so callers map both paths the same way. */
function abortError(): Error {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}
