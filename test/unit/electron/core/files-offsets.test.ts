// encryptFile and decryptFile on small regular files (the offset path, run on the calling thread): what files.ts
// itself promises around the codec. The header and the frames land where the format puts them, a signed message is
// signed and checked, progress runs to the end, a damaged file gets the stream's verdict with one keyring call, a
// file that changes size is refused, and nothing is kept after a failure. Small inputs, so the file runs in a few
// seconds (mutation testing runs it per mutant); files.test.ts holds the same path at megabyte sizes.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readlinkSync, truncateSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Progress, decryptFile, encryptFile } from '../../../../electron/core/files.js';
import { FINAL_FRAME_OVERHEAD, REGULAR_FRAME_OVERHEAD } from '../../../../electron/core/format/frames.js';
import { parseHeader } from '../../../../electron/core/format/header.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import type { EncryptedDataKey, Keyring, UnwrapRequest } from '../../../../electron/core/keyring/types.js';
import { decryptBuffer, encryptBuffer } from '../../../support/streams.js';
import { useFramePool, useScratch } from '../../../support/scratch.js';

const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'offsets', key: randomBytes(32) });
const FRAME = 1024;
const scratch = useScratch('kenv-files-offsets-');
const pool = useFramePool(1);

/** A fresh, empty folder. */
async function folder(): Promise<string> {
  const path = scratch.path('case', '');
  await mkdir(path);
  return path;
}

/** Counts the keyring's calls and hands them on. */
function counting(inner: Keyring = keyring): Keyring & { wraps: number; unwraps: number } {
  const k = {
    wraps: 0,
    unwraps: 0,
    wrapDataKey: (r: Parameters<Keyring['wrapDataKey']>[0]) => (k.wraps++, inner.wrapDataKey(r)),
    unwrapDataKey: (r: UnwrapRequest) => (k.unwraps++, inner.unwrapDataKey(r)),
  };
  return k;
}

async function sealedFile(plaintext: Buffer, opts: { sign?: boolean } = {}): Promise<{ folder: string; sealed: string; messageId: string }> {
  const at = await folder();
  const input = join(at, 'plain.bin');
  await writeFile(input, plaintext);
  const { outputPath, messageId } = await encryptFile(input, { keyring, frameLength: FRAME, pool, ...opts });
  await rm(input);
  return { folder: at, sealed: outputPath, messageId };
}

