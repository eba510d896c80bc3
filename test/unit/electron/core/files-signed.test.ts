import { CommitmentPolicy, buildClient } from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FramePool } from '../../../../electron/core/crypto/frame-pool.js';
import type { OpenAtBatch, OpenAtResult, SealAtBatch } from '../../../../electron/core/crypto/file-frames.js';
import { decryptFile, encryptFile } from '../../../../electron/core/files.js';
import { REGULAR_FRAME_OVERHEAD } from '../../../../electron/core/format/frames.js';
import { parseHeader } from '../../../../electron/core/format/header.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import { BATCH, boundarySizes, esdkRawAesKeyring, expectFileVerdictOf, FRAME, flip, swap, useScratch } from '../../../support/file-round-trip.js';
import { decryptBuffer, encryptBuffer } from '../../../support/streams.js';

// Signed messages (suite 0x0578) through the file path: the workers seal and open batches at their offsets in any
// order while the main thread hashes the body in order. Held to the stream's output and to the stream's verdict on
// every damaged file, and nothing of a file whose signature fails may reach the output's name.

const key = randomBytes(32);
const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'signed', key });

/** A pool that counts the file jobs it ran: a signed file must go through them, not through the streams. */
class CountingPool extends FramePool {
  sealed = 0;
  opened = 0;
  override sealAt(batch: SealAtBatch): Promise<number> {
    this.sealed++;
    return super.sealAt(batch);
  }
  override openAt(batch: OpenAtBatch): Promise<OpenAtResult> {
    this.opened++;
    return super.openAt(batch);
  }
}

const scratch = useScratch('kenv-signed-');
let pool: CountingPool;
beforeAll(() => {
  pool = new CountingPool(2);
});
afterAll(async () => {
  await pool.close();
});

const { plainFile, onlyInputsRemain } = scratch;

async function signedFile(bytes: Buffer, frameLength = FRAME): Promise<string> {
  const { outputPath } = await encryptFile(await plainFile(bytes), { keyring, frameLength, sign: true, pool });
  return outputPath;
}

const decryptToBuffer = (sealedPath: string): Promise<Buffer> => scratch.decryptToBuffer(sealedPath, { keyring, pool });

const sizes = boundarySizes(['5 batches and a half frame', 5 * BATCH + FRAME / 2]);

