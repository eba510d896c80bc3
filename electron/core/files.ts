import { constants, createReadStream, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtomicOutput, errnoCode, errnoText, refuseExisting } from './atomic-output.js';
import { type DecryptOptions, DecryptStream, badSignature, openMessageKey } from './crypto/decrypt-stream.js';
import { EncryptStream, type EncryptionMaterials, prepareEncryption } from './crypto/encrypt-stream.js';
import { type BodyLayout, FrameCheckFailed, bodyLayout, decryptFileAt, encryptFileAt, signedLayout } from './crypto/file-codec.js';
import { createMessageSigner, createMessageVerifier, finishSignature, publicKeyFromContext, signatureVerifies } from './crypto/signature.js';
import { u16 } from './format/context.js';
import { PUBLIC_KEY_CONTEXT_KEY } from './format/suites.js';
import { FileSideError } from './crypto/file-frames.js';
import { type FramePool, sharedFramePool } from './crypto/frame-pool.js';
import { withFileId } from './audit/file-id.js';
import { type MessageInfo, inputSize, messageInfo, readHeaderFrom } from './inspect.js';
import { KenvError } from './errors.js';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, type ParsedHeader } from './format/header.js';
import { openPartial, sweepFolderOnce, untrackPartial } from './partials.js';
import type { EncryptionContext, Keyring, UnwrapRequest } from './keyring/types.js';

export { type MessageInfo, inputSize, inspectFile, messageInfo } from './inspect.js';

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
  /** Add a random `kenv:file-id` audit id to the encryption context (kept when the context has one). */
  fileId?: boolean;
}

export interface DecryptFileOptions extends CommonFileOptions {
  requiredContext?: EncryptionContext;
  /** Refuse messages with more encrypted data keys, before any KMS call (default 10; see DecryptOptions). */
  maxEncryptedDataKeys?: number;
}

/**
 * Encrypts a file to `FILE.kenv` (or `outputPath`), which appears only once it is complete and on disk.
 */
export async function encryptFile(
  inputPath: string,
  opts: EncryptFileOptions,
): Promise<{ outputPath: string; bytesIn: number; bytesOut: number; messageId: string }> {
  const { size, regular } = await inputSize(inputPath);
  const outputPath = opts.outputPath ?? join(opts.outDir ?? dirname(inputPath), basename(inputPath) + KENV_EXTENSION);
  // Checked again, race-free, when the output is created; checking here first saves a KMS call.
  await refuseExisting(outputPath, opts.force ?? false);
  if (opts.outDir || opts.outputPath) await makeOutputFolder(dirname(outputPath));
  const materials = await prepareEncryption(opts.fileId ? { ...opts, context: withFileId(opts.context) } : opts);
  const messageId = materials.header.messageId.toString('hex');
  if (regular) {
    const done = await encryptAtOffsets(inputPath, materials, outputPath, opts);
    return { outputPath, ...done, messageId };
  }
  const encrypt = new EncryptStream(materials, opts.pool);
  const bytesOut = await writeAtomically(inputPath, size, encrypt, outputPath, opts);
  return { outputPath, bytesIn: size, bytesOut, messageId };
}

/**
 * Decrypts `FILE.kenv` to `FILE` (or `outputPath`). Plaintext reaches its final name only after every frame and
 * the signature verified; on any failure no output is left behind and the input is untouched.
 */
export async function decryptFile(
  inputPath: string,
  opts: DecryptFileOptions,
): Promise<{ outputPath: string; bytesOut: number; info: MessageInfo }> {
  const { size, regular } = await inputSize(inputPath);
  const outputPath = opts.outputPath ?? join(opts.outDir ?? dirname(inputPath), decryptedName(inputPath));
  if (opts.outDir || opts.outputPath) await makeOutputFolder(dirname(outputPath));
  // The fast path may give way to the stream after the data key was opened: the key is then opened only once.
  const keyring = new OnceKeyring(opts.keyring);
  try {
    if (regular) {
      const done = await decryptAtOffsets(inputPath, keyring, outputPath, opts);
      if (done) return { outputPath, bytesOut: done.bytesOut, info: messageInfo(done.header) };
    }
    let header: ParsedHeader | undefined;
    const decrypt = new DecryptStream({
      keyring,
      ...(opts.requiredContext ? { requiredContext: opts.requiredContext } : {}),
      ...(opts.pool ? { pool: opts.pool } : {}),
      ...(opts.maxEncryptedDataKeys !== undefined ? { maxEncryptedDataKeys: opts.maxEncryptedDataKeys } : {}),
      onHeader: (h) => (header = h),
    });
    const bytesOut = await writeAtomically(inputPath, size, decrypt, outputPath, opts);
    return { outputPath, bytesOut, info: messageInfo(header!) };
  } finally {
    keyring.wipe();
  }
}

