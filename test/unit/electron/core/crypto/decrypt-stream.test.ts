import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DecryptStream } from '../../../../../electron/core/crypto/decrypt-stream.js';
import { FramePool } from '../../../../../electron/core/crypto/frame-pool.js';
import { batchesInFlight, framesPerBatch } from '../../../../../electron/core/crypto/ordered-batches.js';
import { KenvError } from '../../../../../electron/core/errors.js';
import { MAX_FRAMES } from '../../../../../electron/core/format/frames.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import { messageLayout } from '../../../../support/message-layout.js';
import { encryptBuffer, runThrough } from '../../../../support/streams.js';

// The decrypting stream on its own (the tamper matrix goes through decryptFile): which error, with which sentence,
// and when. A check runs as soon as the bytes it needs have arrived, not at the end of the input.
const keyring = new RawAesKeyring({ namespace: 'kenv-decrypt-stream', name: 'k', key: randomBytes(32) });
const FRAME = 64;
const pool = new FramePool(1);
afterAll(() => pool.close());

const plaintext = randomBytes(3 * FRAME + 10);
const unsigned = await encryptBuffer(plaintext, { keyring, frameLength: FRAME, pool });
const signed = await encryptBuffer(plaintext, { keyring, frameLength: FRAME, pool, sign: true });

function region(message: Buffer, name: string, isSigned = false): { start: number; end: number } {
  const found = messageLayout(message, isSigned).find((r) => r.name === name);
  if (!found) throw new Error(`no region ${name}`);
  return found;
}

/** Decrypts `message` in chunks of `chunk` bytes; the error it fails with (a KenvError) and what was released. */
async function decrypt(
  message: Buffer,
  chunk = 64 * 1024,
  opts: { maxEncryptedDataKeys?: number } = {},
  stream = new DecryptStream({ keyring, pool, ...opts }),
): Promise<{ error: KenvError | undefined; out: Buffer }> {
  const out: Buffer[] = [];
  stream.on('data', (b: Buffer) => out.push(b));
  const error = await runThrough(stream, message, chunk).then(
    () => undefined,
    (e: unknown) => {
      if (e instanceof KenvError) return e;
      throw e;
    },
  );
  return { error, out: Buffer.concat(out) };
}

