import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FramePool } from '../../../../../electron/core/crypto/frame-pool.js';
import { KenvError } from '../../../../../electron/core/errors.js';
import { parseHeader } from '../../../../../electron/core/format/header.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import { decryptBuffer, encryptBuffer } from '../../../../support/streams.js';

const keyring = new RawAesKeyring({ namespace: 'kenv-roundtrip', name: 'k', key: randomBytes(32) });
const pool = new FramePool(3);
afterAll(() => pool.close());

describe('round trips at frame boundaries', () => {
  const frame = 1000;
  for (const sign of [false, true]) {
    for (const size of [0, 1, frame - 1, frame, frame + 1, 2 * frame, 3 * frame, 3 * frame + 1]) {
      it(`${size} bytes, frame ${frame}, ${sign ? 'signed' : 'unsigned'}`, async () => {
        const plaintext = randomBytes(size);
        const message = await encryptBuffer(plaintext, { keyring, frameLength: frame, sign, pool }, 333);
        expect((await decryptBuffer(message, { keyring, pool }, 211)).equals(plaintext)).toBe(true);
      });
    }
  }

  it('writes the last full frame as the final frame when the size is a multiple of the frame length', async () => {
    const message = await encryptBuffer(randomBytes(3000), { keyring, frameLength: 1000 });
    const header = parseHeader(message);
    const body = message.subarray(header.bytes.length);
    // Two regular frames, then a final frame holding the third 1000 bytes.
    const regular = 4 + 12 + 1000 + 16;
    expect(body.readUInt32BE(2 * regular)).toBe(0xffffffff);
    expect(body.readUInt32BE(2 * regular + 4 + 4 + 12)).toBe(1000);
  });

  it('spans many batches and workers in order (frame length 1 byte)', async () => {
    const plaintext = randomBytes(70_000);
    const message = await encryptBuffer(plaintext, { keyring, frameLength: 1, pool }, 4096);
    expect((await decryptBuffer(message, { keyring, pool }, 5000)).equals(plaintext)).toBe(true);
  });

  it('round-trips any size, frame length, chunking, suite and context (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 6000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.boolean(),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.startsWith('aws-crypto-')), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
        async (size, frameLength, inChunk, outChunk, sign, context) => {
          const plaintext = randomBytes(size);
          const message = await encryptBuffer(plaintext, { keyring, frameLength, sign, context, pool }, inChunk);
          const back = await decryptBuffer(message, { keyring, pool, requiredContext: context }, outChunk);
          expect(back.equals(plaintext)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses frame lengths outside 1 byte to 64 MiB', async () => {
    for (const frameLength of [0, -1, 1.5, 64 * 1024 * 1024 + 1]) {
      await expect(encryptBuffer(Buffer.alloc(1), { keyring, frameLength })).rejects.toBeInstanceOf(KenvError);
    }
  });

  it('refuses encryption context keys reserved by the ESDK', async () => {
    await expect(encryptBuffer(Buffer.alloc(1), { keyring, context: { 'aws-crypto-public-key': 'x' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