/** The name a decrypted file gets: `report.pdf.kenv` → `report.pdf`; anything else gets `.decrypted`. */
export function decryptedName(inputPath: string): string {
  const name = basename(inputPath);
  return name.toLowerCase().endsWith(KENV_EXTENSION) && name.length > KENV_EXTENSION.length
    ? name.slice(0, -KENV_EXTENSION.length)
    : `${name}.decrypted`;
}

/** Streams `input` through `transform` to stdout-like `output` (for `-`): no atomic rename is possible there. */
export async function transformStream(input: Readable, transform: Transform, output: Writable, signal?: AbortSignal): Promise<void> {
  await pipeline(input, transform, output, ...(signal ? [{ signal }] : []));
}

/**
 * Decrypts `input` to `output` releasing nothing until the whole message verified: every frame, the final frame,
 * no trailing bytes, and for a signed message the signature (`kenv decrypt - --buffer`).
 *
 * The plaintext waits in a file of `tempDir` (default: the OS temporary folder, TMPDIR), mode 0600, unlinked as soon
 * as it is open, so no name leads to it and it vanishes with the process however that ends. It needs free space
 * there as large as the plaintext. Holding a whole message in memory instead would not do for large files; reading
 * the input twice (verify, then decrypt) would be safe only for an input that cannot change between the passes,
 * which neither stdin nor a file another process may write is.
 */
