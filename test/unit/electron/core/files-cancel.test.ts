// Cancelling encryptFile and decryptFile in the middle of writing (some bytes already in the temporary file): the
// call fails with CANCELLED, and the output folder ends empty: no partial output, no temporary file, no plaintext.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FramePool } from '../../../../electron/core/crypto/frame-pool.js';
import { decryptFile, encryptFile } from '../../../../electron/core/files.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';

const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'cancel', key: randomBytes(32) });
const FRAME = 64 * 1024;
const SIZE = 16 * 32 * FRAME; // 16 batches of work: many progress reports before the end

let pool: FramePool;
let dir: string;
beforeAll(async () => {
  pool = new FramePool(2);
  dir = await mkdtemp(join(tmpdir(), 'kenv-cancel-'));
});
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

/** Total bytes of the files in `folder` (the temporary output while a job runs). */
async function bytesIn(folder: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(folder)) total += (await stat(join(folder, name))).size;
  return total;
}

/**
 * Watches `outFolder` and aborts as soon as it holds written bytes (the job is then in the middle of writing);
 * `state.bytesSeenInFolder` records how many there were.
 */
function abortOnceWriting(controller: AbortController, outFolder: string, state: { bytesSeenInFolder: number }): () => void {
  let stopped = false;
  const poll = async (): Promise<void> => {
    while (!stopped) {
      const n = await bytesIn(outFolder).catch(() => 0);
      if (n > 0) {
        state.bytesSeenInFolder = n;
        controller.abort();
        return;
      }
      await new Promise((r) => setImmediate(r));
    }
  };
  void poll();
  return () => void (stopped = true);
}

describe('cancel in the middle of writing', () => {
  it('encryptFile: CANCELLED after bytes were written, and the output folder is left empty', async () => {
    const input = join(dir, 'plain.bin');
    await writeFile(input, randomBytes(SIZE));
    const outFolder = join(dir, 'enc-out');
    await mkdir(outFolder);
    const controller = new AbortController();
    const state = { bytesSeenInFolder: 0 };
    const stop = abortOnceWriting(controller, outFolder, state);
    await expect(encryptFile(input, { keyring, frameLength: FRAME, pool, signal: controller.signal, outDir: outFolder }))
      .rejects.toMatchObject({ code: 'CANCELLED' });
    stop();
    expect(state.bytesSeenInFolder).toBeGreaterThan(0);
    expect(await readdir(outFolder)).toEqual([]);
  });

  it('decryptFile: CANCELLED after plaintext bytes were written, and no byte of plaintext is left in the output folder', async () => {
    const plaintext = randomBytes(SIZE);
    const input = join(dir, 'secret.bin');
    await writeFile(input, plaintext);
    const { outputPath: sealed } = await encryptFile(input, { keyring, frameLength: FRAME, pool, outDir: join(dir, 'sealed') });
    await rm(input);
    const outFolder = join(dir, 'dec-out');
    await mkdir(outFolder);
    const controller = new AbortController();
    const state = { bytesSeenInFolder: 0 };
    const stop = abortOnceWriting(controller, outFolder, state);
    await expect(decryptFile(sealed, { keyring, pool, signal: controller.signal, outDir: outFolder }))
      .rejects.toMatchObject({ code: 'CANCELLED' });
    stop();
    expect(state.bytesSeenInFolder).toBeGreaterThan(0);
    expect(await readdir(outFolder)).toEqual([]);
  });
});
