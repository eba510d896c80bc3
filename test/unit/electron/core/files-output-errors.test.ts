// A disk that fills while encryptFile or decryptFile writes: OUTPUT_FAILED naming the output and the reason, and
// nothing kept. The full disk is Node's fs write calls failing with ENOSPC (a real full file system cannot be made
// without mounting one).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decryptFile, encryptFile } from '../../../../electron/core/files.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import { useFramePool, useScratch } from '../../../support/scratch.js';

const full = vi.hoisted(() => ({ writeSync: false, writevSync: false, write: false }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const mocked = {
    ...real,
    writeSync: ((...args: Parameters<typeof real.writeSync>) => {
      if (full.writeSync) throw enospc();
      return real.writeSync(...args);
    }) as typeof real.writeSync,
    writevSync: ((...args: Parameters<typeof real.writevSync>) => {
      if (full.writevSync) throw enospc();
      return real.writevSync(...args);
    }) as typeof real.writevSync,
    write: ((...args: unknown[]) => {
      const callback = args.at(-1) as (e: Error | null) => void;
      if (full.write) return process.nextTick(() => callback(enospc()));
      return (real.write as (...a: unknown[]) => void)(...args);
    }) as typeof real.write,
  };
  return { ...mocked, default: mocked };
});

const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'full', key: randomBytes(32) });
const FRAME = 1024;
const scratch = useScratch('kenv-files-full-');
const pool = useFramePool(1);
afterEach(() => {
  full.writeSync = full.writevSync = full.write = false;
});

async function folderWith(name: string, bytes: Buffer): Promise<string> {
  const at = scratch.path('case', '');
  await mkdir(at);
  await writeFile(join(at, name), bytes);
  return at;
}

const fullSentence = (path: string): string => `Cannot write ${path}: the disk is full. No output was kept.`;

describe('a full disk', () => {
  it('encrypt, writing the header: OUTPUT_FAILED, and no output', async () => {
    const at = await folderWith('p', randomBytes(2 * FRAME));
    full.writeSync = true;
    await expect(encryptFile(join(at, 'p'), { keyring, frameLength: FRAME, pool })).rejects.toMatchObject({
      code: 'OUTPUT_FAILED',
      message: fullSentence(join(at, 'p.kenv')),
      cause: expect.objectContaining({ code: 'ENOSPC' }),
    });
    expect(await readdir(at)).toEqual(['p']);
  });

  it('encrypt, writing the frames: OUTPUT_FAILED, and no output', async () => {
    const at = await folderWith('p', randomBytes(2 * FRAME));
    full.writevSync = true;
    await expect(encryptFile(join(at, 'p'), { keyring, frameLength: FRAME, pool })).rejects.toMatchObject({
      code: 'OUTPUT_FAILED',
      message: fullSentence(join(at, 'p.kenv')),
      cause: expect.objectContaining({ code: 'ENOSPC' }),
    });
    expect(await readdir(at)).toEqual(['p']);
  });

  it('decrypt, writing the plaintext: OUTPUT_FAILED, and no output', async () => {
    const at = await folderWith('p', randomBytes(2 * FRAME));
    const { outputPath } = await encryptFile(join(at, 'p'), { keyring, frameLength: FRAME, pool });
    await rm(join(at, 'p'));
    full.writevSync = true;
    await expect(decryptFile(outputPath, { keyring, pool })).rejects.toMatchObject({
      code: 'OUTPUT_FAILED',
      message: fullSentence(join(at, 'p')),
      cause: expect.objectContaining({ code: 'ENOSPC' }),
    });
    expect(await readdir(at)).toEqual(['p.kenv']);
  });

  it('encrypt from a pipe (the stream path): OUTPUT_FAILED, and no output', async () => {
    const at = await folderWith('src', randomBytes(2 * FRAME));
    execFileSync('mkfifo', [join(at, 'pipe')]);
    spawn('cp', [join(at, 'src'), join(at, 'pipe')], { stdio: 'ignore' });
    full.write = true;
    await expect(encryptFile(join(at, 'pipe'), { keyring, frameLength: FRAME, pool })).rejects.toMatchObject({
      code: 'OUTPUT_FAILED',
      message: fullSentence(join(at, 'pipe.kenv')),
      cause: expect.objectContaining({ code: 'ENOSPC' }),
    });
    expect((await readdir(at)).sort()).toEqual(['pipe', 'src']);
  });
});
