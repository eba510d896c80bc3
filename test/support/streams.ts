import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EncryptStream, prepareEncryption, type EncryptOptions } from '../../electron/core/crypto/encrypt-stream.js';
import { DecryptStream, type DecryptOptions } from '../../electron/core/crypto/decrypt-stream.js';

/** Runs bytes through a transform and collects the output. `chunkSize` splits the input to exercise buffering. */
export async function runThrough(transform: Transform, input: Buffer, chunkSize = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const parts: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunkSize) parts.push(input.subarray(at, at + chunkSize));
  await pipeline(
    Readable.from(parts),
    transform,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks);
}

/** Encrypts a buffer in memory. */
export async function encryptBuffer(plaintext: Buffer, opts: EncryptOptions, chunkSize?: number): Promise<Buffer> {
  const materials = await prepareEncryption(opts);
  return runThrough(new EncryptStream(materials, opts.pool), plaintext, chunkSize);
}

/** Decrypts a buffer in memory. */
export async function decryptBuffer(message: Buffer, opts: DecryptOptions, chunkSize?: number): Promise<Buffer> {
  return runThrough(new DecryptStream(opts), message, chunkSize);
}
