// No key bytes are left in the process's buffers once encryptFile or decryptFile returns: the message key the frame
// workers were handed is zeros afterwards, and so is every copy of the data key made while decrypting. Seen from
// outside: the batches handed to the frame pool carry the key buffer itself, and the copies of the data key are
// the buffers Buffer.from made from it during the call.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FramePool } from '../../../../electron/core/crypto/frame-pool.js';
import type { OpenAtBatch, OpenAtResult, SealAtBatch } from '../../../../electron/core/crypto/file-frames.js';
import { decryptFile, encryptFile } from '../../../../electron/core/files.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring, UnwrapRequest } from '../../../../electron/core/keyring/types.js';
import { useScratch } from '../../../support/scratch.js';

const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'wiping', key: randomBytes(32) });
const FRAME = 1024;
// Above the 256 KiB that run on the calling thread (file-codec's INLINE_MAX_BYTES): the frames go to the pool.
const POOLED = 300 * 1024;
const scratch = useScratch('kenv-files-wiping-');

/** A pool that keeps the key buffer of every file batch it was handed. */
class KeyKeepingPool extends FramePool {
  keys: Uint8Array[] = [];
  override sealAt(batch: SealAtBatch): Promise<number> {
    this.keys.push(batch.key);
    return super.sealAt(batch);
  }
  override openAt(batch: OpenAtBatch): Promise<OpenAtResult> {
    this.keys.push(batch.key);
    return super.openAt(batch);
  }
}

let pool: KeyKeepingPool;
beforeAll(() => {
  pool = new KeyKeepingPool(1);
});
afterAll(async () => {
  await pool.close();
});

const isZeros = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** A file of `size` random bytes in a fresh folder. */
async function plainFile(size: number): Promise<string> {
  const at = scratch.path('case', '');
  await mkdir(at);
  const input = join(at, 'p');
  await writeFile(input, randomBytes(size));
  return input;
}

describe('the message key handed to the frame workers', () => {
  for (const sign of [false, true]) {
    it(`encryptFile${sign ? ' (signed)' : ''}: is zeros once the file is written`, async () => {
      const input = await plainFile(POOLED);
      pool.keys = [];
      await encryptFile(input, { keyring, frameLength: FRAME, pool, sign });
      expect(pool.keys.length).toBeGreaterThan(0);
      expect(pool.keys.every((k) => k.length === 32 && isZeros(k))).toBe(true);
    });

    it(`decryptFile${sign ? ' (signed)' : ''}: is zeros once the plaintext is in place`, async () => {
      const input = await plainFile(POOLED);
      const { outputPath } = await encryptFile(input, { keyring, frameLength: FRAME, pool, sign, outputPath: `${input}.sealed.kenv` });
      pool.keys = [];
      await decryptFile(outputPath, { keyring, pool, outputPath: `${input}.opened` });
      expect(pool.keys.length).toBeGreaterThan(0);
      expect(pool.keys.every((k) => k.length === 32 && isZeros(k))).toBe(true);
    });
  }
});

describe('the data key a decrypt opened', () => {
  /** Hands on the data key and keeps a copy of its bytes (made without Buffer.from, so the copy is not counted). */
  function keeping(): Keyring & { dataKey: Buffer; returned: Buffer[] } {
    const k = {
      dataKey: Buffer.alloc(32),
      returned: [] as Buffer[],
      wrapDataKey: (r: Parameters<Keyring['wrapDataKey']>[0]) => keyring.wrapDataKey(r),
      unwrapDataKey: async (r: UnwrapRequest) => {
        const key = await keyring.unwrapDataKey(r);
        key.copy(k.dataKey);
        k.returned.push(key);
        return key;
      },
    };
    return k;
  }

  for (const [name, size] of [['a small file (on the calling thread)', 3 * FRAME + 5], ['a file the pool decrypts', POOLED]] as const) {
    it(`${name}: every copy made of it is zeros once decryptFile returns, and the keyring's own buffer too`, async () => {
      const input = await plainFile(size);
      const { outputPath } = await encryptFile(input, { keyring, frameLength: FRAME, pool, outputPath: `${input}.sealed.kenv` });
      const k = keeping();
      const copies: Buffer[] = [];
      const from = Buffer.from.bind(Buffer) as (...args: unknown[]) => Buffer;
      const spy = vi.spyOn(Buffer, 'from').mockImplementation(((...args: unknown[]) => {
        const made = from(...args);
        if (made.length === 32 && made.equals(k.dataKey)) copies.push(made);
        return made;
      }) as typeof Buffer.from);
      try {
        await decryptFile(outputPath, { keyring: k, pool, outputPath: `${input}.opened` });
      } finally {
        spy.mockRestore();
      }
      expect(isZeros(k.dataKey)).toBe(false);
      expect(k.returned).toHaveLength(1);
      expect(isZeros(k.returned[0]!)).toBe(true);
      // At least the decrypt's own copy (it answers a second ask with a copy of the key it holds).
      expect(copies.length).toBeGreaterThan(0);
      expect(copies.filter((c) => !isZeros(c))).toEqual([]);
    });
  }
});
