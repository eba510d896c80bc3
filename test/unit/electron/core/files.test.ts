import { CommitmentPolicy, buildClient } from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLUSH_EVERY } from '../../../../electron/core/crypto/file-codec.js';
import { type Progress, decryptFile, encryptFile } from '../../../../electron/core/files.js';
import { FINAL_FRAME_OVERHEAD, REGULAR_FRAME_OVERHEAD } from '../../../../electron/core/format/frames.js';
import { parseHeader } from '../../../../electron/core/format/header.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring, UnwrapRequest } from '../../../../electron/core/keyring/types.js';
import { BATCH, boundarySizes, esdkRawAesKeyring, expectFileVerdictOf, FRAME, flip, swap, useScratch } from '../../../support/file-round-trip.js';
import { useFramePool } from '../../../support/scratch.js';
import { decryptBuffer, encryptBuffer } from '../../../support/streams.js';

// encryptFile and decryptFile on regular files: frames are sealed and opened by the workers at fixed file offsets.
// These tests hold that path to the stream's output and to the stream's verdict on every damaged file.

const key = randomBytes(32);
const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'files', key });
const scratch = useScratch('kenv-files-');
const pool = useFramePool(2);

const { plainFile, onlyInputsRemain } = scratch;

async function encryptToFile(bytes: Buffer, frameLength = FRAME): Promise<string> {
  const { outputPath } = await encryptFile(await plainFile(bytes), { keyring, frameLength, pool });
  return outputPath;
}

const decryptToBuffer = (sealedPath: string, k: Keyring = keyring): Promise<Buffer> => scratch.decryptToBuffer(sealedPath, { keyring: k, pool });

const sizes = boundarySizes(['3 batches and a half frame', 3 * BATCH + FRAME / 2]);

