/**
 * Batches of frames read from and written to files at fixed offsets, inside a frame worker.
 *
 * File to file, every frame's place is known in advance (frames have a fixed size, only the final one is short), so
 * each worker reads its batch, seals or opens it, and writes the result at its own offset: no bytes cross threads
 * and the main thread only hands out batch numbers. The file descriptors are the main thread's: worker threads
 * share the process's descriptor table.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { readSync, writevSync } from 'node:fs';
import { FINAL_FRAME_OVERHEAD, type FrameSpan, REGULAR_FRAME_OVERHEAD, frameAad, frameIv, framesInBatch } from '../format/frames.js';
import { FINAL_FRAME_MARKER, IV_LENGTH, TAG_LENGTH } from '../format/suites.js';

interface FileBatch {
  key: Uint8Array;
  messageId: Uint8Array;
  frameLength: number;
  firstSequence: number;
  /** Whether the batch ends with the message's final frame. */
  final: boolean;
  inFd: number;
  inOffset: number;
  outFd: number;
  outOffset: number;
}

/** Plaintext bytes `[inOffset, inOffset + length)` of the input become frames from `firstSequence` on. */
export interface SealAtBatch extends FileBatch {
  length: number;
}

/** `frames` serialized frames, `byteLength` bytes at `inOffset`, of which the last is final (length `finalLength`) when `final`. */
export interface OpenAtBatch extends FileBatch {
  frames: number;
  byteLength: number;
  finalLength: number;
  /** The write gate shared by every batch of one message (see writeGate). */
  gate: SharedArrayBuffer;
}

/**
 * Why a batch of frames could not be opened: an IV or tag that does not verify, or a frame that is not where the
 * file's size says it must be (`layout`: a sequence number, final-frame marker or length that differs), or another
 * batch of the message failed first (`stopped`: this one verified but wrote nothing).
 */
export type OpenAtResult = { ok: true; written: number } | { ok: false; sequence: number; reason: 'iv' | 'tag' | 'layout' | 'stopped' };

const STOPPED = 0;
const WRITERS = 1;

/**
 * A gate that the batches of one message share across worker threads, so that once any batch fails no plaintext is
 * written after: a writer enters (counts itself, then checks the stop flag) before each batch's write and leaves
 * after it; the batch that fails sets the flag and waits until no writer is inside before it reports. When the main
 * thread learns of the failure, nothing more reaches the file.
 */
export function writeGate(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** Closes the gate from the main thread (an I/O error or a cancel); writes already inside finish. */
export function closeGate(gate: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(gate), STOPPED, 1);
}

/** Closes the gate and waits until no writer is inside it (in a worker, where Atomics.wait may block). */
function stopWriters(gate: Int32Array): void {
  Atomics.store(gate, STOPPED, 1);
  for (let inside = Atomics.load(gate, WRITERS); inside > 0; inside = Atomics.load(gate, WRITERS)) Atomics.wait(gate, WRITERS, inside, 50);
}

