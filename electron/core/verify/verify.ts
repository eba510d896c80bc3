/**
 * Verifying .kenv files without writing plaintext anywhere.
 *
 * A verify is a decrypt whose plaintext goes nowhere: the same DecryptStream opens the data key with KMS, checks the
 * key commitment and the header, authenticates every frame and the signature, and its output is wiped and dropped
 * as it arrives. So a file verifies exactly when `kenv decrypt` would succeed, and fails with the same error code;
 * memory stays bounded by the stream's buffers, and no file (not even a temporary one) is created.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errnoCode, errnoText } from '../atomic-output.js';
import { DecryptStream } from '../crypto/decrypt-stream.js';
import type { FramePool } from '../crypto/frame-pool.js';
import { KenvError, toErrorInfo } from '../errors.js';
import type { ParsedHeader } from '../format/header.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';
import { walkObjects } from '../sync/list-objects.js';
import { parseS3Url } from '../sync/s3-client.js';
import { isPreconditionFailure, toSyncError } from '../sync/remote.js';

export interface VerifyOptions {
  keyring: Keyring;
  /** Pairs the files must carry, as for decrypt. */
  requiredContext?: EncryptionContext;
  /** Refuse a message with more encrypted data keys than this before any KMS call (default: the decrypt's 10). */
  maxEncryptedDataKeys?: number | undefined;
  pool?: FramePool;
  signal?: AbortSignal;
  /** Sees each authenticated plaintext chunk before it is wiped (import hashes them); never stores it. */
  onPlaintext?: (chunk: Buffer) => void;
}

/** One verified (or not) file or object. */
export type VerifyResult =
  | { target: string; ok: true; bytes: number; messageId: string }
  | { target: string; ok: false; error: ErrorInfo };

/**
 * Authenticates a whole message read from `input`: data key, commitment, header, every frame, the signature.
 *
 * Resolves with the ciphertext length and the header, or rejects with the KenvError decrypt gives.
 */
export async function verifyStream(input: Readable, opts: VerifyOptions): Promise<{ bytes: number; header: ParsedHeader }> {
  let header: ParsedHeader | undefined;
  const decrypt = new DecryptStream({
    keyring: opts.keyring,
    ...(opts.requiredContext ? { requiredContext: opts.requiredContext } : {}),
    ...(opts.maxEncryptedDataKeys !== undefined ? { maxEncryptedDataKeys: opts.maxEncryptedDataKeys } : {}),
    ...(opts.pool ? { pool: opts.pool } : {}),
    onHeader: (h) => (header = h),
  });
  await pipeline(input, decrypt, discardPlaintext(opts.onPlaintext), ...(opts.signal ? [{ signal: opts.signal }] : [])).catch((e: unknown) => {
    if (e instanceof KenvError) throw e;
    if (e instanceof Error && e.name === 'AbortError') throw new KenvError('CANCELLED', 'The verify was cancelled.');
    throw e;
  });
  return { bytes: decrypt.bytesIn, header: header! };
}

/** Verifies one local file; rejects with the same KenvError `decryptFile` would give. */
export async function verifyFile(path: string, opts: VerifyOptions): Promise<{ bytes: number; header: ParsedHeader }> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new KenvError('INPUT_UNREADABLE', `${path} is a folder; give the files inside it.`);
  } catch (e) {
    throw inputError(e, path);
  }
  const input = createReadStream(path, { highWaterMark: 1024 * 1024 });
  return verifyStream(input, opts).catch((e: unknown) => {
    throw inputError(e, path);
  });
}

/**
 * Verifies every target in turn: a `.kenv` file, `-` (standard input, read once as it arrives), a folder (every `*.kenv` below it, links not followed, Kenv's own
 * `.kenv-trash` and `.kenv-sync` folders skipped) or `s3://bucket/prefix` (every `*.kenv` object, each streamed
 * once). Each file gets a result through `onResult` and in the returned list; a target that yields no file at
 * all is a failure, so a mistyped folder or prefix never passes as "all verified".
 */