describe('encryptFile on a regular file', () => {
  for (const [name, size] of [['0 bytes', 0], ['1 byte', 1], ['one frame', FRAME], ['3 frames and 5 bytes', 3 * FRAME + 5]] as const) {
    it(`${name}: the header, then the frames the format calls for, which the stream decrypts; the counts and message id match the file`, async () => {
      const plaintext = randomBytes(size);
      const at = await folder();
      const input = join(at, 'p');
      await writeFile(input, plaintext);
      const done = await encryptFile(input, { keyring, frameLength: FRAME, pool });
      const sealed = await readFile(done.outputPath);
      const header = parseHeader(sealed);
      // Every frame but the last is full; the last holds the rest, a whole frame when the size is a multiple of it.
      const regular = Math.max(0, Math.ceil(size / FRAME) - 1);
      expect(sealed.length).toBe(header.bytes.length + regular * (FRAME + REGULAR_FRAME_OVERHEAD) + FINAL_FRAME_OVERHEAD + (size - regular * FRAME));
      expect(done).toEqual({ outputPath: join(at, 'p.kenv'), bytesIn: size, bytesOut: sealed.length, messageId: header.messageId.toString('hex') });
      expect((await decryptBuffer(sealed, { keyring, pool })).equals(plaintext)).toBe(true);
      expect((await readdir(at)).sort()).toEqual(['p', 'p.kenv']);
    });
  }

  it('decryptFile opens what the stream encrypted, and gives the header it read', async () => {
    const plaintext = randomBytes(2 * FRAME + 9);
    const at = await folder();
    await writeFile(join(at, 's.kenv'), await encryptBuffer(plaintext, { keyring, frameLength: FRAME, pool, context: { team: 'a' } }));
    const opened = await decryptFile(join(at, 's.kenv'), { keyring, pool });
    expect(opened.outputPath).toBe(join(at, 's'));
    expect(opened.bytesOut).toBe(plaintext.length);
    expect(opened.info.encryptionContext).toEqual({ team: 'a' });
    expect(opened.info.frameLength).toBe(FRAME);
    expect((await readFile(join(at, 's'))).equals(plaintext)).toBe(true);
  });

  it('a signed message ends with its signature, which the stream checks; decryptFile opens it', async () => {
    const plaintext = randomBytes(2 * FRAME + 3);
    const at = await folder();
    const input = join(at, 'p');
    await writeFile(input, plaintext);
    const done = await encryptFile(input, { keyring, frameLength: FRAME, pool, sign: true });
    const sealed = await readFile(done.outputPath);
    const header = parseHeader(sealed);
    expect(header.suite.signed).toBe(true);
    const body = 2 * (FRAME + REGULAR_FRAME_OVERHEAD) + FINAL_FRAME_OVERHEAD + 3;
    const signatureLength = sealed.readUInt16BE(header.bytes.length + body);
    expect(sealed.length).toBe(header.bytes.length + body + 2 + signatureLength);
    expect(done.bytesOut).toBe(sealed.length);
    expect((await decryptBuffer(sealed, { keyring, pool })).equals(plaintext)).toBe(true);
    const opened = await decryptFile(done.outputPath, { keyring, pool, outputPath: join(at, 'back') });
    expect(opened.bytesOut).toBe(plaintext.length);
    expect((await readFile(join(at, 'back'))).equals(plaintext)).toBe(true);
  });

  it('reports progress from 0 up to the whole input, encrypting and decrypting, never going back', async () => {
    const plaintext = randomBytes(3 * FRAME + 1);
    const at = await folder();
    await writeFile(join(at, 'p'), plaintext);
    const sealing: Progress[] = [];
    const { outputPath } = await encryptFile(join(at, 'p'), { keyring, frameLength: FRAME, pool, onProgress: (p) => sealing.push({ ...p }) });
    const size = (await stat(outputPath)).size;
    const opening: Progress[] = [];
    await decryptFile(outputPath, { keyring, pool, outputPath: join(at, 'back'), onProgress: (p) => opening.push({ ...p }) });
    const headerLength = parseHeader(await readFile(outputPath)).bytes.length;
    expect(sealing[0]).toEqual({ bytesDone: 0, bytesTotal: plaintext.length });
    expect(sealing.at(-1)).toEqual({ bytesDone: plaintext.length, bytesTotal: plaintext.length });
    expect(opening[0]).toEqual({ bytesDone: headerLength, bytesTotal: size });
    expect(opening.at(-1)).toEqual({ bytesDone: size, bytesTotal: size });
    for (const list of [sealing, opening]) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.bytesDone).toBeGreaterThanOrEqual(list[i - 1]!.bytesDone);
    }
  });

  it('an existing output is refused before the keyring is asked, and kept', async () => {
    const at = await folder();
    await writeFile(join(at, 'p'), 'new');
    await writeFile(join(at, 'p.kenv'), 'keep me');
    const k = counting();
    await expect(encryptFile(join(at, 'p'), { keyring: k, pool })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(k.wraps).toBe(0);
    expect(await readFile(join(at, 'p.kenv'), 'utf8')).toBe('keep me');

    const { sealed } = await sealedFile(Buffer.from('x'));
    await writeFile(join(at, 'out'), 'keep me too');
    await expect(decryptFile(sealed, { keyring: k, pool, outputPath: join(at, 'out') })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(k.unwraps).toBe(0);
    expect(await readFile(join(at, 'out'), 'utf8')).toBe('keep me too');
  });

  it('a signal aborted before the start: CANCELLED, and neither side leaves a file', async () => {
    const controller = new AbortController();
    controller.abort();
    const at = await folder();
    await writeFile(join(at, 'p'), randomBytes(2 * FRAME));
    await expect(encryptFile(join(at, 'p'), { keyring, frameLength: FRAME, pool, signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED', message: 'Cancelled; no output was kept.' });
    expect(await readdir(at)).toEqual(['p']);
    const { folder: sealedIn, sealed } = await sealedFile(randomBytes(2 * FRAME));
    await expect(decryptFile(sealed, { keyring, pool, signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await readdir(sealedIn)).toEqual(['plain.bin.kenv']);
  });
});

describe('what decryptFile refuses before any key is asked for, leaving nothing', () => {
  it('a message with more data keys than the default limit (10): TOO_MANY_DATA_KEYS', async () => {
    const eleven: Keyring = {
      async wrapDataKey(req) {
        const first = await keyring.wrapDataKey(req);
        const edks = [...first.edks];
        for (let i = 0; i < 10; i++) edks.push(...(await keyring.wrapDataKey({ ...req, dataKey: first.dataKey })).edks);
        return { dataKey: first.dataKey, edks };
      },
      unwrapDataKey: (r) => keyring.unwrapDataKey(r),
    };
    const at = await folder();
    const outputPath = join(at, 'p.kenv');
    await writeFile(outputPath, await encryptBuffer(Buffer.from('eleven keys'), { keyring: eleven, pool, maxEncryptedDataKeys: 11 }));
    const k = counting();
    await expect(decryptFile(outputPath, { keyring: k, pool })).rejects.toMatchObject({ code: 'TOO_MANY_DATA_KEYS' });
    expect(k.unwraps).toBe(0);
    expect(await readdir(at)).toEqual(['p.kenv']);
  });

  it('a file cut inside its header: TRUNCATED_HEADER; an empty file: NOT_KENV', async () => {
    const { folder: at, sealed } = await sealedFile(Buffer.from('x'));
    const bytes = await readFile(sealed);
    await writeFile(sealed, bytes.subarray(0, parseHeader(bytes).bytes.length - 1));
    const k = counting();
    await expect(decryptFile(sealed, { keyring: k, pool })).rejects.toMatchObject({ code: 'TRUNCATED_HEADER' });
    await writeFile(sealed, '');
    await expect(decryptFile(sealed, { keyring: k, pool })).rejects.toMatchObject({ code: expect.stringMatching(/NOT_KENV|TRUNCATED_HEADER/) });
    expect(k.unwraps).toBe(0);
    expect(await readdir(at)).toEqual(['plain.bin.kenv']);
  });
});

describe.runIf(process.platform === 'linux')('no file is left open', () => {
  /** The files of `at` this process holds open, as /proc shows them. */
  function openIn(at: string): string[] {
    const held: string[] = [];
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        if (target.startsWith(at)) held.push(target);
      } catch {
        // closed meanwhile
      }
    }
    return held;
  }

  it('after an encrypt and a decrypt, plain and signed, done or refused', async () => {
    for (const sign of [false, true]) {
      const at = await folder();
      await writeFile(join(at, 'p'), randomBytes(2 * FRAME + 1));
      const { outputPath } = await encryptFile(join(at, 'p'), { keyring, frameLength: FRAME, pool, sign });
      expect(openIn(at)).toEqual([]);
      await decryptFile(outputPath, { keyring, pool, outputPath: join(at, 'back') });
      expect(openIn(at)).toEqual([]);
      const damaged = await readFile(outputPath);
      damaged[damaged.length - 3]! ^= 1;
      await writeFile(outputPath, damaged);
      await expect(decryptFile(outputPath, { keyring, pool, outputPath: join(at, 'again') })).rejects.toMatchObject({ code: expect.any(String) });
      expect(openIn(at)).toEqual([]);
    }
  });
});

describe('a file that changes while it is read', () => {
  it('encrypt: an input that grows is INPUT_UNREADABLE ("changed size"), and no output is kept', async () => {
    const at = await folder();
    const input = join(at, 'p');
    await writeFile(input, randomBytes(2 * FRAME));
    const grow = (p: Progress): void => {
      if (p.bytesDone === 0) appendFileSync(input, 'more');
    };
    await expect(encryptFile(input, { keyring, frameLength: FRAME, pool, onProgress: grow })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: `${input} changed size while it was being read; nothing was written. Try again once nothing else writes to it.`,
    });
    expect(await readdir(at)).toEqual(['p']);
  });

  it('encrypt: an input that shrinks is INPUT_UNREADABLE ("changed size"), and no output is kept', async () => {
    const at = await folder();
    const input = join(at, 'p');
    await writeFile(input, randomBytes(2 * FRAME));
    const shrink = (p: Progress): void => {
      if (p.bytesDone === 0) truncateSync(input, FRAME);
    };
    await expect(encryptFile(input, { keyring, frameLength: FRAME, pool, onProgress: shrink })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: `${input} changed size while it was being read; nothing was written. Try again once nothing else writes to it.`,
    });
    expect(await readdir(at)).toEqual(['p']);
  });

  it('decrypt: an input that grows is INPUT_UNREADABLE ("changed size"), and no plaintext is kept', async () => {
    for (const sign of [false, true]) {
      const { folder: at, sealed } = await sealedFile(randomBytes(2 * FRAME), { sign });
      const grow = (p: Progress): void => {
        if (p.bytesDone < p.bytesTotal!) appendFileSync(sealed, 'more');
      };
      await expect(decryptFile(sealed, { keyring, pool, onProgress: grow })).rejects.toMatchObject({
        code: 'INPUT_UNREADABLE',
        message: `${sealed} changed size while it was being read; nothing was written. Try again once nothing else writes to it.`,
      });
      expect(await readdir(at)).toEqual(['plain.bin.kenv']);
    }
  });
});

describe('an input that goes away between the size check and the read', () => {
  /** A keyring that runs `meanwhile` when asked for a data key: after encryptFile checked the input, before it opens it. */
  function meanwhileKeyring(meanwhile: () => Promise<void>): Keyring {
    return { wrapDataKey: async (r) => (await meanwhile(), keyring.wrapDataKey(r)), unwrapDataKey: (r) => keyring.unwrapDataKey(r) };
  }

  it('an output that appears meanwhile is not replaced: OUTPUT_EXISTS, and it is kept', async () => {
    const at = await folder();
    await writeFile(join(at, 'p'), 'mine');
    await expect(encryptFile(join(at, 'p'), { keyring: meanwhileKeyring(() => writeFile(join(at, 'p.kenv'), 'theirs')), pool })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readFile(join(at, 'p.kenv'), 'utf8')).toBe('theirs');
  });

  it('on a pipe (the stream path), an output that appears meanwhile is not replaced either', async () => {
    const at = await folder();
    await writeFile(join(at, 'src'), 'mine');
    execFileSync('mkfifo', [join(at, 'pipe')]);
    const writer = spawn('cp', [join(at, 'src'), join(at, 'pipe')], { stdio: 'ignore' });
    try {
      const theirs = meanwhileKeyring(() => writeFile(join(at, 'pipe.kenv'), 'theirs'));
      await expect(encryptFile(join(at, 'pipe'), { keyring: theirs, pool })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
      expect(await readFile(join(at, 'pipe.kenv'), 'utf8')).toBe('theirs');
    } finally {
      writer.kill();
    }
  });

  it('a regular file removed: INPUT_NOT_FOUND naming it, and no output', async () => {
    const at = await folder();
    const input = join(at, 'p');
    await writeFile(input, 'gone soon');
    await expect(encryptFile(input, { keyring: meanwhileKeyring(() => rm(input)), pool })).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
      message: `${input} does not exist. Check the name and the folder.`,
    });
    expect(await readdir(at)).toEqual([]);
  });

  it('a regular file replaced by a folder: INPUT_UNREADABLE with the reason, and no output', async () => {
    const at = await folder();
    const input = join(at, 'p');
    await writeFile(input, randomBytes(FRAME));
    const swap = async (): Promise<void> => {
      await rm(input);
      await mkdir(input);
    };
    await expect(encryptFile(input, { keyring: meanwhileKeyring(swap), frameLength: FRAME, pool })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: `Cannot read ${input}: it is a folder.`,
      cause: expect.objectContaining({ code: 'EISDIR' }),
    });
    expect(await readdir(at)).toEqual(['p']);
  });

  it('a pipe removed (the stream path): INPUT_UNREADABLE with the reason, and no output', async () => {
    const at = await folder();
    const input = join(at, 'pipe');
    execFileSync('mkfifo', [input]);
    await expect(encryptFile(input, { keyring: meanwhileKeyring(() => rm(input)), pool })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: `Cannot read ${input}: it does not exist.`,
      cause: expect.objectContaining({ code: 'ENOENT', path: input }),
    });
    expect(await readdir(at)).toEqual([]);
  });
});

