import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DecryptStream, openMessageKey } from '../../../../../electron/core/crypto/decrypt-stream.js';
import { FrameCheckFailed, bodyLayout, decryptFileAt } from '../../../../../electron/core/crypto/file-codec.js';
import { FramePool } from '../../../../../electron/core/crypto/frame-pool.js';
import { decryptStreamBuffered } from '../../../../../electron/core/files.js';
import { parseHeader } from '../../../../../electron/core/format/header.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import { messageLayout } from '../../../../support/message-layout.js';
import { encryptBuffer } from '../../../../support/streams.js';

// No release after failure: once a check fails, not one more byte of plaintext reaches the sink (stdout, a file),
// however many batches were in flight on the worker pool.
const keyring = new RawAesKeyring({ namespace: 'kenv-release', name: 'k', key: randomBytes(32) });
/** 1 KiB frames: a batch is 2,048 frames (2 MiB), so a few MiB of plaintext keep several batches in flight. */
const FRAME = 1024;
const BATCH = 2048 * FRAME;
const pool = new FramePool(1);
const dirs: string[] = [];
afterAll(async () => {
  await pool.close();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Feeds `before` and waits until its output has reached the sink, then feeds `after`; counts what arrives after. */
async function bytesAfter(stream: DecryptStream, before: Buffer, after: Buffer): Promise<{ early: number; late: number; error: unknown }> {
  let sunk = 0;
  stream.on('data', (chunk: Buffer) => (sunk += chunk.length));
  const failed = new Promise<unknown>((resolve) => stream.on('error', resolve));
  await new Promise<void>((resolve, reject) => stream.write(before, (e) => (e ? reject(e) : resolve())));
  for (let i = 0; i < 3; i++) await tick();
  const early = sunk;
  stream.end(after);
  const error = await failed;
  for (let i = 0; i < 3; i++) await tick();
  return { early, late: sunk - early, error };
}

describe('the stream releases nothing after a failure', () => {
  it('a signed message with a bad signature: not one byte after the signature fails, with batches in flight', async () => {
    const plaintext = randomBytes(6 * BATCH + 100);
    const message = await encryptBuffer(plaintext, { keyring, sign: true, frameLength: FRAME, pool });
    const footer = messageLayout(message, true).find((r) => r.name === 'footer signature length')!;
    const bad = Buffer.from(message);
    bad[bad.length - 1]! ^= 1;
    const { early, late, error } = await bytesAfter(new DecryptStream({ keyring, pool }), bad.subarray(0, footer.start), bad.subarray(footer.start));
    expect(error).toMatchObject({ code: 'BAD_SIGNATURE' });
    // Streaming released some frames before the footer arrived (what streaming releases early); batches were still
    // in flight then, and none of them may follow the failure.
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(6 * BATCH);
    expect(late).toBe(0);
  });

  it('a tampered frame: nothing from that frame on, though later batches verified', async () => {
    const plaintext = randomBytes(6 * BATCH + 100);
    const message = await encryptBuffer(plaintext, { keyring, frameLength: FRAME, pool });
    const regions = messageLayout(message, false);
    const victim = regions.find((r) => r.name === `frame ${2 * 2048 + 1} ciphertext`)!;
    const bad = Buffer.from(message);
    bad[victim.start]! ^= 1;
    const { early, late, error } = await bytesAfter(new DecryptStream({ keyring, pool }), bad.subarray(0, 1), bad.subarray(1));
    expect(error).toMatchObject({ code: 'FRAME_TAMPERED' });
    expect(early + late).toBeLessThanOrEqual(2 * BATCH);
  });
});

describe('the file fast path writes nothing after a failure', () => {
  it('a batch that fails its tag stops the batches queued behind it from writing their verified plaintext', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kenv-release-'));
    dirs.push(dir);
    const plaintext = randomBytes(4 * BATCH);
    const message = await encryptBuffer(plaintext, { keyring, frameLength: FRAME, pool });
    const bad = Buffer.from(message);
    bad[messageLayout(message, false).find((r) => r.name === 'frame 1 ciphertext')!.start]! ^= 1;
    writeFileSync(join(dir, 'in.kenv'), bad);
    const header = parseHeader(bad);
    const key = await openMessageKey(header, keyring, {});
    const layout = bodyLayout(header, bad.length - header.bytes.length)!;
    const inFd = openSync(join(dir, 'in.kenv'), 'r');
    const outFd = openSync(join(dir, 'out'), 'w', 0o600);
    try {
      // One worker, two lanes: batch 2 is queued behind batch 1 on the same worker, verifies, and must not write.
      await expect(decryptFileAt(header, key, layout, inFd, outFd, { pool })).rejects.toBeInstanceOf(FrameCheckFailed);
      expect(fstatSync(outFd).size).toBe(0);
    } finally {
      closeSync(inFd);
      closeSync(outFd);
    }
  });

  it('a frame that fails its tag mid-batch: the file holds only the frames before it, each verified', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kenv-release-'));
    dirs.push(dir);
    const plaintext = randomBytes(BATCH);
    const message = await encryptBuffer(plaintext, { keyring, frameLength: FRAME, pool });
    const bad = Buffer.from(message);
    // Frame 1000 of the batch's 2,048 (+ the empty final one): 999 frames before it verified.
    bad[messageLayout(message, false).find((r) => r.name === 'frame 1000 ciphertext')!.start]! ^= 1;
    writeFileSync(join(dir, 'in.kenv'), bad);
    const header = parseHeader(bad);
    const key = await openMessageKey(header, keyring, {});
    const layout = bodyLayout(header, bad.length - header.bytes.length)!;
    const inFd = openSync(join(dir, 'in.kenv'), 'r');
    const outFd = openSync(join(dir, 'out'), 'w+', 0o600);
    try {
      await expect(decryptFileAt(header, key, layout, inFd, outFd, { pool })).rejects.toMatchObject({ sequence: 1000 });
      const size = fstatSync(outFd).size;
      expect(size).toBeLessThanOrEqual(999 * FRAME);
      const written = Buffer.alloc(size);
      readSync(outFd, written, 0, size, 0);
      expect(written.equals(plaintext.subarray(0, size))).toBe(true);
    } finally {
      closeSync(inFd);
      closeSync(outFd);
    }
  });
});

