// Which file an error is blamed on. A read that fails while decryptFile looks for a signed message's footer is
// INPUT_UNREADABLE naming the input (the read failing is Node's fs.read answering EIO through `vi.mock('node:fs')`:
// a failing disk cannot be made here). A keyring's own I/O error (its key file unreadable) is INVALID_KEY naming that
// file, the same from a regular file, a pipe, standard input and --buffer; one that is no I/O error at all passes as
// it is.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DecryptStream } from '../../../../electron/core/crypto/decrypt-stream.js';
import { decryptFile, decryptStreamBuffered, encryptFile, transformStream } from '../../../../electron/core/files.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring, UnwrapRequest } from '../../../../electron/core/keyring/types.js';
import { useFramePool, useScratch } from '../../../support/scratch.js';

const failing = vi.hoisted(() => ({ read: '' }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const errors: Record<string, () => NodeJS.ErrnoException> = {
    EIO: () => Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5, syscall: 'read' }),
    // A network or FUSE file system can answer a read of a file removed on the server so.
    ENOENT: () => Object.assign(new Error('ENOENT: no such file or directory, read'), { code: 'ENOENT', errno: -2, syscall: 'read' }),
  };
  const mocked = {
    ...real,
    read: ((...args: unknown[]) => {
      const callback = args.at(-1) as (e: Error | null) => void;
      const code = failing.read;
      if (code) return process.nextTick(() => callback(errors[code]!()));
      return (real.read as (...a: unknown[]) => void)(...args);
    }) as typeof real.read,
  };
  return { ...mocked, default: mocked };
});

const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'input-errors', key: randomBytes(32) });
const FRAME = 1024;
const scratch = useScratch('kenv-files-input-errors-');
const pool = useFramePool(1);
afterEach(() => {
  failing.read = '';
});

/** A sealed file of a few frames in a fresh folder (the plaintext removed). */
async function sealed(sign: boolean): Promise<{ at: string; sealedPath: string }> {
  const at = scratch.path('case', '');
  await mkdir(at);
  await writeFile(join(at, 'p'), randomBytes(3 * FRAME + 5));
  const { outputPath } = await encryptFile(join(at, 'p'), { keyring, frameLength: FRAME, pool, sign, outputPath: join(at, 'p.kenv') });
  execFileSync('rm', [join(at, 'p')]);
  return { at, sealedPath: outputPath };
}

/** A keyring that reads its key from `keyFile` each time it is asked (as a raw key file would be read). */
function keyFileKeyring(keyFile: string): Keyring {
  return {
    wrapDataKey: (r) => keyring.wrapDataKey(r),
    unwrapDataKey: async (r) => {
      await readFile(keyFile);
      return keyring.unwrapDataKey(r);
    },
  };
}

/** A standard output that takes everything. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

/** Counts the data keys asked for and hands them on. */
function counting(): Keyring & { unwraps: number } {
  const k = {
    unwraps: 0,
    wrapDataKey: (r: Parameters<Keyring['wrapDataKey']>[0]) => keyring.wrapDataKey(r),
    unwrapDataKey: (r: UnwrapRequest) => (k.unwraps++, keyring.unwrapDataKey(r)),
  };
  return k;
}

describe('a read error while finding a signed message\'s footer', () => {
  for (const [code, reason] of [['EIO', 'EIO: i/o error, read'], ['ENOENT', 'it does not exist']] as const) {
    it(`${code}: INPUT_UNREADABLE naming the input ("${reason}"), before any key is asked for, and no plaintext is kept`, async () => {
      const { at, sealedPath } = await sealed(true);
      const k = counting();
      failing.read = code;
      await expect(decryptFile(sealedPath, { keyring: k, pool })).rejects.toMatchObject({
        code: 'INPUT_UNREADABLE',
        message: `Cannot read ${sealedPath}: ${reason}.`,
        cause: expect.objectContaining({ code }),
      });
      expect(k.unwraps).toBe(0);
      expect(await readdir(at)).toEqual(['p.kenv']);
      failing.read = '';
      // The same file opens once the disk reads again.
      await decryptFile(sealedPath, { keyring, pool });
      expect((await readFile(join(at, 'p'))).length).toBe(3 * FRAME + 5);
    });
  }
});