describe('a pipe (the stream path)', () => {
  it('replaces an existing output with force, and sealed what the pipe gave', async () => {
    const at = await folder();
    const plaintext = randomBytes(2 * FRAME);
    await writeFile(join(at, 'src'), plaintext);
    await writeFile(join(at, 'pipe.kenv'), 'old');
    execFileSync('mkfifo', [join(at, 'pipe')]);
    const writer = spawn('cp', [join(at, 'src'), join(at, 'pipe')], { stdio: 'ignore' });
    try {
      const { outputPath } = await encryptFile(join(at, 'pipe'), { keyring, frameLength: FRAME, pool, force: true });
      expect(await decryptBuffer(await readFile(outputPath), { keyring })).toEqual(plaintext);
    } finally {
      writer.kill();
    }
  });

  it('a cancelled run is CANCELLED and leaves no output', async () => {
    const at = await folder();
    execFileSync('mkfifo', [join(at, 'pipe')]);
    const writer = spawn('sh', ['-c', `exec cat /dev/zero > '${join(at, 'pipe')}'`], { stdio: 'ignore' });
    const controller = new AbortController();
    const onProgress = (): void => controller.abort();
    try {
      await expect(encryptFile(join(at, 'pipe'), { keyring, frameLength: FRAME, pool, signal: controller.signal, onProgress })).rejects.toMatchObject({
        code: 'CANCELLED',
        message: 'Cancelled; no output was kept.',
      });
      expect(await readdir(at)).toEqual(['pipe']);
    } finally {
      writer.kill();
    }
  });
});

