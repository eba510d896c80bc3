import { createCipheriv, createDecipheriv } from 'node:crypto';
import { FINAL_FRAME_LABEL, FINAL_FRAME_MARKER, FRAME_LABEL, IV_LENGTH, MESSAGE_ID_LENGTH, TAG_LENGTH } from './suites.js';

/**
 * Frame encryption and decryption, as pure functions over buffers.
 *
 * They run inside the worker threads (electron/core/crypto/frame-worker.ts) and, for tests, anywhere else.
 * A batch is a run of consecutive frames: the unit of work handed to one worker.
 */

/** Bytes of a regular frame around its ciphertext: sequence number, IV, tag. */
export const REGULAR_FRAME_OVERHEAD = 4 + IV_LENGTH + TAG_LENGTH;
/** Bytes of the final frame around its ciphertext: marker, sequence number, IV, content length, tag. */
export const FINAL_FRAME_OVERHEAD = 4 + 4 + IV_LENGTH + 4 + TAG_LENGTH;
/** The most frames one message may have: sequence numbers are u32 and 0xFFFFFFFF marks the final frame. */
export const MAX_FRAMES = 0xfffffffe;

const FRAME_LABEL_BYTES = Buffer.from(FRAME_LABEL);
const FINAL_LABEL_BYTES = Buffer.from(FINAL_FRAME_LABEL);

/** IV = 8 zero bytes || u32(sequence number). */
export function frameIv(sequence: number): Buffer {
  const iv = Buffer.alloc(IV_LENGTH);
  iv.writeUInt32BE(sequence, 8);
  return iv;
}

/** Frame AAD = message id || label || u32(sequence) || u64(plaintext length). */
export function frameAad(messageId: Uint8Array, final: boolean, sequence: number, length: number): Buffer {
  const label = final ? FINAL_LABEL_BYTES : FRAME_LABEL_BYTES;
  const aad = Buffer.allocUnsafe(MESSAGE_ID_LENGTH + label.length + 12);
  aad.set(messageId, 0);
  label.copy(aad, MESSAGE_ID_LENGTH);
  let at = MESSAGE_ID_LENGTH + label.length;
  aad.writeUInt32BE(sequence, at);
  at += 4;
  aad.writeUInt32BE(Math.floor(length / 0x100000000), at);
  aad.writeUInt32BE(length >>> 0, at + 4);
  return aad;
}

export interface SealBatch {
  key: Uint8Array;
  messageId: Uint8Array;
  frameLength: number;
  firstSequence: number;
  /** Plaintext of the batch: whole frames, except that the final frame (when `final`) may be short or empty. */
  plaintext: Uint8Array;
  /** Whether the batch ends with the message's final frame. */
  final: boolean;
}

/** Number of frames a batch holds. */
export function framesInBatch(plaintextLength: number, frameLength: number, final: boolean): number {
  if (!final) return plaintextLength / frameLength;
  return Math.max(1, Math.ceil(plaintextLength / frameLength));
}

/** Serialized size of a sealed batch. */
export function sealedBatchLength(plaintextLength: number, frameLength: number, final: boolean): number {
  const frames = framesInBatch(plaintextLength, frameLength, final);
  return plaintextLength + (final ? (frames - 1) * REGULAR_FRAME_OVERHEAD + FINAL_FRAME_OVERHEAD : frames * REGULAR_FRAME_OVERHEAD);
}

/** Encrypts a batch of frames into their serialized form, in one buffer. */
export function sealBatch(batch: SealBatch): Buffer {
  const { key, messageId, frameLength, plaintext, final } = batch;
  const frames = framesInBatch(plaintext.length, frameLength, final);
  const out = Buffer.allocUnsafe(sealedBatchLength(plaintext.length, frameLength, final));
  let src = 0;
  let dst = 0;
  for (let i = 0; i < frames; i++) {
    const sequence = batch.firstSequence + i;
    const isFinal = final && i === frames - 1;
    const length = isFinal ? plaintext.length - src : frameLength;
    const iv = frameIv(sequence);
    if (isFinal) {
      out.writeUInt32BE(FINAL_FRAME_MARKER, dst);
      dst += 4;
    }
    out.writeUInt32BE(sequence, dst);
    dst += 4;
    iv.copy(out, dst);
    dst += IV_LENGTH;
    if (isFinal) {
      out.writeUInt32BE(length, dst);
      dst += 4;
    }
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(frameAad(messageId, isFinal, sequence, length));
    dst += copyInto(out, dst, cipher.update(plaintext.subarray(src, src + length)));
    dst += copyInto(out, dst, cipher.final());
    cipher.getAuthTag().copy(out, dst);
    dst += TAG_LENGTH;
    src += length;
  }
  return out;
}

function copyInto(out: Buffer, at: number, chunk: Buffer): number {
  out.set(chunk, at);
  return chunk.length;
}

/** One frame's place in a batch of serialized frames, found by the parser on the main thread. */
export interface FrameSpan {
  sequence: number;
  final: boolean;
  /** Offset of the frame's first byte in the batch. */
  start: number;
  /** Plaintext (= ciphertext) length. */
  length: number;
}

export interface OpenBatch {
  key: Uint8Array;
  messageId: Uint8Array;
  /** Serialized frames, back to back. */
  frames: Uint8Array;
  spans: FrameSpan[];
}

export type OpenResult = { ok: true; plaintext: Buffer } | { ok: false; sequence: number; reason: 'iv' | 'tag' };

/** Decrypts and authenticates a batch of frames; the first frame that fails stops the batch. */
export function openBatch(batch: OpenBatch): OpenResult {
  const frames = Buffer.from(batch.frames.buffer, batch.frames.byteOffset, batch.frames.byteLength);
  let total = 0;
  for (const span of batch.spans) total += span.length;
  const out = Buffer.allocUnsafe(total);
  let dst = 0;
  for (const span of batch.spans) {
    let at = span.start + (span.final ? 8 : 4);
    const iv = frames.subarray(at, at + IV_LENGTH);
    at += IV_LENGTH + (span.final ? 4 : 0);
    if (!iv.equals(frameIv(span.sequence))) return { ok: false, sequence: span.sequence, reason: 'iv' };
    const ciphertext = frames.subarray(at, at + span.length);
    const tag = frames.subarray(at + span.length, at + span.length + TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', batch.key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(frameAad(batch.messageId, span.final, span.sequence, span.length));
    decipher.setAuthTag(tag);
    const plain = decipher.update(ciphertext);
    try {
      decipher.final();
    } catch {
      out.fill(0, 0, dst);
      plain.fill(0);
      return { ok: false, sequence: span.sequence, reason: 'tag' };
    }
    out.set(plain, dst);
    plain.fill(0);
    dst += span.length;
  }
  return { ok: true, plaintext: out };
}
