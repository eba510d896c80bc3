import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { writeFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { FramePool } from '../../electron/core/crypto/frame-pool.js';
import { decryptFile } from '../../electron/core/files.js';
import type { Keyring } from '../../electron/core/keyring/types.js';
import { decryptBuffer } from './streams.js';
import type { Scratch } from './scratch.js';

export { type Scratch, useScratch } from './scratch.js';

// What the tests of encryptFile and decryptFile (plain and signed) share: a scratch folder (scratch.ts), the frame
// and batch boundaries, the official ESDK's keyring for the same raw key, and the check that the file path gives the
// stream's verdict on a damaged message and leaves nothing behind.

export const FRAME = 64 * 1024;
/** 32 frames of 64 KiB make one 2 MiB batch of work for one worker. */
export const BATCH = 32 * FRAME;

/** The sizes a round trip must get right at every frame and batch boundary, and one larger size of the caller's. */
export function boundarySizes(larger: [string, number]): [string, number][] {
  return [
    ['0 bytes', 0],
    ['1 byte', 1],
    ['frame - 1', FRAME - 1],
    ['frame', FRAME],
    ['frame + 1', FRAME + 1],
    ['batch - 1', BATCH - 1],
    ['batch', BATCH],
    ['batch + 1', BATCH + 1],
    larger,
  ];
}

/** The official ESDK's raw AES keyring for the key Kenv's RawAesKeyring holds under `kenv-test` / `name`. */
export function esdkRawAesKeyring(key: Buffer, name: string): RawAesKeyringNode {
  return new RawAesKeyringNode({
    keyNamespace: 'kenv-test',
    keyName: name,
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/**
 * The stream refuses `damaged` with `code`, and decryptFile refuses the same bytes on disk with the same code and
 * leaves no output and no temporary file in the scratch folder.
 */
export async function expectFileVerdictOf(
  scratch: Scratch,
  damaged: Buffer,
  code: string,
  { keyring, pool, fileKeyring = keyring }: { keyring: Keyring; pool: FramePool; fileKeyring?: Keyring },
): Promise<void> {
  const streamVerdict = await decryptBuffer(damaged, { keyring, pool }).then(
    () => 'decrypted',
    (e: { code?: string }) => e.code,
  );
  expect(streamVerdict).toBe(code);
  const sealed = scratch.path('damaged', '.kenv');
  await writeFile(sealed, damaged);
  await expect(decryptFile(sealed, { keyring: fileKeyring, outputPath: scratch.path('opened', '.bin'), pool })).rejects.toMatchObject({ code });
  await scratch.onlyInputsRemain();
}

/** A copy of `bytes` with the lowest bit of byte `at` flipped. */
export function flip(bytes: Buffer, at: number): Buffer {
  const out = Buffer.from(bytes);
  out[at]! ^= 0x01;
  return out;
}

/** A copy of `bytes` with the `length` bytes at `a` and at `b` swapped. */
export function swap(bytes: Buffer, a: number, b: number, length: number): Buffer {
  const out = Buffer.from(bytes);
  bytes.copy(out, a, b, b + length);
  bytes.copy(out, b, a, a + length);
  return out;
}
