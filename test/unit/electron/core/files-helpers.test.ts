// files.ts around the codec: output names and folders, input checks, inspect, --buffer decryption, and the stream path
// taken for inputs that are not regular files. Small inputs, so these run in a moment (they also serve mutation testing).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_ID_CONTEXT_KEY } from '../../../../electron/core/audit/file-id.js';
import { FramePool } from '../../../../electron/core/crypto/frame-pool.js';
import {
  type Progress, decryptFile, decryptStreamBuffered, decryptedName, encryptFile, inputSize, inspectFile, makeOutputFolder,
  removeEmptyFolders,
} from '../../../../electron/core/files.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import { partialName } from '../../../../electron/core/partials.js';
import type { EncryptedDataKey, Keyring, UnwrapRequest } from '../../../../electron/core/keyring/types.js';

const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'helpers', key: randomBytes(32) });
const FRAME = 4096;
let pool: FramePool;
let dir: string;
let counter = 0;

beforeAll(async () => {
  pool = new FramePool(1);
  dir = await mkdtemp(join(tmpdir(), 'kenv-files-helpers-'));
});
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh folder holding one plaintext file `name`. */
async function plain(bytes: Buffer, name = 'plain.bin'): Promise<{ folder: string; path: string }> {
  const folder = join(dir, `case-${++counter}`);
  await mkdir(folder);
  const path = join(folder, name);
  await writeFile(path, bytes);
  return { folder, path };
}

/** A named pipe fed with `bytes`: an input that is not a regular file, so files.ts takes the stream path. */
async function fifoOf(path: string, bytes: Buffer): Promise<void> {
  await writeFile(`${path}.src`, bytes);
  execFileSync('mkfifo', [path]);
  // A child writes into it: opening a pipe for writing waits for its reader, which this process is.
  spawn('cp', [`${path}.src`, path], { stdio: 'ignore' });
}

/** A keyring that wraps nothing and gives the data key back as is: the EDK it writes says what it claims to be. */
function claimingKeyring(edk: Omit<EncryptedDataKey, 'ciphertext'>): Keyring {
  let key: Buffer | undefined;
  return {
    async wrapDataKey() {
      key = randomBytes(32);
      return { dataKey: Buffer.from(key), edks: [{ ...edk, ciphertext: Buffer.from('x') }] };
    },
    async unwrapDataKey(_req: UnwrapRequest) {
      return Buffer.from(key!);
    },
  };
}

describe('decryptedName', () => {
  it.each([
    ['/a/report.pdf.kenv', 'report.pdf'],
    ['report.PDF.KENV', 'report.PDF'],
    ['x.bin', 'x.bin.decrypted'],
    ['.kenv', '.kenv.decrypted'],
    ['a.kenv.txt', 'a.kenv.txt.decrypted'],
  ])('%s decrypts to %s', (input, name) => {
    expect(decryptedName(input)).toBe(name);
  });
});

describe('inputSize', () => {
  it('gives the size of a regular file; a pipe is not regular', async () => {
    const { path, folder } = await plain(Buffer.alloc(5));
    expect(await inputSize(path)).toEqual({ size: 5, regular: true });
    execFileSync('mkfifo', [join(folder, 'pipe')]);
    expect((await inputSize(join(folder, 'pipe'))).regular).toBe(false);
  });

  it('a folder is INPUT_UNREADABLE, a missing name INPUT_NOT_FOUND, each naming the path', async () => {
    await expect(inputSize(dir)).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', message: `${dir} is a folder; give the files inside it.` });
    const missing = join(dir, 'missing');
    await expect(inputSize(missing)).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND', message: `${missing} does not exist. Check the name and the folder.` });
  });

  it('a path through a file is INPUT_UNREADABLE with the reason', async () => {
    const { path } = await plain(Buffer.alloc(1));
    await expect(inputSize(join(path, 'below'))).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringMatching(new RegExp(`^Cannot read ${join(path, 'below')}: ENOTDIR`)),
    });
  });
});