export async function decryptStreamBuffered(
  input: Readable,
  output: Writable,
  opts: DecryptOptions & { tempDir?: string; signal?: AbortSignal },
): Promise<void> {
  const folder = opts.tempDir ?? tmpdir();
  await sweepFolderOnce(folder);
  let path: string | undefined;
  let writer: FileHandle | undefined;
  let reader: FileHandle | undefined;
  try {
    try {
      ({ path, handle: writer } = await openPartial(folder, constants.O_WRONLY));
      reader = await open(path, 'r');
    } catch (e) {
      throw new KenvError('OUTPUT_FAILED', `Cannot hold the plaintext for --buffer in ${folder}: ${errnoText(e)}. Set TMPDIR to a folder with room.`, { cause: e });
    }
    // Windows cannot unlink an open file: there the name stays until the end (and a signal handler removes it).
    if (await rm(path).then(() => true, () => false)) untrackPartial(path);
    const { tempDir: _tempDir, signal, ...decrypt } = opts;
    const abort = signal ? [{ signal }] : [];
    await pipeline(input, new DecryptStream(decrypt), writer.createWriteStream(), ...abort).catch((e: unknown) => {
      throw fileError(e, '', folder);
    });
    await pipeline(reader.createReadStream({ start: 0 }), output, ...abort);
  } finally {
    await writer?.close().catch(() => undefined);
    await reader?.close().catch(() => undefined);
    if (path) {
      await rm(path, { force: true }).catch(() => undefined);
      untrackPartial(path);
    }
  }
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

/**
 * Encrypts a regular file with every frame worker reading, sealing and writing its own batches at their offsets.
 *
 * Same output, same guarantees as the stream: temporary file, fsync, rename after the last frame. The size is
 * taken once the input is open; a file that changes size meanwhile is an error, not a silently cut message. A signed
 * message's body is hashed in order as it lands (read back from the output), and the footer written last.
 */
async function encryptAtOffsets(
  inputPath: string,
  materials: EncryptionMaterials,
  outputPath: string,
  opts: EncryptFileOptions,
): Promise<{ bytesIn: number; bytesOut: number }> {
  try {
    const out = await AtomicOutput.create(outputPath, { force: opts.force ?? false });
    try {
      const input = await openInput(inputPath);
      try {
        const size = (await input.stat()).size;
        const header = materials.header.bytes;
        await writeOutput(out, header, 0, outputPath);
        const signer = materials.signingKey ? createMessageSigner() : undefined;
        signer?.update(header);
        const report = opts.onProgress;
        report?.({ bytesDone: 0, bytesTotal: size });
        const body = await encryptFileAt(materials, input.fd, size, out.fd, {
          pool: opts.pool ?? sharedFramePool(),
          ...(report ? { onBatch: (done: number) => report({ bytesDone: done, bytesTotal: size }) } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(signer ? { bodyHash: signer } : {}),
        }).catch((e: unknown) => {
          throw codecError(e, inputPath, outputPath);
        });
        if ((await input.stat()).size !== size) throw inputChanged(inputPath);
        let footer = 0;
        if (signer && materials.signingKey) {
          const signature = finishSignature(signer, materials.signingKey);
          footer = 2 + signature.length;
          await writeOutput(out, Buffer.concat([u16(signature.length), signature]), header.length + body, outputPath);
        }
        await out.commit();
        return { bytesIn: size, bytesOut: header.length + body + footer };
      } finally {
        await input.close();
      }
    } catch (e) {
      await out.abort();
      throw e;
    }
  } finally {
    materials.encryptionKey.fill(0);
  }
}

/**
 * Decrypts a regular file with every frame worker reading, opening and writing its own batches at their offsets.
 *
 * The file's size fixes where every frame must be; each is checked to be that frame (sequence number, IV, final
 * marker and length) and authenticated, and the output is renamed into place only after all of them were, and for
 * a signed message only after the signature over the header and every frame (hashed in order from the input while
 * the workers open them) verified. Returns undefined when the stream must do the work instead: any frame that is
 * not what its place calls for, or a body whose footer cannot be found, so that the stream names the fault exactly.
 */
async function decryptAtOffsets(
  inputPath: string,
  keyring: Keyring,
  outputPath: string,
  opts: DecryptFileOptions,
): Promise<{ bytesOut: number; header: ParsedHeader } | undefined> {
  const out = await AtomicOutput.create(outputPath, { force: opts.force ?? false });
  let completed = false;
  try {
    const input = await openInput(inputPath);
    try {
      const size = (await input.stat()).size;
      const header = await readHeader(input, opts.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS);
      if (!header) return undefined;
      let layout: BodyLayout | undefined;
      let signed: { signature: Buffer; verify: (signature: Buffer) => boolean; hash: { update(data: Buffer): unknown } } | undefined;
      if (header.suite.signed) {
        const found = await signedLayout(header, input.fd, size - header.bytes.length).catch((e: unknown) => {
          throw codecError(e, inputPath, outputPath);
        });
        if (!found) return undefined;
        layout = found.layout;
        // As in the stream: a header whose verifying key is no P-384 point costs no keyring call.
        const publicKey = publicKeyFromContext(header.encryptionContext[PUBLIC_KEY_CONTEXT_KEY] ?? '');
        const verifier = createMessageVerifier();
        verifier.update(header.bytes);
        signed = { signature: found.signature, verify: (signature) => signatureVerifies(verifier, publicKey, signature), hash: verifier };
      } else {
        layout = bodyLayout(header, size - header.bytes.length);
      }
      if (!layout) return undefined;
      const key = await openMessageKey(header, keyring, opts.requiredContext ?? {});
      try {
        const report = opts.onProgress;
        report?.({ bytesDone: header.bytes.length, bytesTotal: size });
        const bytesOut = await decryptFileAt(header, key, layout, input.fd, out.fd, {
          pool: opts.pool ?? sharedFramePool(),
          ...(report ? { onBatch: (done: number) => report({ bytesDone: done, bytesTotal: size }) } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(signed ? { bodyHash: signed.hash } : {}),
        });
        if ((await input.stat()).size !== size) throw inputChanged(inputPath);
        if (signed && !signed.verify(signed.signature)) throw badSignature();
        await out.commit();
        completed = true;
        return { bytesOut, header };
      } catch (e) {
        if (e instanceof FrameCheckFailed) return undefined;
        throw codecError(e, inputPath, outputPath);
      } finally {
        key.fill(0);
      }
    } finally {
      await input.close();
    }
  } finally {
    if (!completed) await out.abort();
  }
}

/** The header at the start of a file, or undefined if none parses (the stream then reports why). */
async function readHeader(input: FileHandle, maxEncryptedDataKeys: number): Promise<ParsedHeader | undefined> {
  try {
    return (await readHeaderFrom(input, { maxEncryptedDataKeys })).header;
  } catch {
    return undefined;
  }
}

/**
 * A keyring that asks the one it wraps only once and then answers with a copy of the same data key.
 *
 * It lives for one decryptFile call, which `wipe`s it at the end.
 */
class OnceKeyring implements Keyring {
  private dataKey: Buffer | undefined;

  constructor(private readonly inner: Keyring) {}

  wrapDataKey(req: Parameters<Keyring['wrapDataKey']>[0]): ReturnType<Keyring['wrapDataKey']> {
    return this.inner.wrapDataKey(req);
  }

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    if (!this.dataKey) {
      const key = await this.inner.unwrapDataKey(req);
      this.dataKey = Buffer.from(key);
      key.fill(0);
    }
    return Buffer.from(this.dataKey);
  }

  wipe(): void {
    this.dataKey?.fill(0);
    this.dataKey = undefined;
  }
}

async function openInput(path: string): Promise<FileHandle> {
  return open(path, 'r').catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT') throw new KenvError('INPUT_NOT_FOUND', `${path} does not exist. Check the name and the folder.`);
    throw new KenvError('INPUT_UNREADABLE', `Cannot read ${path}: ${errnoText(e, 'read')}.`, { cause: e });
  });
}