describe('buffered mode (kenv decrypt - --buffer) releases nothing until the whole message verified', () => {
  async function buffered(message: Buffer): Promise<{ out: Buffer; error: unknown; left: string[] }> {
    const tempDir = mkdtempSync(join(tmpdir(), 'kenv-buffer-'));
    dirs.push(tempDir);
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const error = await decryptStreamBuffered(Readable.from([message.subarray(0, 1000), message.subarray(1000)]), sink, { keyring, pool, tempDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { out: Buffer.concat(chunks), error, left: readdirSync(tempDir) };
  }

  it('a signed message with a bad signature: not one byte', async () => {
    const message = await encryptBuffer(randomBytes(3 * BATCH), { keyring, sign: true, frameLength: FRAME, pool });
    message[message.length - 1]! ^= 1;
    const { out, error, left } = await buffered(message);
    expect(error).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(out.length).toBe(0);
    expect(left).toEqual([]);
  });

  it('an unsigned message cut before its final frame: not one byte', async () => {
    const message = await encryptBuffer(randomBytes(3 * BATCH), { keyring, frameLength: FRAME, pool });
    const finalFrame = messageLayout(message, false).find((r) => r.name === 'final frame marker')!;
    const { out, error, left } = await buffered(message.subarray(0, finalFrame.start));
    expect(error).toMatchObject({ code: 'TRUNCATED_BODY' });
    expect(out.length).toBe(0);
    expect(left).toEqual([]);
  });

  it('an intact message: all of it, and no file left in the temporary folder', async () => {
    const plaintext = randomBytes(2 * BATCH + 7);
    const message = await encryptBuffer(plaintext, { keyring, sign: true, frameLength: FRAME, pool });
    const { out, error, left } = await buffered(message);
    expect(error).toBeUndefined();
    expect(out.equals(plaintext)).toBe(true);
    expect(left).toEqual([]);
  });
});