describe('a keyring that fails while a pipe is decrypted (the stream path)', () => {
  /** Decrypts `sealedPath` fed through a named pipe with `k`, and returns what decryptFile rejected with. */
  async function throughPipe(at: string, sealedPath: string, k: Keyring): Promise<unknown> {
    const pipe = join(at, 'pipe.kenv');
    execFileSync('mkfifo', [pipe]);
    const writer = spawn('cp', [sealedPath, pipe], { stdio: 'ignore' });
    try {
      return await decryptFile(pipe, { keyring: k, pool, outputPath: join(at, 'out') }).then(
        () => expect.unreachable('decryptFile resolved'),
        (e: unknown) => e,
      );
    } finally {
      writer.kill();
    }
  }

  it('an I/O error about another file (its key file gone) is INVALID_KEY naming that file, as from a regular file', async () => {
    const { at, sealedPath } = await sealed(false);
    const keyFile = join(at, 'gone.key');
    const k = keyFileKeyring(keyFile);
    const sentence = `Opening this file's data key needs ${keyFile}, which cannot be read: it does not exist. Nothing was decrypted; check that file.`;
    const fromPipe = await throughPipe(at, sealedPath, k);
    expect(fromPipe).toMatchObject({ code: 'INVALID_KEY', message: sentence, cause: expect.objectContaining({ code: 'ENOENT', path: keyFile }) });
    // The regular file (the offset path), standard input (the stream) and --buffer say the same.
    await expect(decryptFile(sealedPath, { keyring: k, pool, outputPath: join(at, 'out') })).rejects.toMatchObject({ code: 'INVALID_KEY', message: sentence });
    await expect(transformStream(createReadStream(sealedPath), new DecryptStream({ keyring: k, pool }), discard())).rejects.toMatchObject({ code: 'INVALID_KEY', message: sentence });
    await expect(decryptStreamBuffered(createReadStream(sealedPath), discard(), { keyring: k, pool, tempDir: at })).rejects.toMatchObject({ code: 'INVALID_KEY', message: sentence });
    expect((await readdir(at)).sort()).toEqual(['p.kenv', 'pipe.kenv']);
  });

  it('an I/O error with no path (a keyring\'s own system call) is INVALID_KEY with the system\'s reason, on both paths', async () => {
    const { at, sealedPath } = await sealed(false);
    const thrown = Object.assign(new Error('EMFILE: too many open files, socket'), { code: 'EMFILE', errno: -24, syscall: 'socket' });
    const k: Keyring = { wrapDataKey: (r) => keyring.wrapDataKey(r), unwrapDataKey: () => Promise.reject(thrown) };
    const said = { code: 'INVALID_KEY', message: 'The key failed while opening this file\'s data key: EMFILE: too many open files, socket. Nothing was decrypted.', cause: thrown };
    expect(await throughPipe(at, sealedPath, k)).toMatchObject(said);
    await expect(decryptFile(sealedPath, { keyring: k, pool, outputPath: join(at, 'out') })).rejects.toMatchObject(said);
  });

  it('an error that is no I/O error (no errno code) comes out as it is, even one that carries the input\'s path', async () => {
    const { at, sealedPath } = await sealed(false);
    const thrown = Object.assign(new Error('the key service said no'), { path: join(at, 'pipe.kenv') });
    const k: Keyring = { wrapDataKey: (r) => keyring.wrapDataKey(r), unwrapDataKey: () => Promise.reject(thrown) };
    expect(await throughPipe(at, sealedPath, k)).toBe(thrown);
    expect(await readdir(at)).not.toContain('out');
  });
});