async function writeOutput(out: AtomicOutput, bytes: Buffer, position: number, outputPath: string): Promise<void> {
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(out.fd, bytes, written, bytes.length - written, position + written);
  } catch (e) {
    throw new KenvError('OUTPUT_FAILED', `Cannot write ${outputPath}: ${errnoText(e)}. No output was kept.`, { cause: e });
  }
}

function inputChanged(path: string): KenvError {
  return new KenvError('INPUT_UNREADABLE', `${path} changed size while it was being read; nothing was written. Try again once nothing else writes to it.`);
}

/** Maps what the frame workers throw (I/O errors carry their side) to the errors the stream path gives. */
function codecError(e: unknown, inputPath: string, outputPath: string): unknown {
  if (e instanceof FileSideError) {
    if (e.code === 'ESHRUNK') return inputChanged(inputPath);
    return e.side === 'input'
      ? new KenvError('INPUT_UNREADABLE', `Cannot read ${inputPath}: ${errnoText(e, 'read')}.`, { cause: e })
      : new KenvError('OUTPUT_FAILED', `Cannot write ${outputPath}: ${errnoText(e)}. No output was kept.`, { cause: e });
  }
  return fileError(e, inputPath, outputPath);
}

function fileError(e: unknown, inputPath: string, outputPath: string): unknown {
  if (e instanceof KenvError) return e;
  if (e instanceof Error && e.name === 'AbortError') return new KenvError('CANCELLED', 'Cancelled; no output was kept.');
  const code = errnoCode(e);
  if (code && e && typeof e === 'object' && 'path' in e && e.path === inputPath) {
    return new KenvError('INPUT_UNREADABLE', `Cannot read ${inputPath}: ${errnoText(e, 'read')}.`, { cause: e });
  }
  if (code) return new KenvError('OUTPUT_FAILED', `Cannot write ${outputPath}: ${errnoText(e)}. No output was kept.`, { cause: e });
  return e;
}

/**
 * Makes the output folder `dir` and its missing parents, one level at a time; returns the folders it made, outermost
 * first (for removeEmptyFolders).
 *
 * Not `mkdir -p`: Node's recursive mkdir loops forever where a file system answers ENOENT under an existing parent
 * (procfs does, for /proc/anything). Each missing level is made on its own, so any refusal is an error naming the
 * folder, and the nearest existing ancestor must be a folder.
 */
export async function makeOutputFolder(dir: string): Promise<string[]> {
  const missing: string[] = [];
  let at = resolve(dir);
  while (true) {
    const info = await stat(at).catch((e: unknown) => {
      if (['ENOENT', 'ENOTDIR'].includes(errnoCode(e))) return undefined;
      throw folderError(dir, e);
    });
    if (info?.isDirectory()) break;
    if (info) throw new KenvError('OUTPUT_FAILED', `Cannot use ${dir} as the output folder: ${at} is a file, not a folder. Choose another folder with --out.`);
    missing.unshift(at);
    if (dirname(at) === at) break;
    at = dirname(at);
  }
  const created: string[] = [];
  for (const folder of missing) {
    try {
      await mkdir(folder);
      created.push(folder);
    } catch (e) {
      // Made meanwhile by someone else: fine, as long as it is a folder.
      if (errnoCode(e) === 'EEXIST' && (await stat(folder).then((s) => s.isDirectory(), () => false))) continue;
      await removeEmptyFolders(created);
      // ENOENT with the parent in place: the file system takes no new folders there (/proc).
      throw errnoCode(e) === 'ENOENT'
        ? new KenvError('OUTPUT_FAILED', `Cannot create the output folder ${dir}: ${dirname(folder)} does not take new folders. Choose another folder with --out.`)
        : folderError(dir, e);
    }
  }
  return created;
}

/** Removes folders makeOutputFolder made, innermost first, as long as they are empty: a folder with anything in it stays. */
export async function removeEmptyFolders(created: readonly string[]): Promise<void> {
  for (const folder of [...created].reverse()) {
    if (!(await rmdir(folder).then(() => true, () => false))) return;
  }
}

function folderError(dir: string, e: unknown): KenvError {
  return new KenvError('OUTPUT_FAILED', `Cannot create the output folder ${dir}: ${errnoText(e)}. Choose another folder with --out.`, { cause: e });
}