describe('DecryptStream', () => {
  it('decrypts a message fed one byte at a time', async () => {
    expect((await decrypt(unsigned, 1)).out.equals(plaintext)).toBe(true);
    expect((await decrypt(signed, 1)).out.equals(plaintext)).toBe(true);
  });

  it('appended bytes are TRAILING_BYTES, saying how many, and release nothing', async () => {
    for (const message of [unsigned, signed]) {
      const { error, out } = await decrypt(Buffer.concat([message, Buffer.from([1, 2, 3])]));
      expect(error).toMatchObject({
        code: 'TRAILING_BYTES',
        message: '3 unexpected bytes follow the end of the message: the file was altered or two files were joined. Nothing was decrypted; get an intact copy.',
      });
      expect(out).toHaveLength(0);
    }
  });

  it('a frame out of place is FRAME_OUT_OF_ORDER as soon as its sequence number has arrived', async () => {
    // Frames 1, 2, 2: the input ends right after the repeated frame's 4-byte number, which is already enough.
    const f2 = region(unsigned, 'frame 2 sequence number').start;
    const f3 = region(unsigned, 'frame 3 sequence number').start;
    const repeated = Buffer.concat([unsigned.subarray(0, f3), unsigned.subarray(f2, f2 + 4)]);
    const { error, out } = await decrypt(repeated);
    expect(error).toMatchObject({
      code: 'FRAME_OUT_OF_ORDER',
      message: 'Frame 2 appears where frame 3 belongs: frames were reordered, duplicated or removed. Nothing after frame 2 was decrypted; get an intact copy of the file.',
    });
    expect(out).toHaveLength(0);
  });

  it('the final frame’s sequence number and length are checked as soon as its fixed fields have arrived', async () => {
    const marker = region(unsigned, 'final frame marker').start;
    // Marker, sequence number, IV and length: 24 bytes, the ciphertext and tag not yet there.
    const fixedEnd = region(unsigned, 'final frame length').end;
    expect(fixedEnd - marker).toBe(24);
    const wrongNumber = Buffer.from(unsigned.subarray(0, fixedEnd));
    wrongNumber.writeUInt32BE(7, marker + 4);
    expect((await decrypt(wrongNumber)).error).toMatchObject({
      code: 'FRAME_OUT_OF_ORDER',
      message: 'Frame 7 appears where frame 4 belongs: frames were reordered, duplicated or removed. Nothing after frame 3 was decrypted; get an intact copy of the file.',
    });
    const tooLong = Buffer.from(unsigned.subarray(0, fixedEnd));
    tooLong.writeUInt32BE(FRAME + 1, fixedEnd - 4);
    expect((await decrypt(tooLong)).error).toMatchObject({
      code: 'FRAME_TAMPERED',
      message: "The final frame claims 65 bytes, more than the message's frame length of 64: the file was altered. Nothing more was decrypted.",
    });
  });

  it('a final frame as long as the frame length is accepted', async () => {
    const whole = randomBytes(2 * FRAME);
    const message = await encryptBuffer(whole, { keyring, frameLength: FRAME, pool });
    expect(message.readUInt32BE(region(message, 'final frame length').start)).toBe(FRAME);
    expect((await decrypt(message)).out.equals(whole)).toBe(true);
  });

  it('an input that ends early says where: NOT_KENV, TRUNCATED_HEADER, TRUNCATED_BODY, TRUNCATED_FOOTER', async () => {
    expect((await decrypt(Buffer.alloc(0))).error).toMatchObject({ code: 'NOT_KENV', message: 'The input is empty, so it is not a .kenv file.' });
    expect((await decrypt(unsigned.subarray(0, 35))).error).toMatchObject({
      code: 'TRUNCATED_HEADER',
      message: 'The file ends inside the message header after 35 bytes: it was cut short, or a length field in the header was altered. Get a complete copy of the file.',
    });
    const { error, out } = await decrypt(unsigned.subarray(0, region(unsigned, 'frame 3 sequence number').start + 5));
    expect(error).toMatchObject({
      code: 'TRUNCATED_BODY',
      message: 'The file ends after frame 2 without a final frame: it was cut short (an interrupted copy or download). No output was kept; get a complete copy of the file.',
    });
    expect(out).toHaveLength(0);
    const footer = region(signed, 'footer signature', true);
    const cut = await decrypt(signed.subarray(0, footer.start + 3));
    expect(cut.error).toMatchObject({
      code: 'TRUNCATED_FOOTER',
      message: 'The file ends before its signature is complete: it was cut short. The final frame was not released; get a complete copy of the file.',
    });
    expect(cut.out).toHaveLength(0);
  });

  it('a frame that fails its check names itself and why: its IV, or its tag', async () => {
    const iv = Buffer.from(unsigned);
    iv[region(unsigned, 'frame 2 IV').end - 1]! ^= 1;
    expect((await decrypt(iv)).error).toMatchObject({
      code: 'FRAME_TAMPERED',
      message: 'Frame 2 has an IV that does not match its sequence number: the file was altered. Nothing from that frame on was released.',
    });
    const tag = Buffer.from(unsigned);
    tag[region(unsigned, 'frame 2 tag').start]! ^= 1;
    expect((await decrypt(tag)).error).toMatchObject({
      code: 'FRAME_TAMPERED',
      message: 'Frame 2 failed authentication: its bytes were altered. Nothing from that frame on was released; get an intact copy of the file.',
    });
  });

  it('a signature that does not verify is BAD_SIGNATURE, an empty one too, and releases nothing', async () => {
    const bad = Buffer.from(signed);
    bad[bad.length - 1]! ^= 1;
    const expected = {
      code: 'BAD_SIGNATURE',
      message:
        'The message signature does not verify: the file was altered after it was signed. Nothing more was released (never the final frame, which waits for the signature); do not trust this file.',
    };
    const flipped = await decrypt(bad);
    expect(flipped.error).toMatchObject(expected);
    expect(flipped.out).toHaveLength(0);
    // A footer that claims a 0-byte signature is complete as soon as its length has arrived.
    const footer = region(signed, 'footer signature length', true);
    const empty = Buffer.concat([signed.subarray(0, footer.start), Buffer.from([0, 0])]);
    expect((await decrypt(empty)).error).toMatchObject(expected);
  });

  it('decrypts a batch whose last frame is a full final frame (8 bytes longer than a regular one)', async () => {
    // 1 KiB frames make batches of 2,048 frames: 2,047 regular frames and a final frame of 1,024 bytes fill one
    // batch and overflow its room for 2,048 regular frames by the final frame's extra fields.
    const whole = randomBytes(2048 * 1024);
    const message = await encryptBuffer(whole, { keyring, frameLength: 1024, pool });
    expect(message.readUInt32BE(region(message, 'final frame sequence number').start)).toBe(2048);
    expect((await decrypt(message)).out.equals(whole)).toBe(true);
  });

  it('refuses more than 10 data keys before asking the keyring, unless told a higher limit', async () => {
    // The data key count's high bit: 32,769 keys claimed.
    const many = Buffer.from(unsigned);
    many[region(unsigned, 'data key count').start]! ^= 0x80;
    expect((await decrypt(many)).error).toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    // With a limit above the count, the parser reads on and runs out of header instead.
    expect((await decrypt(many, undefined, { maxEncryptedDataKeys: 40_000 })).error).toMatchObject({ code: 'TRUNCATED_HEADER' });
  });

  it('bytes appended, or a bad signature, right after the last batches in flight: not one of them is released', async () => {
    // As many full batches as may be in flight, then the final frame, all in one chunk: the final frame waits for the
    // end-of-input checks, so the batches before it are still in flight when the check fails, and none is released.
    const frameLength = 1024;
    const whole = randomBytes(batchesInFlight(pool.size) * framesPerBatch(frameLength) * frameLength + 10);
    for (const sign of [false, true]) {
      const message = await encryptBuffer(whole, { keyring, frameLength, pool, sign });
      const joined = Buffer.concat([message, Buffer.from([1])]);
      const trailing = await decrypt(joined, joined.length);
      expect(trailing.error).toMatchObject({ code: 'TRAILING_BYTES' });
      expect(trailing.out).toHaveLength(0);
      if (!sign) continue;
      const bad = Buffer.from(message);
      bad[bad.length - 1]! ^= 1;
      const flipped = await decrypt(bad, bad.length);
      expect(flipped.error).toMatchObject({ code: 'BAD_SIGNATURE' });
      expect(flipped.out).toHaveLength(0);
    }
  });

  it('a frame that does not follow the format’s last frame number is FRAME_TAMPERED: more frames than the format allows', async () => {
    // 4,294,967,294 frames cannot be fed to a test: the stream's frame counter is set as if they had been. At the last
    // number the format allows, a frame out of place is still out of order; past it, the message has too many frames.
    const at = (expected: number): DecryptStream => Object.assign(new DecryptStream({ keyring, pool }), { expectedSequence: expected });
    expect((await decrypt(unsigned, undefined, {}, at(MAX_FRAMES))).error).toMatchObject({
      code: 'FRAME_OUT_OF_ORDER',
      message: `Frame 1 appears where frame ${MAX_FRAMES} belongs: frames were reordered, duplicated or removed. Nothing after frame ${MAX_FRAMES - 1} was decrypted; get an intact copy of the file.`,
    });
    const past = await decrypt(unsigned, undefined, {}, at(MAX_FRAMES + 1));
    expect(past.error).toMatchObject({ code: 'FRAME_TAMPERED', message: 'The message has more frames than the format allows: the file was altered.' });
    expect(past.out).toHaveLength(0);
  });
});