describe('decryptFile on a damaged regular file: the stream\'s verdict, the keyring asked once, nothing kept', () => {
  const cases: [string, boolean, string, (m: Buffer, headerLength: number) => Buffer][] = [
    ['a flipped bit in a frame', false, 'FRAME_TAMPERED', (m, h) => flip(m, h + FRAME + REGULAR_FRAME_OVERHEAD + 40)],
    ['a flipped bit in the final frame', false, 'FRAME_TAMPERED', (m) => flip(m, m.length - 3)],
    ['one trailing byte', false, 'TRAILING_BYTES', (m) => Buffer.concat([m, Buffer.from([0])])],
    ['cut one byte short', false, 'TRUNCATED_BODY', (m) => m.subarray(0, m.length - 1)],
    ['cut 5 bytes after the header (no frame fits)', false, 'TRUNCATED_BODY', (m, h) => m.subarray(0, h + 5)],
    ['signed: a flipped bit in a frame', true, 'FRAME_TAMPERED', (m, h) => flip(m, h + 40)],
    ['signed: a flipped bit in the signature', true, 'BAD_SIGNATURE', (m) => flip(m, m.length - 10)],
    ['signed: cut inside the signature', true, 'TRUNCATED_FOOTER', (m) => m.subarray(0, m.length - 10)],
  ];
  for (const [name, sign, code, damage] of cases) {
    it(`${name}: ${code}`, async () => {
      const { folder: at, sealed } = await sealedFile(randomBytes(3 * FRAME + 7), { sign });
      const message = await readFile(sealed);
      const damaged = damage(message, parseHeader(message).bytes.length);
      await expect(decryptBuffer(damaged, { keyring, pool })).rejects.toMatchObject({ code });
      await writeFile(sealed, damaged);
      const k = counting();
      await expect(decryptFile(sealed, { keyring: k, pool })).rejects.toMatchObject({ code });
      // The offset path opened the data key (or gave way before it); the stream that names the fault reuses it.
      expect(k.unwraps).toBe(1);
      expect(await readdir(at)).toEqual(['plain.bin.kenv']);
    });
  }
});

