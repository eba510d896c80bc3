import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DecryptStream } from '../../../../../electron/core/crypto/decrypt-stream.js';
import { FramePool } from '../../../../../electron/core/crypto/frame-pool.js';
import { KenvError } from '../../../../../electron/core/errors.js';
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
async function decrypt(message: Buffer, chunk = 64 * 1024, opts: { maxEncryptedDataKeys?: number } = {}): Promise<{ error: KenvError | undefined; out: Buffer }> {
  const stream = new DecryptStream({ keyring, pool, ...opts });
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

  it('refuses more than 10 data keys before asking the keyring, unless told a higher limit', async () => {
    // The data key count's high bit: 32,769 keys claimed.
    const many = Buffer.from(unsigned);
    many[region(unsigned, 'data key count').start]! ^= 0x80;
    expect((await decrypt(many)).error).toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    // With a limit above the count, the parser reads on and runs out of header instead.
    expect((await decrypt(many, undefined, { maxEncryptedDataKeys: 40_000 })).error).toMatchObject({ code: 'TRUNCATED_HEADER' });
  });
});