describe('signed messages through encryptFile and decryptFile', () => {
  for (const [name, size] of sizes) {
    it(`round-trips ${name}; the stream decrypts the file, and the file path what the stream wrote`, async () => {
      const plaintext = randomBytes(size);
      const sealed = await signedFile(plaintext);
      expect(parseHeader(await readFile(sealed)).suite.signed).toBe(true);
      expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
      expect((await decryptBuffer(await readFile(sealed), { keyring, pool })).equals(plaintext)).toBe(true);

      const fromStream = scratch.path('stream', '.kenv');
      await writeFile(fromStream, await encryptBuffer(plaintext, { keyring, frameLength: FRAME, sign: true, pool }));
      expect((await decryptToBuffer(fromStream)).equals(plaintext)).toBe(true);
    });
  }

  it('round-trips 1-byte frames (many footer readings to rule out)', async () => {
    const plaintext = randomBytes(3000);
    const sealed = await signedFile(plaintext, 1);
    expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
  });

  it('seals and opens with the frame workers at file offsets, not through the streams', async () => {
    const before = { sealed: pool.sealed, opened: pool.opened };
    const plaintext = randomBytes(4 * BATCH + 3);
    const sealed = await signedFile(plaintext);
    expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
    expect(pool.sealed - before.sealed).toBe(5);
    expect(pool.opened - before.opened).toBe(5);
  });

  it('writes signed files the official ESDK decrypts, and decrypts the signed files it writes', async () => {
    const { decrypt, encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const theirs = esdkRawAesKeyring(key, 'signed');
    const plaintext = randomBytes(2 * BATCH + 3);
    const { plaintext: back } = await decrypt(theirs, await readFile(await signedFile(plaintext)));
    expect(Buffer.from(back).equals(plaintext)).toBe(true);

    for (const frameLength of [4096, FRAME]) {
      const { result } = await encrypt(theirs, plaintext, { frameLength });
      const sealed = scratch.path('esdk', '.kenv');
      await writeFile(sealed, result);
      expect(parseHeader(result).suite.signed).toBe(true);
      expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
    }
  });

  it('cancels: no output, error CANCELLED', async () => {
    const controller = new AbortController();
    controller.abort();
    const input = await plainFile(randomBytes(2 * BATCH));
    await expect(encryptFile(input, { keyring, sign: true, pool, signal: controller.signal, outputPath: join(scratch.dir, 'opened-cancel.kenv') })).rejects.toMatchObject({ code: 'CANCELLED' });
    const sealed = await signedFile(randomBytes(2 * BATCH));
    await expect(decryptFile(sealed, { keyring, pool, signal: controller.signal, outputPath: join(scratch.dir, 'opened-cancel.bin') })).rejects.toMatchObject({ code: 'CANCELLED' });
    await onlyInputsRemain();
  });
});

describe('decryptFile on a damaged signed file gives the stream\'s verdict and releases nothing', () => {
  const plaintext = randomBytes(3 * BATCH + 100);
  let message: Buffer;
  let other: Buffer;
  let headerLength: number;
  const regular = FRAME + REGULAR_FRAME_OVERHEAD;
  const frameAt = (n: number): number => headerLength + (n - 1) * regular;
  /** The footer: u16 length, then the DER signature. */
  const footerAt = (m: Buffer): number => m.length - 2 - signatureLength(m);

  beforeAll(async () => {
    message = await readFile(await signedFile(plaintext));
    other = await readFile(await signedFile(plaintext));
    headerLength = parseHeader(message).bytes.length;
  });

  const damages: [string, string, () => Buffer][] = [
    ['a flipped bit in the signature', 'BAD_SIGNATURE', () => flip(message, message.length - 10)],
    ['the signature of another message of the same plaintext', 'BAD_SIGNATURE', () => Buffer.concat([message.subarray(0, footerAt(message)), other.subarray(footerAt(other))])],
    ['a flipped bit in a frame of the second batch', 'FRAME_TAMPERED', () => flip(message, frameAt(40) + 100)],
    ['a flipped bit in the final frame', 'FRAME_TAMPERED', () => flip(message, footerAt(message) - 20)],
    ['two frames in different batches swapped', 'FRAME_OUT_OF_ORDER', () => swap(message, frameAt(10), frameAt(50), regular)],
    ['the footer removed', 'TRUNCATED_FOOTER', () => message.subarray(0, footerAt(message))],
    ['cut one byte short', 'TRUNCATED_FOOTER', () => message.subarray(0, message.length - 1)],
    ['one trailing byte', 'TRAILING_BYTES', () => Buffer.concat([message, Buffer.from([0])])],
    ['the signature length lowered by one', 'BAD_SIGNATURE', () => setU16(message, footerAt(message), signatureLength(message) - 1)],
    ['the signing key in the header replaced (the data key no longer unwraps)', 'NO_KEY_OPENED', () => Buffer.concat([replaceSigningKey(message, other), message.subarray(parseHeader(message).bytes.length)])],
  ];

  for (const [name, code, damage] of damages) {
    it(`${name}: ${code}`, async () => {
      await expectFileVerdictOf(scratch, damage(), code, { keyring, pool });
    });
  }
});

function signatureLength(message: Buffer): number {
  // The footer's length field sits right before a signature of 102-104 bytes; find the one that fits.
  for (let n = 0; n <= 104; n++) if (message.readUInt16BE(message.length - 2 - n) === n) return n;
  throw new Error('no footer found');
}

/** The header of `message` with the signing public key of `other` in its place (same length: both compressed points). */
function replaceSigningKey(message: Buffer, other: Buffer): Buffer {
  const mine = parseHeader(message);
  const theirs = parseHeader(other);
  const a = Buffer.from(mine.encryptionContext['aws-crypto-public-key']!);
  const b = Buffer.from(theirs.encryptionContext['aws-crypto-public-key']!);
  const header = Buffer.from(mine.bytes);
  const at = header.indexOf(a);
  b.copy(header, at);
  return header;
}

function setU16(bytes: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt16BE(value, at);
  return out;
}