export async function verifyTargets(
  targets: readonly string[],
  opts: VerifyOptions & {
    s3?: () => Promise<S3Client>;
    onResult?: (r: VerifyResult) => void;
    /** What the target `-` reads (standard input), streamed once like an S3 object; without it `-` is refused. */
    stdin?: Readable;
  },
): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  const report = (r: VerifyResult): void => {
    results.push(r);
    opts.onResult?.(r);
  };
  const check = async (target: string, run: () => Promise<{ bytes: number; header: ParsedHeader }>): Promise<void> => {
    try {
      const { bytes, header } = await run();
      report({ target, ok: true, bytes, messageId: header.messageId.toString('hex') });
    } catch (e) {
      if (toErrorInfo(e).code === 'CANCELLED') throw e;
      report({ target, ok: false, error: toErrorInfo(e) });
    }
  };
  for (const target of targets) {
    let found = 0;
    try {
      if (target === '-') {
        if (!opts.stdin) throw new KenvError('INVALID_ARGUMENT', 'Standard input cannot be verified here.');
        const stdin = opts.stdin;
        found += 1;
        await check('-', () => verifyStream(stdin, opts));
      } else if (target.startsWith('s3://')) {
        if (!opts.s3) throw new KenvError('INVALID_ARGUMENT', 'S3 locations cannot be verified here.');
        const s3 = await opts.s3();
        const { bucket, prefix } = parseS3Url(target);
        for await (const key of listKenvObjects(s3, bucket, prefix, opts.signal)) {
          found += 1;
          await check(`s3://${bucket}/${key}`, () => verifyObject(s3, bucket, key, opts));
        }
      } else if (await isFolder(target)) {
        for await (const file of kenvFilesUnder(target)) {
          found += 1;
          await check(file, () => verifyFile(file, opts));
        }
      } else {
        found += 1;
        await check(target, () => verifyFile(target, opts));
      }
      if (found === 0) {
        throw new KenvError(
          'INPUT_NOT_FOUND',
          `No .kenv files were found in ${target}. Check the ${target.startsWith('s3://') ? 'bucket and prefix' : 'folder'}.`,
        );
      }
    } catch (e) {
      if (toErrorInfo(e).code === 'CANCELLED') throw e;
      report({ target, ok: false, error: toErrorInfo(target.startsWith('s3://') ? toSyncError(e, target) : e) });
    }
  }
  return results;
}

/** Streams one object through the verifier: one GET, nothing kept. */
async function verifyObject(s3: S3Client, bucket: string, key: string, opts: VerifyOptions): Promise<{ bytes: number; header: ParsedHeader }> {
  let body: Readable;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: opts.signal });
    body = out.Body as Readable;
  } catch (e) {
    throw objectError(e, `s3://${bucket}/${key}`);
  }
  try {
    return await verifyStream(body, opts);
  } catch (e) {
    if (e instanceof KenvError) throw e;
    throw objectError(e, `s3://${bucket}/${key}`);
  }
}

/**
 * An S3 failure while reading a listed object. An object gone (or replaced) since the listing gets verify's own
 * sentence: toSyncError's speaks of a sync, and verify changes nothing.
 */
function objectError(e: unknown, url: string): KenvError {
  // The name, not the 404 alone: a bucket that is gone answers 404 too (toSyncError says so).
  const gone = e instanceof Error && e.name === 'NoSuchKey';
  if (!gone && !isPreconditionFailure(e)) return toSyncError(e, url);
  return new KenvError(
    'SYNC_REMOTE_CHANGED',
    `${url} was removed or replaced on S3 after verify listed it, so it was not verified. Nothing was changed; run verify again to check what is there now.`,
    { cause: e },
  );
}

/**
 * The `.kenv` keys under `prefix`, a page at a time: the next page is asked for only when this one was verified, so
 * verify starts at once and holds no listing. Names sync would refuse are yielded too (verify checks them); a
 * listing that breaks off is an error (walkObjects), never a short list reported as all verified.
 */
async function* listKenvObjects(s3: S3Client, bucket: string, prefix: string, signal?: AbortSignal): AsyncGenerator<string> {
  for await (const page of walkObjects(s3, { bucket, prefix, signal })) {
    for (const { key } of page.keys) if (key.endsWith('.kenv')) yield key;
  }
}

const SKIPPED_FOLDERS = new Set(['.kenv-trash', '.kenv-sync']);

/** Every `*.kenv` regular file below `dir`, in name order; symbolic links are not followed. */
async function* kenvFilesUnder(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
    throw inputError(e, dir);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) yield* kenvFilesUnder(path);
    } else if (entry.isFile() && entry.name.toLowerCase().endsWith('.kenv')) {
      yield path;
    }
  }
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A sink that wipes each authenticated plaintext chunk and drops it. */
function discardPlaintext(look?: (chunk: Buffer) => void): Writable {
  return new Writable({
    highWaterMark: 4 * 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      look?.(chunk);
      chunk.fill(0);
      callback();
    },
  });
}

function inputError(e: unknown, path: string): unknown {
  if (e instanceof KenvError) return e;
  const code = errnoCode(e);
  if (code === 'ENOENT') return new KenvError('INPUT_NOT_FOUND', `${path} does not exist. Check the name and the folder.`);
  if (code) return new KenvError('INPUT_UNREADABLE', `Cannot read ${path}: ${errnoText(e, 'read')}.`, { cause: e });
  return e;
}