describe('decryptFile reads a header longer than one read', () => {
  it('three 30 KB data keys: the header is read across reads and the file opens with the key', async () => {
    let dataKey: Buffer | undefined;
    const big: Keyring = {
      async wrapDataKey(req) {
        dataKey = randomBytes(32);
        const edk = (n: number): EncryptedDataKey => ({ providerId: 'kenv-test', providerInfo: Buffer.from(`big-${n}`), ciphertext: randomBytes(30_000) });
        void req;
        return { dataKey: Buffer.from(dataKey), edks: [edk(1), edk(2), edk(3)] };
      },
      async unwrapDataKey() {
        return Buffer.from(dataKey!);
      },
    };
    const plaintext = randomBytes(FRAME + 1);
    const at = await folder();
    await writeFile(join(at, 'p'), plaintext);
    const { outputPath } = await encryptFile(join(at, 'p'), { keyring: big, frameLength: FRAME, pool });
    await rm(join(at, 'p'));
    const k = counting(big);
    const seen: Progress[] = [];
    const opened = await decryptFile(outputPath, { keyring: k, pool, onProgress: (p) => seen.push({ ...p }) });
    // The offset path read the whole header (the stream would report its first read instead).
    expect(seen[0]?.bytesDone).toBe(parseHeader(await readFile(outputPath)).bytes.length);
    expect(opened.bytesOut).toBe(plaintext.length);
    expect(k.unwraps).toBe(1);
    expect((await readFile(join(at, 'p'))).equals(plaintext)).toBe(true);
  });
});

function flip(bytes: Buffer, at: number): Buffer {
  const out = Buffer.from(bytes);
  out[at]! ^= 0x01;
  return out;
}
