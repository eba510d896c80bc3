import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type FrameSpan,
  FINAL_FRAME_OVERHEAD,
  REGULAR_FRAME_OVERHEAD,
  frameAad,
  frameIv,
  framesInBatch,
  openBatch,
  sealBatch,
  sealedBatchLength,
} from '../../../../../electron/core/format/frames.js';

// openBatch on its own (the workers run it): each frame's IV and tag checked, in order, against its own sequence
// number, final flag and length; the first frame that fails stops the batch.

const key = randomBytes(32);
const messageId = randomBytes(32);
const frameLength = 8;

/** Two regular frames and a short final one, sealed as frames 5, 6, 7, with their spans. */
function batch(): { frames: Buffer; spans: FrameSpan[]; plaintext: Buffer } {
  const plaintext = randomBytes(2 * frameLength + 3);
  const frames = sealBatch({ key, messageId, frameLength, firstSequence: 5, plaintext, final: true });
  const spans: FrameSpan[] = [
    { sequence: 5, final: false, start: 0, length: frameLength },
    { sequence: 6, final: false, start: REGULAR_FRAME_OVERHEAD + frameLength, length: frameLength },
    { sequence: 7, final: true, start: 2 * (REGULAR_FRAME_OVERHEAD + frameLength), length: 3 },
  ];
  expect(frames.length).toBe(2 * (REGULAR_FRAME_OVERHEAD + frameLength) + FINAL_FRAME_OVERHEAD + 3);
  return { frames, spans, plaintext };
}

describe('openBatch', () => {
  it('opens regular and final frames back to back into the plaintext', () => {
    const { frames, spans, plaintext } = batch();
    expect(openBatch({ key, messageId, frames, spans })).toEqual({ ok: true, plaintext });
  });

  it('opens a batch that sits inside a larger buffer (a view with an offset)', () => {
    const { frames, spans, plaintext } = batch();
    const host = Buffer.concat([Buffer.alloc(13, 9), frames, Buffer.alloc(5, 9)]);
    const view = new Uint8Array(host.buffer, host.byteOffset + 13, frames.length);
    expect(openBatch({ key, messageId, frames: view, spans })).toEqual({ ok: true, plaintext });
  });

  it('an IV that does not match the sequence number fails as iv, naming that frame', () => {
    const { frames, spans } = batch();
    frames[spans[1]!.start + 4 + 11]! ^= 1; // last IV byte of frame 6
    expect(openBatch({ key, messageId, frames, spans })).toEqual({ ok: false, sequence: 6, reason: 'iv' });
    const { frames: f2, spans: s2 } = batch();
    f2[s2[2]!.start + 8 + 11]! ^= 1; // last IV byte of the final frame (after its marker and sequence number)
    expect(openBatch({ key, messageId, frames: f2, spans: s2 })).toEqual({ ok: false, sequence: 7, reason: 'iv' });
  });

  it('a changed ciphertext byte or tag byte fails as tag, naming that frame', () => {
    for (const [frame, offset] of [
      [0, 4 + 12], // first ciphertext byte of frame 5
      [1, 4 + 12 + frameLength + 15], // last tag byte of frame 6
      [2, 8 + 12 + 4], // first ciphertext byte of the final frame (after its content length)
      [2, 8 + 12 + 4 + 3 + 15], // last tag byte of the final frame
    ] as const) {
      const { frames, spans } = batch();
      frames[spans[frame]!.start + offset]! ^= 0x80;
      expect(openBatch({ key, messageId, frames, spans })).toEqual({ ok: false, sequence: spans[frame]!.sequence, reason: 'tag' });
    }
  });

  it('each frame is bound to its sequence number, its final flag, its length and the message id', () => {
    const { frames, spans } = batch();
    const wrongSequence = spans.map((s) => ({ ...s }));
    // The same bytes read as frame 6 with an IV that says 6 cannot exist; swap the regular frames' order instead.
    const swapped = Buffer.concat([frames.subarray(spans[1]!.start, spans[2]!.start), frames.subarray(0, spans[1]!.start), frames.subarray(spans[2]!.start)]);
    expect(openBatch({ key, messageId, frames: swapped, spans })).toEqual({ ok: false, sequence: 5, reason: 'iv' });
    wrongSequence[0] = { ...spans[0]!, final: true };
    expect(openBatch({ key, messageId, frames, spans: wrongSequence }).ok).toBe(false);
    expect(openBatch({ key, messageId: randomBytes(32), frames, spans })).toEqual({ ok: false, sequence: 5, reason: 'tag' });
    expect(openBatch({ key: randomBytes(32), messageId, frames, spans })).toEqual({ ok: false, sequence: 5, reason: 'tag' });
  });

  it('a regular frame presented as shorter than it is fails its tag', () => {
    const { frames, spans } = batch();
    const short = [{ ...spans[0]!, length: frameLength - 1 }];
    expect(openBatch({ key, messageId, frames, spans: short })).toEqual({ ok: false, sequence: 5, reason: 'tag' });
  });

  it('an empty final frame opens to nothing', () => {
    const frames = sealBatch({ key, messageId, frameLength, firstSequence: 1, plaintext: Buffer.alloc(0), final: true });
    expect(openBatch({ key, messageId, frames, spans: [{ sequence: 1, final: true, start: 0, length: 0 }] })).toEqual({ ok: true, plaintext: Buffer.alloc(0) });
  });

  it('binds each frame with the ESDK AAD: message id, label, sequence number, 64-bit length; IV = 8 zero bytes, sequence', () => {
    const id = Buffer.alloc(32, 0xaa);
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
    expect(frameAad(id, false, 5, 8)).toEqual(Buffer.concat([id, Buffer.from('AWSKMSEncryptionClient Frame'), u32(5), u32(0), u32(8)]));
    expect(frameAad(id, true, 0x01020304, 2 ** 32 + 3)).toEqual(
      Buffer.concat([id, Buffer.from('AWSKMSEncryptionClient Final Frame'), u32(0x01020304), u32(1), u32(3)]),
    );
    expect(frameIv(0x01020304)).toEqual(Buffer.concat([Buffer.alloc(8), u32(0x01020304)]));
  });
});

describe('a batch that does not end the message', () => {
  it('holds whole frames only, each with the regular overhead, and is sealed to the length sealedBatchLength gives', () => {
    const plaintext = randomBytes(4 * frameLength);
    expect(framesInBatch(plaintext.length, frameLength, false)).toBe(4);
    expect(sealedBatchLength(plaintext.length, frameLength, false)).toBe(4 * (REGULAR_FRAME_OVERHEAD + frameLength));
    const frames = sealBatch({ key, messageId, frameLength, firstSequence: 1, plaintext, final: false });
    expect(frames.length).toBe(sealedBatchLength(plaintext.length, frameLength, false));
    const spans: FrameSpan[] = [0, 1, 2, 3].map((i) => ({ sequence: i + 1, final: false, start: i * (REGULAR_FRAME_OVERHEAD + frameLength), length: frameLength }));
    expect(openBatch({ key, messageId, frames, spans })).toEqual({ ok: true, plaintext });
  });
});
