import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtomicOutput, errnoCode, errnoText } from './atomic-output.js';
import { DecryptStream } from './crypto/decrypt-stream.js';
import { EncryptStream, prepareEncryption } from './crypto/encrypt-stream.js';
import type { FramePool } from './crypto/frame-pool.js';
import { KenvError } from './errors.js';
import { type ParsedHeader, tryParseHeader } from './format/header.js';
import { suiteHex } from './format/suites.js';
import { describeEdk } from './keyring/attempts.js';
import type { EncryptionContext, Keyring } from './keyring/types.js';

export const KENV_EXTENSION = '.kenv';
const READ_CHUNK = 1024 * 1024;

export interface Progress {
  bytesDone: number;
  bytesTotal: number | undefined;
}

interface CommonFileOptions {
  keyring: Keyring;
  /** Exact output path; otherwise the name is derived and placed in `outDir` or next to the input. */
  outputPath?: string;
  outDir?: string;
  /** Replace an existing output file. */
  force?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  pool?: FramePool;
}

export interface EncryptFileOptions extends CommonFileOptions {
  context?: EncryptionContext;
  frameLength?: number;
  sign?: boolean;
}

export interface DecryptFileOptions extends CommonFileOptions {
  requiredContext?: EncryptionContext;
}

/** What `kenv inspect` prints: the header, read without any KMS call. */
export interface MessageInfo {
  version: 2;
  suiteId: number;
  suiteName: string;
  signed: boolean;
  /** Hex. */
  messageId: string;
  encryptionContext: EncryptionContext;
  encryptedDataKeys: { providerId: string; keyArn?: string; keyName?: string }[];
  frameLength: number;
  headerLength: number;
}

/**
 * Encrypts a file to `FILE.kenv` (or `outputPath`), which appears only once it is complete and on disk.
 */
export async function encryptFile(
  inputPath: string,
  opts: EncryptFileOptions,
): Promise<{ outputPath: string; bytesIn: number; bytesOut: number; messageId: string }> {
  const size = await inputSize(inputPath);
  const outputPath = opts.outputPath ?? join(opts.outDir ?? dirname(inputPath), basename(inputPath) + KENV_EXTENSION);
  const materials = await prepareEncryption({ ...opts, ...(opts.pool ? { pool: opts.pool } : {}) });
  const encrypt = new EncryptStream(materials, opts.pool);
  const bytesOut = await writeAtomically(inputPath, size, encrypt, outputPath, opts);
  return { outputPath, bytesIn: size, bytesOut, messageId: materials.header.messageId.toString('hex') };
}

/**
 * Decrypts `FILE.kenv` to `FILE` (or `outputPath`). Plaintext reaches its final name only after every frame and
 * the signature verified; on any failure no output is left behind and the input is untouched.
 */
export async function decryptFile(
  inputPath: string,
  opts: DecryptFileOptions,
): Promise<{ outputPath: string; bytesOut: number; info: MessageInfo }> {
  const size = await inputSize(inputPath);
  const outputPath = opts.outputPath ?? join(opts.outDir ?? dirname(inputPath), decryptedName(inputPath));
  let header: ParsedHeader | undefined;
  const decrypt = new DecryptStream({
    keyring: opts.keyring,
    ...(opts.requiredContext ? { requiredContext: opts.requiredContext } : {}),
    ...(opts.pool ? { pool: opts.pool } : {}),
    onHeader: (h) => (header = h),
  });
  const bytesOut = await writeAtomically(inputPath, size, decrypt, outputPath, opts);
  return { outputPath, bytesOut, info: messageInfo(header!) };
}

/** The name a decrypted file gets: `report.pdf.kenv` → `report.pdf`; anything else gets `.decrypted`. */
export function decryptedName(inputPath: string): string {
  const name = basename(inputPath);
  return name.toLowerCase().endsWith(KENV_EXTENSION) && name.length > KENV_EXTENSION.length
    ? name.slice(0, -KENV_EXTENSION.length)
    : `${name}.decrypted`;
}