/** An I/O error in a worker, with the side it happened on so the main thread can name the right file. */
export class FileSideError extends Error {
  override name = 'FileSideError';
  constructor(
    readonly side: 'input' | 'output',
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Input reads cost no allocation: each worker reuses one buffer (a worker runs one job at a time). */
let scratch = Buffer.alloc(0);

/**
 * Seals a batch read from the input and writes it at its place in the output. Returns the bytes written.
 *
 * Frame headers, ciphertexts and tags go out with writev as the cipher returns them: no batch-sized buffer to
 * copy them into, so a worker makes half the garbage.
 */
export function sealAt(batch: SealAtBatch): number {
  const { key, messageId, frameLength, final } = batch;
  const plaintext = readExactly(batch.inFd, batch.length, batch.inOffset);
  const frames = framesInBatch(plaintext.length, frameLength, final);
  const out = new VectorWriter(batch.outFd, batch.outOffset);
  let src = 0;
  for (let i = 0; i < frames; i++) {
    const sequence = batch.firstSequence + i;
    const isFinal = final && i === frames - 1;
    const length = isFinal ? plaintext.length - src : frameLength;
    const iv = frameIv(sequence);
    const head = Buffer.allocUnsafe(isFinal ? 8 + IV_LENGTH + 4 : 4 + IV_LENGTH);
    let at = 0;
    if (isFinal) at = head.writeUInt32BE(FINAL_FRAME_MARKER, at);
    at = head.writeUInt32BE(sequence, at);
    at += iv.copy(head, at);
    if (isFinal) head.writeUInt32BE(length, at);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(frameAad(messageId, isFinal, sequence, length));
    out.add(head);
    out.add(cipher.update(plaintext.subarray(src, src + length)));
    out.add(cipher.final());
    out.add(cipher.getAuthTag());
    src += length;
  }
  out.flush();
  return out.written;
}

/**
 * Reads a batch of frames, checks that each is the frame its position calls for, and writes each frame's plaintext
 * at its place in the output once that frame is authenticated (and while no other batch of the message failed).
 */
export function openAt(batch: OpenAtBatch): OpenAtResult {
  const gate = new Int32Array(batch.gate);
  const result = openAtGated(batch, gate);
  if (!result.ok && result.reason !== 'stopped') stopWriters(gate);
  return result;
}

function openAtGated(batch: OpenAtBatch, gate: Int32Array): OpenAtResult {
  const bytes = readExactly(batch.inFd, batch.byteLength, batch.inOffset);
  const spans: FrameSpan[] = [];
  let at = 0;
  for (let i = 0; i < batch.frames; i++) {
    const sequence = batch.firstSequence + i;
    const final = batch.final && i === batch.frames - 1;
    if (final) {
      if (bytes.readUInt32BE(at) !== FINAL_FRAME_MARKER || bytes.readUInt32BE(at + 4) !== sequence) return { ok: false, sequence, reason: 'layout' };
      const length = bytes.readUInt32BE(at + 8 + IV_LENGTH);
      if (length !== batch.finalLength) return { ok: false, sequence, reason: 'layout' };
      spans.push({ sequence, final, start: at, length });
      at += FINAL_FRAME_OVERHEAD + length;
    } else {
      if (bytes.readUInt32BE(at) !== sequence) return { ok: false, sequence, reason: 'layout' };
      spans.push({ sequence, final, start: at, length: batch.frameLength });
      at += REGULAR_FRAME_OVERHEAD + batch.frameLength;
    }
  }
  if (at !== bytes.length) return { ok: false, sequence: batch.firstSequence, reason: 'layout' };
  // Each frame's plaintext is written as soon as its tag verified, while it is still in the CPU cache, as sealAt
  // writes each frame as it is sealed: writing a whole batch after opening all of it copied memory that had left the
  // cache (in a profile, the page-cache copy of decrypt's writes took ~3x the samples of encrypt's). A frame whose
  // tag fails stops the batch before any of its own bytes are written; the frames before it verified, and the caller
  // discards the output anyway.
  const out = new VectorWriter(batch.outFd, batch.outOffset);
  let unwiped: Buffer[] = [];
  try {
    for (const [i, span] of spans.entries()) {
      const opened = openFrame(batch.key, batch.messageId, bytes, span);
      if (!opened.ok) return opened;
      unwiped.push(opened.plaintext);
      Atomics.add(gate, WRITERS, 1);
      try {
        if (Atomics.load(gate, STOPPED) !== 0) return { ok: false, sequence: batch.firstSequence, reason: 'stopped' };
        out.add(opened.plaintext);
        if (i === spans.length - 1) out.flush();
      } finally {
        Atomics.sub(gate, WRITERS, 1);
        Atomics.notify(gate, WRITERS);
      }
      // Plaintext is wiped once it is in the file (still warm), not at the end of the batch.
      if (out.idle) unwiped = wipe(unwiped);
    }
    return { ok: true, written: out.written };
  } finally {
    wipe(unwiped);
  }
}

function wipe(buffers: Buffer[]): Buffer[] {
  for (const b of buffers) b.fill(0);
  return [];
}

/** Checks a frame's IV against its sequence number and authenticates it; the plaintext is returned only if both hold. */
function openFrame(key: Uint8Array, messageId: Uint8Array, bytes: Buffer, span: FrameSpan): { ok: true; plaintext: Buffer } | { ok: false; sequence: number; reason: 'iv' | 'tag' } {
  let at = span.start + (span.final ? 8 : 4);
  const iv = bytes.subarray(at, at + IV_LENGTH);
  at += IV_LENGTH + (span.final ? 4 : 0);
  if (!iv.equals(frameIv(span.sequence))) return { ok: false, sequence: span.sequence, reason: 'iv' };
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(frameAad(messageId, span.final, span.sequence, span.length));
  decipher.setAuthTag(bytes.subarray(at + span.length, at + span.length + TAG_LENGTH));
  const plaintext = decipher.update(bytes.subarray(at, at + span.length));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return { ok: false, sequence: span.sequence, reason: 'tag' };
  }
  return { ok: true, plaintext };
}

/** Most buffers one writev takes (IOV_MAX is 1024 on Linux and macOS). */
const MAX_VECTORS = 1024;

/**
 * Most bytes per write call. Linux sizes page-cache folios after the write: a 2 MiB write at a 2 MiB-aligned
 * offset (every plaintext batch) asks for a 2 MiB folio, and on a machine whose memory is fragmented that
 * allocation compacts memory first, 5-10x slower than the copy itself (measured on ext4, kernel 6.18).
 * Writes of 512 KiB or less stayed fast.
 */
const MAX_WRITE_BYTES = 512 * 1024;

/** Writes buffers back to back from a file position, a writev of at most MAX_WRITE_BYTES at a time. */
class VectorWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  written = 0;

