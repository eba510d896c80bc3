import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { FramePool } from '../../electron/core/crypto/frame-pool.js';
import { decryptFile } from '../../electron/core/files.js';
import type { Keyring } from '../../electron/core/keyring/types.js';

/** A temp folder of one test file, with fresh names in it; read it inside a test or hook. */
export interface Scratch {
  readonly dir: string;
  /** A new path in the folder: `${prefix}-N${extension}`. */
  path(prefix: string, extension: string): string;
  /** Writes `bytes` to a new file and returns its path. */
  plainFile(bytes: Buffer): Promise<string>;
  /** decryptFile into a new file of the folder, and that file's bytes. */
  decryptToBuffer(sealedPath: string, opts: { keyring: Keyring; pool: FramePool }): Promise<Buffer>;
  /** Nothing but the inputs is left in the folder: no output, no temporary file. */
  onlyInputsRemain(): Promise<void>;
}

/** A scratch folder made in beforeAll and removed in afterAll. */
export function useScratch(prefix: string): Scratch {
  let folder: string | undefined;
  let counter = 0;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });
  const scratch: Scratch = {
    get dir() {
      if (folder === undefined) throw new Error('the scratch folder is read before beforeAll ran');
      return folder;
    },
    path: (name, extension) => join(scratch.dir, `${name}-${++counter}${extension}`),
    async plainFile(bytes) {
      const path = scratch.path('plain', '.bin');
      await writeFile(path, bytes);
      return path;
    },
    async decryptToBuffer(sealedPath, { keyring, pool }) {
      const outputPath = scratch.path('out', '.bin');
      await decryptFile(sealedPath, { keyring, outputPath, pool });
      return readFile(outputPath);
    },
    async onlyInputsRemain() {
      const names = await readdir(scratch.dir);
      expect(names.filter((n) => n.startsWith('.') || n.startsWith('opened-'))).toEqual([]);
    },
  };
  return scratch;
}

/**
 * A frame pool of `size` workers for one test file, closed (its workers ended) in afterAll. Its workers start with
 * the first batch, so making it while the file loads costs nothing.
 */
export function useFramePool(size: number): FramePool {
  const pool = new FramePool(size);
  afterAll(async () => {
    await pool.close();
  });
  return pool;
}
