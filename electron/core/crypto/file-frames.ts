/**
 * Batches of frames read from and written to files at fixed offsets, inside a frame worker.
 *
 * File to file, every frame's place is known in advance (frames have a fixed size, only the final one is short), so
 * each worker reads its batch, seals or opens it, and writes the result at its own offset: no bytes cross threads
 * and the main thread only hands out batch numbers. The file descriptors are the main thread's: worker threads
 * share the process's descriptor table.
 */
import { readSync, writeSync } from 'node:fs';
import { FINAL_FRAME_OVERHEAD, type FrameSpan, REGULAR_FRAME_OVERHEAD, openBatch, sealBatch } from '../format/frames.js';
import { FINAL_FRAME_MARKER, IV_LENGTH } from '../format/suites.js';

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
}

/**
 * Why a batch of frames could not be opened: an IV or tag that does not verify, or a frame that is not where the
 * file's size says it must be (`layout`: a sequence number, final-frame marker or length that differs).
 */
export type OpenAtResult = { ok: true; written: number } | { ok: false; sequence: number; reason: 'iv' | 'tag' | 'layout' };

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

/** Seals a batch read from the input and writes it at its place in the output. Returns the bytes written. */
export function sealAt(batch: SealAtBatch): number {
  const plaintext = readExactly(batch.inFd, batch.length, batch.inOffset);
  const sealed = sealBatch({ ...batch, plaintext });
  writeAll(batch.outFd, sealed, batch.outOffset);
  return sealed.length;
}

/**
 * Reads a batch of frames, checks that each is the frame its position calls for, opens them all and only then
 * writes the plaintext at its place in the output.
 */
export function openAt(batch: OpenAtBatch): OpenAtResult {
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
  const opened = openBatch({ key: batch.key, messageId: batch.messageId, frames: bytes, spans });
  if (!opened.ok) return opened;
  try {
    writeAll(batch.outFd, opened.plaintext, batch.outOffset);
  } finally {
    opened.plaintext.fill(0);
  }
  return { ok: true, written: opened.plaintext.length };
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

function writeAll(fd: number, bytes: Buffer, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written, bytes.length - written, position + written);
    } catch (e) {
      throw new FileSideError('output', errno(e), e instanceof Error ? e.message : String(e));
    }
  }
}

function errno(e: unknown): string {
  return e && typeof e === 'object' && 'code' in e ? String(e.code) : '';
}