  constructor(
    private readonly fd: number,
    private readonly position: number,
  ) {}

  /** Whether every byte added so far is written (none is waiting for the next writev). */
  get idle(): boolean {
    return this.pending.length === 0;
  }

  add(buffer: Buffer): void {
    let rest = buffer;
    while (rest.length > 0) {
      const take = Math.min(rest.length, MAX_WRITE_BYTES - this.pendingBytes);
      this.pending.push(rest.subarray(0, take));
      this.pendingBytes += take;
      rest = rest.subarray(take);
      if (this.pendingBytes === MAX_WRITE_BYTES || this.pending.length === MAX_VECTORS) this.flush();
    }
  }

  flush(): void {
    let pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    while (pending.length > 0) {
      let n: number;
      try {
        n = writevSync(this.fd, pending, this.position + this.written);
      } catch (e) {
        throw new FileSideError('output', errno(e), e instanceof Error ? e.message : String(e));
      }
      this.written += n;
      // A short write: drop what went out, keep the rest.
      let i = 0;
      while (i < pending.length && n >= pending[i]!.length) n -= pending[i++]!.length;
      pending = pending.slice(i);
      if (n > 0) pending[0] = pending[0]!.subarray(n);
    }
  }
}

function readExactly(fd: number, length: number, position: number): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafeSlow(length);
  const target = scratch.subarray(0, length);
  let filled = 0;
  while (filled < length) {
    let n: number;
    try {
      n = readSync(fd, target, filled, length - filled, position + filled);
    } catch (e) {
      throw new FileSideError('input', errno(e), e instanceof Error ? e.message : String(e));
    }
    if (n === 0) throw new FileSideError('input', 'ESHRUNK', 'the input file became shorter while it was being read');
    filled += n;
  }
  return target;
}

function errno(e: unknown): string {
  return e && typeof e === 'object' && 'code' in e ? String(e.code) : '';
}