describe('encryptFile and decryptFile at fixed offsets', () => {
  for (const [name, size] of sizes) {
    it(`round-trips ${name}, and the stream decrypts the same file`, async () => {
      const plaintext = randomBytes(size);
      const sealed = await encryptToFile(plaintext);
      expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
      expect((await decryptBuffer(await readFile(sealed), { keyring, pool })).equals(plaintext)).toBe(true);
    });

    it(`decrypts what the stream encrypted: ${name}`, async () => {
      const plaintext = randomBytes(size);
      const message = await encryptBuffer(plaintext, { keyring, frameLength: FRAME, pool });
      const sealed = scratch.path('stream', '.kenv');
      await writeFile(sealed, message);
      expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
    });
  }

  it('round-trips with frames larger than a batch (one frame per job)', async () => {
    const plaintext = randomBytes(3 * 4 * 1024 * 1024 + 7);
    const sealed = await encryptToFile(plaintext, 4 * 1024 * 1024);
    expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
  });

  it('round-trips a file larger than the background flush interval', async () => {
    const plaintext = randomBytes(FLUSH_EVERY + 3 * BATCH + 11);
    const sealed = await encryptToFile(plaintext, 1024 * 1024);
    expect((await decryptToBuffer(sealed)).equals(plaintext)).toBe(true);
  });

  it('writes exactly the header and frames the format calls for', async () => {
    const plaintext = randomBytes(2 * BATCH + 5);
    const sealed = await readFile(await encryptToFile(plaintext));
    const header = parseHeader(sealed.subarray(0, sealed.length));
    expect(sealed.length).toBe(header.bytes.length + 64 * (FRAME + REGULAR_FRAME_OVERHEAD) + FINAL_FRAME_OVERHEAD + 5);
  });

  it('writes files the official ESDK decrypts', async () => {
    const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const theirs = esdkRawAesKeyring(key, 'files');
    const plaintext = randomBytes(2 * BATCH + 3);
    const { plaintext: back } = await decrypt(theirs, await readFile(await encryptToFile(plaintext)));
    expect(Buffer.from(back).equals(plaintext)).toBe(true);
  });

  it('signs and verifies signed messages', async () => {
    const plaintext = randomBytes(BATCH + 9);
    const { outputPath } = await encryptFile(await plainFile(plaintext), { keyring, frameLength: FRAME, sign: true, pool });
    expect((await decryptToBuffer(outputPath)).equals(plaintext)).toBe(true);
  });

  it('reports progress up to the whole input, never going back', async () => {
    const plaintext = randomBytes(4 * BATCH + 1);
    const seen: Progress[] = [];
    const { outputPath } = await encryptFile(await plainFile(plaintext), { keyring, frameLength: FRAME, pool, onProgress: (p) => seen.push(p) });
    const opened: Progress[] = [];
    await decryptFile(outputPath, { keyring, outputPath: scratch.path('out', '.bin'), pool, onProgress: (p) => opened.push(p) });
    for (const [list, total] of [[seen, plaintext.length], [opened, (await readFile(outputPath)).length]] as const) {
      expect(list.at(-1)).toEqual({ bytesDone: total, bytesTotal: total });
      for (let i = 1; i < list.length; i++) expect(list[i]!.bytesDone).toBeGreaterThanOrEqual(list[i - 1]!.bytesDone);
    }
  });

  it('cancels: no output, error CANCELLED', async () => {
    const controller = new AbortController();
    controller.abort();
    const input = await plainFile(randomBytes(2 * BATCH));
    await expect(encryptFile(input, { keyring, frameLength: FRAME, pool, signal: controller.signal, outputPath: join(scratch.dir, 'opened-cancel.kenv') })).rejects.toMatchObject({ code: 'CANCELLED' });
    const sealed = await encryptToFile(randomBytes(2 * BATCH));
    await expect(decryptFile(sealed, { keyring, pool, signal: controller.signal, outputPath: join(scratch.dir, 'opened-cancel.bin') })).rejects.toMatchObject({ code: 'CANCELLED' });
    await onlyInputsRemain();
  });

  it('refuses to overwrite an existing output before asking any keyring', async () => {
    const sealed = await encryptToFile(randomBytes(100));
    const outputPath = scratch.path('exists', '.bin');
    await writeFile(outputPath, 'keep me');
    const counting = new CountingKeyring(keyring);
    await expect(decryptFile(sealed, { keyring: counting, outputPath, pool })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(counting.unwraps).toBe(0);
    expect(await readFile(outputPath, 'utf8')).toBe('keep me');
  });

  it('refuses to overwrite an existing .kenv before asking any keyring for a data key', async () => {
    const input = scratch.path('plain', '.txt');
    await writeFile(input, 'new');
    await writeFile(`${input}.kenv`, 'keep me');
    const counting = new CountingKeyring(keyring);
    await expect(encryptFile(input, { keyring: counting, pool })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(counting.wraps).toBe(0);
    expect(await readFile(`${input}.kenv`, 'utf8')).toBe('keep me');
  });
});

/** Counts unwrap calls: damaged files must not cost a second KMS call. */
class CountingKeyring implements Keyring {
  unwraps = 0;
  wraps = 0;
  constructor(private readonly inner: Keyring) {}
  wrapDataKey(req: Parameters<Keyring['wrapDataKey']>[0]): ReturnType<Keyring['wrapDataKey']> {
    this.wraps++;
    return this.inner.wrapDataKey(req);
  }
  unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    this.unwraps++;
    return this.inner.unwrapDataKey(req);
  }
}

describe('decryptFile on a damaged file gives the stream\'s verdict and keeps nothing', () => {
  const plaintext = randomBytes(3 * BATCH + 100);
  let message: Buffer;
  let headerLength: number;
  const regular = FRAME + REGULAR_FRAME_OVERHEAD;
  /** Offset of frame `n` (1-based) in the message. */
  const frameAt = (n: number): number => headerLength + (n - 1) * regular;
  const lastFrame = Math.ceil(plaintext.length / FRAME);

  beforeAll(async () => {
    message = await readFile(await encryptToFile(plaintext));
    headerLength = parseHeader(message).bytes.length;
  });

  const damages: [string, string, () => Buffer][] = [
    ['a flipped bit in a frame of the second batch', 'FRAME_TAMPERED', () => flip(message, frameAt(40) + 100)],
    ['a flipped bit in the final frame', 'FRAME_TAMPERED', () => flip(message, message.length - 20)],
    ['a flipped bit in a tag', 'FRAME_TAMPERED', () => flip(message, frameAt(2) - 1)],
    ['a flipped bit in an IV', 'FRAME_TAMPERED', () => flip(message, frameAt(5) + 6)],
    ['two frames swapped', 'FRAME_OUT_OF_ORDER', () => swap(message, frameAt(3), frameAt(4), regular)],
    ['two frames in different batches swapped', 'FRAME_OUT_OF_ORDER', () => swap(message, frameAt(10), frameAt(50), regular)],
    ['a frame duplicated over the next', 'FRAME_OUT_OF_ORDER', () => copyWithin(message, frameAt(7), frameAt(6), regular)],
    ['a frame removed', 'FRAME_OUT_OF_ORDER', () => Buffer.concat([message.subarray(0, frameAt(8)), message.subarray(frameAt(9))])],
    ['the final frame removed', 'TRUNCATED_BODY', () => message.subarray(0, frameAt(lastFrame))],
    ['cut after a whole regular frame and a half', 'TRUNCATED_BODY', () => message.subarray(0, frameAt(12) + regular / 2)],
    ['cut one byte short', 'TRUNCATED_BODY', () => message.subarray(0, message.length - 1)],
    ['one trailing byte', 'TRAILING_BYTES', () => Buffer.concat([message, Buffer.from([0])])],
    ['a whole frame of trailing bytes', 'TRAILING_BYTES', () => Buffer.concat([message, message.subarray(frameAt(2), frameAt(3))])],
    ['the final frame length raised', 'TRUNCATED_BODY', () => setU32(message, frameAt(lastFrame) + 8 + 12, 101)],
    ['the final frame length lowered', 'TRAILING_BYTES', () => setU32(message, frameAt(lastFrame) + 8 + 12, 99)],
    ['the final frame marker on a regular frame', 'FRAME_OUT_OF_ORDER', () => setFinalMarker(message, frameAt(lastFrame - 1))],
    ['a flipped bit in the header auth tag', 'HEADER_TAMPERED', () => flip(message, headerLength - 5)],
    ['a flipped bit in the key commitment', 'COMMITMENT_MISMATCH', () => flip(message, headerLength - 20)],
  ];

  for (const [name, code, damage] of damages) {
    it(`${name}: ${code}`, async () => {
      const counting = new CountingKeyring(keyring);
      await expectFileVerdictOf(scratch, damage(), code, { keyring, pool, fileKeyring: counting });
      expect(counting.unwraps).toBeLessThanOrEqual(1);
    });
  }
});

function copyWithin(bytes: Buffer, to: number, from: number, length: number): Buffer {
  const out = Buffer.from(bytes);
  bytes.copy(out, to, from, from + length);
  return out;
}

/** A regular frame turned into a would-be final one: its sequence number field becomes the final-frame marker. */
function setFinalMarker(bytes: Buffer, at: number): Buffer {
  return setU32(bytes, at, 0xffffffff);
}

function setU32(bytes: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt32BE(value, at);
  return out;
}