describe('encryptFile and decryptFile: names, folders and options', () => {
  it('encrypts next to the input as NAME.kenv and decrypts back to NAME, counting the bytes', async () => {
    const bytes = randomBytes(3 * FRAME + 7);
    const { folder, path } = await plain(bytes, 'doc.txt');
    const sealed = await encryptFile(path, { keyring, frameLength: FRAME, pool });
    expect(sealed.outputPath).toBe(`${path}.kenv`);
    expect(sealed.bytesIn).toBe(bytes.length);
    expect(sealed.bytesOut).toBe((await stat(sealed.outputPath)).size);
    expect(sealed.messageId).toMatch(/^[0-9a-f]{64}$/);
    await rm(path);
    const opened = await decryptFile(sealed.outputPath, { keyring, pool });
    expect(opened.outputPath).toBe(path);
    expect(opened.bytesOut).toBe(bytes.length);
    expect(opened.info.messageId).toBe(sealed.messageId);
    expect(opened.info.frameLength).toBe(FRAME);
    expect((await readFile(path)).equals(bytes)).toBe(true);
    expect((await readdir(folder)).sort()).toEqual(['doc.txt', 'doc.txt.kenv']);
  });

  it('outDir: the output goes there, in folders made as needed; decrypting there too', async () => {
    const { path } = await plain(Buffer.from('hello'), 'h.txt');
    const outDir = join(dir, `out-${++counter}`, 'deep');
    const sealed = await encryptFile(path, { keyring, outDir, pool });
    expect(sealed.outputPath).toBe(join(outDir, 'h.txt.kenv'));
    const back = join(dir, `back-${++counter}`, 'x');
    const opened = await decryptFile(sealed.outputPath, { keyring, outDir: back, pool });
    expect(opened.outputPath).toBe(join(back, 'h.txt'));
    expect(await readFile(opened.outputPath, 'utf8')).toBe('hello');
  });

  it('outputPath: exactly there, its folder made as needed; an existing output is replaced only with force', async () => {
    const { path } = await plain(Buffer.from('one'));
    const outputPath = join(dir, `named-${++counter}`, 'sub', 'sealed');
    await encryptFile(path, { keyring, outputPath, pool });
    const decrypted = join(dir, `named-${++counter}`, 'sub', 'plain');
    await decryptFile(outputPath, { keyring, outputPath: decrypted, pool });
    expect(await readFile(decrypted, 'utf8')).toBe('one');
    await expect(decryptFile(outputPath, { keyring, outputPath: decrypted, pool })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    await writeFile(decrypted, 'stale');
    await decryptFile(outputPath, { keyring, outputPath: decrypted, pool, force: true });
    expect(await readFile(decrypted, 'utf8')).toBe('one');
    await writeFile(path, 'two');
    await expect(encryptFile(path, { keyring, outputPath, pool })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    await encryptFile(path, { keyring, outputPath, pool, force: true });
    await rm(decrypted);
    await decryptFile(outputPath, { keyring, outputPath: decrypted, pool });
    expect(await readFile(decrypted, 'utf8')).toBe('two');
  });

  it('fileId adds a kenv:file-id to the context, keeping the given pairs', async () => {
    const { path } = await plain(Buffer.from('id'));
    const sealed = await encryptFile(path, { keyring, pool, fileId: true, context: { team: 'a' } });
    const info = await inspectFile(sealed.outputPath);
    expect(info.encryptionContext.team).toBe('a');
    expect(info.encryptionContext[FILE_ID_CONTEXT_KEY]).toMatch(/\S/);
    const plainSealed = await encryptFile((await plain(Buffer.from('no id'))).path, { keyring, pool, context: { team: 'a' } });
    expect((await inspectFile(plainSealed.outputPath)).encryptionContext).toEqual({ team: 'a' });
  });

  it('a missing input is INPUT_NOT_FOUND and makes no output folder', async () => {
    const outDir = join(dir, `never-${++counter}`);
    await expect(encryptFile(join(dir, 'nope'), { keyring, outDir, pool })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
    await expect(decryptFile(join(dir, 'nope.kenv'), { keyring, outDir, pool })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
    await expect(stat(outDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('decrypting asks the keyring once, and requiredContext must match', async () => {
    const { path } = await plain(randomBytes(2 * FRAME));
    const sealed = await encryptFile(path, { keyring, pool, frameLength: FRAME, context: { team: 'a' } });
    let asked = 0;
    const counting: Keyring = { wrapDataKey: (r) => keyring.wrapDataKey(r), unwrapDataKey: (r) => (asked++, keyring.unwrapDataKey(r)) };
    await decryptFile(sealed.outputPath, { keyring: counting, pool, outputPath: join(dir, `once-${++counter}`), requiredContext: { team: 'a' } });
    expect(asked).toBe(1);
    const refused = join(dir, `refused-${++counter}`);
    await expect(decryptFile(sealed.outputPath, { keyring, pool, outputPath: refused, requiredContext: { team: 'b' } })).rejects.toMatchObject({ code: expect.any(String) });
    await expect(stat(refused)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('maxEncryptedDataKeys refuses a message with more keys, before any unwrap', async () => {
    const { path } = await plain(Buffer.from('k'));
    const second = new RawAesKeyring({ namespace: 'kenv-test', name: 'second', key: randomBytes(32) });
    const both: Keyring = {
      async wrapDataKey(req) {
        const a = await keyring.wrapDataKey(req);
        const b = await second.wrapDataKey({ ...req, dataKey: a.dataKey });
        return { dataKey: a.dataKey, edks: [...a.edks, ...b.edks] };
      },
      unwrapDataKey: (r) => keyring.unwrapDataKey(r),
    };
    const sealed = await encryptFile(path, { keyring: both, pool });
    let asked = 0;
    const counting: Keyring = { wrapDataKey: (r) => keyring.wrapDataKey(r), unwrapDataKey: (r) => (asked++, keyring.unwrapDataKey(r)) };
    const out = join(dir, `max-${++counter}`);
    await expect(decryptFile(sealed.outputPath, { keyring: counting, pool, outputPath: out, maxEncryptedDataKeys: 1 })).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(asked).toBe(0);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    await decryptFile(sealed.outputPath, { keyring: counting, pool, outputPath: out, maxEncryptedDataKeys: 2 });
    expect(await readFile(out, 'utf8')).toBe('k');
  });
});

describe('inputs that are not regular files take the stream path', () => {
  it('a pipe encrypts and decrypts through the stream, with progress up to the bytes read, and the same guarantees', async () => {
    const bytes = randomBytes(5 * FRAME + 3);
    const folder = join(dir, `fifo-${++counter}`);
    await mkdir(folder);
    await fifoOf(join(folder, 'in'), bytes);
    const progress: Progress[] = [];
    const sealed = await encryptFile(join(folder, 'in'), { keyring, pool, frameLength: FRAME, onProgress: (p) => progress.push(p) });
    expect(sealed.outputPath).toBe(join(folder, 'in.kenv'));
    expect(sealed.bytesOut).toBe((await stat(sealed.outputPath)).size);
    expect(progress.at(-1)?.bytesDone).toBe(bytes.length);
    await rm(join(folder, 'in'));
    await fifoOf(join(folder, 'sealed'), await readFile(sealed.outputPath));
    const opened = await decryptFile(join(folder, 'sealed'), { keyring, pool, outputPath: join(folder, 'out') });
    expect(opened.bytesOut).toBe(bytes.length);
    expect(opened.info.messageId).toBe(sealed.messageId);
    expect((await readFile(join(folder, 'out'))).equals(bytes)).toBe(true);
  });

  it('a damaged message through a pipe fails and leaves no output and no partial', async () => {
    const { folder, path } = await plain(randomBytes(2 * FRAME));
    const sealed = await encryptFile(path, { keyring, pool, frameLength: FRAME });
    const bytes = await readFile(sealed.outputPath);
    bytes[bytes.length - 40]! ^= 1;
    const out = join(dir, `fifo-out-${++counter}`);
    await mkdir(out);
    await fifoOf(join(folder, 'damaged'), bytes);
    await expect(decryptFile(join(folder, 'damaged'), { keyring, pool, outDir: out })).rejects.toMatchObject({ code: expect.stringMatching(/TAMPERED|SIGNATURE/) });
    expect(await readdir(out)).toEqual([]);
  });
});

describe('inspectFile', () => {
  it('describes the header: suite, message id, context, frame length, and a raw AES key by name', async () => {
    const { path } = await plain(Buffer.from('x'));
    const sealed = await encryptFile(path, { keyring, pool, frameLength: FRAME, context: { a: 'b' } });
    const info = await inspectFile(sealed.outputPath);
    expect(info).toMatchObject({
      version: 2,
      suiteId: 0x0478,
      suiteName: '0x0478 AES_256_GCM_HKDF_SHA512_COMMIT_KEY',
      signed: false,
      messageId: sealed.messageId,
      encryptionContext: { a: 'b' },
      encryptedDataKeys: [{ providerId: 'kenv-test', keyName: 'helpers', keyKind: 'raw AES' }],
      frameLength: FRAME,
    });
    const bytes = await readFile(sealed.outputPath);
    expect(info.headerLength).toBeGreaterThan(0);
    expect(info.headerLength).toBeLessThan(bytes.length);
  });

  it('names KMS keys by ARN (symmetric and RSA) and a raw RSA key by name', async () => {
    const arn = 'arn:aws:kms:eu-west-1:111122223333:key/k';
    for (const [edk, expected] of [
      [{ providerId: 'aws-kms', providerInfo: Buffer.from(arn) }, { providerId: 'aws-kms', keyArn: arn }],
      [{ providerId: 'aws-kms-rsa', providerInfo: Buffer.from(arn) }, { providerId: 'aws-kms-rsa', keyArn: arn }],
      [{ providerId: 'team', providerInfo: Buffer.from('rsa-key') }, { providerId: 'team', keyName: 'rsa-key', keyKind: 'raw RSA' }],
    ] as const) {
      const { path } = await plain(Buffer.from('x'));
      const sealed = await encryptFile(path, { keyring: claimingKeyring(edk), pool });
      expect((await inspectFile(sealed.outputPath)).encryptedDataKeys).toEqual([expected]);
    }
  });

  it('reads a header longer than one read (three 30 KB data keys)', async () => {
    const { path } = await plain(Buffer.from('x'));
    const arn = 'arn:aws:kms:eu-west-1:111122223333:key/k';
    const big: Keyring = {
      async wrapDataKey() {
        const edk = { providerId: 'aws-kms', providerInfo: Buffer.from(arn), ciphertext: randomBytes(30_000) };
        return { dataKey: randomBytes(32), edks: [edk, edk, edk] };
      },
      unwrapDataKey: () => Promise.reject(new Error('not used')),
    };
    const sealed = await encryptFile(path, { keyring: big, pool });
    const info = await inspectFile(sealed.outputPath);
    expect(info.encryptedDataKeys).toHaveLength(3);
    expect(info.headerLength).toBeGreaterThan(90_000);
  });

  it('an empty file is NOT_KENV, a cut header TRUNCATED_HEADER, each naming the file', async () => {
    const { folder, path } = await plain(Buffer.from('x'));
    const sealed = await encryptFile(path, { keyring, pool });
    const empty = join(folder, 'empty.kenv');
    await writeFile(empty, '');
    await expect(inspectFile(empty)).rejects.toMatchObject({ code: 'NOT_KENV', message: `${empty} is empty, so it is not a .kenv file.` });
    const cut = join(folder, 'cut.kenv');
    await writeFile(cut, (await readFile(sealed.outputPath)).subarray(0, 30));
    await expect(inspectFile(cut)).rejects.toMatchObject({ code: 'TRUNCATED_HEADER', message: `${cut} ends inside its message header: it was cut short. Get a complete copy.` });
    await expect(inspectFile(folder)).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
  });
});

describe('makeOutputFolder and removeEmptyFolders', () => {
  it('makes the missing levels and returns them outermost first; an existing folder makes none', async () => {
    const base = join(dir, `mk-${++counter}`);
    expect(await makeOutputFolder(join(base, 'a', 'b'))).toEqual([base, join(base, 'a'), join(base, 'a', 'b')]);
    expect((await stat(join(base, 'a', 'b'))).isDirectory()).toBe(true);
    expect(await makeOutputFolder(join(base, 'a', 'b'))).toEqual([]);
  });

  it('a file on the way is OUTPUT_FAILED naming it, and nothing is made', async () => {
    const { path } = await plain(Buffer.from('f'));
    const wanted = join(path, 'x', 'y');
    await expect(makeOutputFolder(wanted)).rejects.toMatchObject({
      code: 'OUTPUT_FAILED',
      message: `Cannot use ${wanted} as the output folder: ${path} is a file, not a folder. Choose another folder with --out.`,
    });
  });

  it('a file system that takes no new folders (/proc) is OUTPUT_FAILED, not an endless loop', async () => {
    await expect(makeOutputFolder('/proc/kenv-test/x')).rejects.toMatchObject({
      code: 'OUTPUT_FAILED',
      message: 'Cannot create the output folder /proc/kenv-test/x: /proc does not take new folders. Choose another folder with --out.',
    });
  });

  it('removeEmptyFolders removes innermost first and stops at a folder with something in it', async () => {
    const base = join(dir, `rm-${++counter}`);
    const made = await makeOutputFolder(join(base, 'a', 'b'));
    await writeFile(join(base, 'keep'), '');
    await removeEmptyFolders(made);
    await expect(stat(join(base, 'a'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(base)).toEqual(['keep']);
  });
});

describe('decryptStreamBuffered', () => {
  async function sealedBytes(bytes: Buffer): Promise<Buffer> {
    const { path } = await plain(bytes);
    return readFile((await encryptFile(path, { keyring, pool, frameLength: FRAME })).outputPath);
  }
  function sink(): { stream: PassThrough; bytes: () => Buffer } {
    const chunks: Buffer[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => chunks.push(c));
    return { stream, bytes: () => Buffer.concat(chunks) };
  }

  it('releases the whole plaintext once verified, and leaves no file in its folder', async () => {
    const bytes = randomBytes(3 * FRAME + 1);
    const tempDir = join(dir, `buf-${++counter}`);
    await mkdir(tempDir);
    const out = sink();
    await decryptStreamBuffered(Readable.from([await sealedBytes(bytes)]), out.stream, { keyring, tempDir });
    expect(out.bytes().equals(bytes)).toBe(true);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('first removes what a dead process left in its folder (a partial of its form), and nothing else', async () => {
    const tempDir = join(dir, `buf-${++counter}`);
    await mkdir(tempDir);
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.on('exit', resolve));
    const scope = partialName().split('-')[2]!.slice(0, 6);
    const left = `.kenv-${child.pid}-${scope}abcdef-0000.partial`;
    await writeFile(join(tempDir, left), 'plaintext of a process that died');
    await writeFile(join(tempDir, 'notes.txt'), 'mine');
    const bytes = randomBytes(10);
    await decryptStreamBuffered(Readable.from([await sealedBytes(bytes)]), sink().stream, { keyring, tempDir });
    expect(await readdir(tempDir)).toEqual(['notes.txt']);
  });

  it.runIf(process.platform === 'linux')('holds the plaintext in a file readable by its owner only, with no name left while it is written', async () => {
    const bytes = randomBytes(3 * FRAME);
    const sealed = await sealedBytes(bytes);
    const tempDir = join(dir, `buf-${++counter}`);
    await mkdir(tempDir);
    const held: { target: string; mode: number }[] = [];
    let names: string[] | undefined;
    async function* feed(): AsyncGenerator<Buffer> {
      yield sealed.subarray(0, sealed.length >> 1);
      // Halfway: the files this process has open in tempDir, as /proc shows them.
      for (const fd of readdirSync('/proc/self/fd')) {
        const target = (() => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } })();
        if (target.startsWith(tempDir)) held.push({ target, mode: statSync(`/proc/self/fd/${fd}`).mode & 0o777 });
      }
      names = await readdir(tempDir);
      yield sealed.subarray(sealed.length >> 1);
    }
    const out = sink();
    await decryptStreamBuffered(Readable.from(feed()), out.stream, { keyring, tempDir });
    expect(out.bytes().equals(bytes)).toBe(true);
    expect(held.length).toBeGreaterThan(0);
    for (const h of held) {
      expect(h.target).toMatch(/ \(deleted\)$/);
      expect(h.mode).toBe(0o600);
    }
    expect(names).toEqual([]);
  });

  it('a damaged message releases nothing and leaves no file', async () => {
    const sealed = await sealedBytes(randomBytes(3 * FRAME));
    sealed[sealed.length - 40]! ^= 1;
    const tempDir = join(dir, `buf-${++counter}`);
    await mkdir(tempDir);
    const out = sink();
    await expect(decryptStreamBuffered(Readable.from([sealed]), out.stream, { keyring, tempDir })).rejects.toMatchObject({ code: 'FRAME_TAMPERED' });
    expect(out.bytes().length).toBe(0);
    expect(await readdir(tempDir)).toEqual([]);
    // Nor a descriptor: the plaintext file (unlinked, still open) must be closed too, not left to the collector.
    const open = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(tempDir);
      } catch {
        return false;
      }
    });
    expect(open).toEqual([]);
  });

  it('a folder it cannot write in is OUTPUT_FAILED naming it and TMPDIR', async () => {
    const tempDir = join(dir, `no-such-${++counter}`);
    await expect(decryptStreamBuffered(Readable.from([Buffer.alloc(0)]), sink().stream, { keyring, tempDir })).rejects.toMatchObject({
      code: 'OUTPUT_FAILED',
      message: `Cannot hold the plaintext for --buffer in ${tempDir}: the folder does not exist. Set TMPDIR to a folder with room.`,
      cause: expect.objectContaining({ code: 'ENOENT' }),
    });
  });

  it('a cancelled run is CANCELLED and leaves no file', async () => {
    const tempDir = join(dir, `buf-${++counter}`);
    await mkdir(tempDir);
    const controller = new AbortController();
    controller.abort();
    const input = createReadStream(join(dir, 'missing-is-never-read'));
    input.on('error', () => undefined);
    await expect(decryptStreamBuffered(input, sink().stream, { keyring, tempDir, signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await readdir(tempDir)).toEqual([]);
  });
});