/** Reads and describes a message header without any KMS call. */
export async function inspectFile(path: string): Promise<MessageInfo> {
  await inputSize(path);
  const handle = await open(path, 'r');
  try {
    let bytes = Buffer.alloc(0);
    while (true) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, bytes.length);
      bytes = Buffer.concat([bytes, chunk.subarray(0, bytesRead)]);
      const header = tryParseHeader(bytes);
      if (header) return messageInfo(header);
      if (bytesRead === 0) {
        throw new KenvError(
          bytes.length === 0 ? 'NOT_KENV' : 'TRUNCATED_HEADER',
          bytes.length === 0 ? `${path} is empty, so it is not a .kenv file.` : `${path} ends inside its message header: it was cut short. Get a complete copy.`,
        );
      }
    }
  } finally {
    await handle.close();
  }
}

/** The header as `inspect` shows it. */
export function messageInfo(header: ParsedHeader): MessageInfo {
  return {
    version: 2,
    suiteId: header.suite.id,
    suiteName: `${suiteHex(header.suite.id)} ${header.suite.name}`,
    signed: header.suite.signed,
    messageId: header.messageId.toString('hex'),
    encryptionContext: { ...header.encryptionContext },
    encryptedDataKeys: header.encryptedDataKeys.map((edk) =>
      edk.providerId === 'aws-kms'
        ? { providerId: edk.providerId, keyArn: edk.providerInfo.toString('utf8') }
        : { providerId: edk.providerId, keyName: describeEdk(edk).replace(`raw AES key ${edk.providerId}/`, '') },
    ),
    frameLength: header.frameLength,
    headerLength: header.bytes.length,
  };
}

/** Streams `input` through `transform` to stdout-like `output` (for `-`): no atomic rename is possible there. */
export async function transformStream(input: Readable, transform: Transform, output: Writable, signal?: AbortSignal): Promise<void> {
  await pipeline(input, transform, output, ...(signal ? [{ signal }] : []));
}

async function writeAtomically(
  inputPath: string,
  size: number,
  transform: Transform,
  outputPath: string,
  opts: CommonFileOptions,
): Promise<number> {
  const out = await AtomicOutput.create(outputPath, { force: opts.force ?? false });
  let bytesOut = 0;
  let bytesDone = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      bytesOut += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    const input = createReadStream(inputPath, { highWaterMark: READ_CHUNK });
    if (opts.onProgress) {
      const report = opts.onProgress;
      input.on('data', (chunk) => {
        bytesDone += chunk.length;
        report({ bytesDone, bytesTotal: size });
      });
    }
    await pipeline(input, transform, counter, out.stream, ...(opts.signal ? [{ signal: opts.signal }] : [])).catch((e: unknown) => {
      throw fileError(e, inputPath, outputPath);
    });
    await out.commit();
    return bytesOut;
  } catch (e) {
    await out.abort();
    throw e;
  }
}

async function inputSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new KenvError('INPUT_UNREADABLE', `${path} is a folder; give the files inside it.`);
    return s.size;
  } catch (e) {
    if (e instanceof KenvError) throw e;
    if (errnoCode(e) === 'ENOENT') throw new KenvError('INPUT_NOT_FOUND', `${path} does not exist. Check the name and the folder.`);
    throw new KenvError('INPUT_UNREADABLE', `Cannot read ${path}: ${errnoText(e)}.`, { cause: e });
  }
}

function fileError(e: unknown, inputPath: string, outputPath: string): unknown {
  if (e instanceof KenvError) return e;
  if (e instanceof Error && e.name === 'AbortError') return new KenvError('CANCELLED', 'Cancelled; no output was kept.');
  const code = errnoCode(e);
  if (code && e && typeof e === 'object' && 'path' in e && e.path === inputPath) {
    return new KenvError('INPUT_UNREADABLE', `Cannot read ${inputPath}: ${errnoText(e)}.`, { cause: e });
  }
  if (code) return new KenvError('OUTPUT_FAILED', `Cannot write ${outputPath}: ${errnoText(e)}. No output was kept.`, { cause: e });
  return e;
}
