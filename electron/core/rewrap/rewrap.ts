import { createReadStream } from 'node:fs';
import { chmod, type FileHandle, open } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtomicOutput } from '../atomic-output.js';
import { DecryptStream } from '../crypto/decrypt-stream.js';
import { createMessageSigner, createMessageVerifier, finishSignature, generateSigningKey, publicKeyFromContext, signatureVerifies } from '../crypto/signature.js';
import { KenvError } from '../errors.js';
import { u16 } from '../format/context.js';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, MAX_HEADER_LENGTH, type ParsedHeader, serializeHeaderBody, tryParseHeader } from '../format/header.js';
import { commitmentMatches, deriveKeys, headerAuthTag, headerAuthVerifies } from '../format/keys.js';
import { FINAL_FRAME_MARKER, IV_LENGTH, PUBLIC_KEY_CONTEXT_KEY, TAG_LENGTH } from '../format/suites.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';

export interface RewrapOptions {
  /** Opens the current data key (e.g. a discovery KmsKeyring). */
  from: Keyring;
  /** Wraps the data key for the new key(s), and must open the result (the check before replacing). */
  to: Keyring;
  /** Keep the existing wrapped data keys beside the new ones (not for signed messages: see rewrapFile). */
  keepOld?: boolean;
  /**
   * The most encrypted data keys the file may carry, before and after (the ESDK's maximum; default 10). The file is
   * refused above it before any KMS call, and so is a result that would exceed it.
   */
  maxEncryptedDataKeys?: number;
  /** How many data keys `to` adds (one per KMS key), so an over-full result is refused before any KMS call. */
  newDataKeys?: number;
}

export interface RewrapResult {
  path: string;
  messageId: string;
  signed: boolean;
  dataKeysBefore: number;
  dataKeysAfter: number;
}

const COPY_CHUNK = 1024 * 1024;

/**
 * Moves a .kenv file to other keys without re-encrypting its body.
 *
 * Opens the data key with `from`, checks the key commitment and the header tag, wraps the same data key with `to`,
 * and writes a new header (new data keys, new header tag) followed by the unchanged frames. A signed message gets a
 * new signing key: its public key is in the encryption context, so the header changes and the whole message is
 * re-signed, after the old signature is verified while copying. The new file is decrypted end to end with `to` before
 * it atomically replaces the original; on any failure the original is untouched.
 *
 * Not supported: `keepOld` for signed messages (the old data keys are bound to the old public key in the context;
 * rewrap to every key wanted instead), and messages whose header tag covers required-only encryption context.
 */
export async function rewrapFile(path: string, opts: RewrapOptions): Promise<RewrapResult> {
  const file = await open(path, 'r').catch((e: unknown) => {
    throw new KenvError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `Cannot read ${path}: ${(e as Error).message}.`, { cause: e });
  });
  try {
    const stats = await file.stat();
    // open() succeeds on a folder; its first read would fail with a bare EISDIR.
    if (stats.isDirectory()) throw new KenvError('INPUT_UNREADABLE', `${path} is a folder; give the files inside it.`);
    const size = stats.size;
    const max = opts.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS;
    const header = await readHeader(file, size, path, max);
    const signed = header.suite.signed;
    if (signed && opts.keepOld) {
      throw new KenvError(
        'INVALID_ARGUMENT',
        `${path} is signed, and re-signing binds its data keys to a new public key, so the old data keys cannot be kept. ` +
          'Rewrap to every key that should open it instead (repeat --to-key).',
      );
    }
    const after = (opts.keepOld ? header.encryptedDataKeys.length : 0) + (opts.newDataKeys ?? 0);
    if (after > max) throw tooManyAfter(path, header.encryptedDataKeys.length, after, max);
    const dataKey = await opts.from.unwrapDataKey({ suiteId: header.suite.id, context: header.encryptionContext, edks: header.encryptedDataKeys });
    let keys;
    try {
      keys = deriveKeys(dataKey, header.messageId, header.suite.id);
      if (!commitmentMatches(keys.commitment, header.commitment)) {
        throw new KenvError('COMMITMENT_MISMATCH', `The data key of ${path} does not match its key commitment: the file was altered. Nothing was changed.`);
      }
      if (!headerAuthVerifies(keys.encryptionKey, header.authenticatedBytes, Buffer.alloc(0), header.authTag)) {
        throw new KenvError('HEADER_TAMPERED', `The header of ${path} failed authentication (altered, or it needs required encryption context, which rewrap does not support). Nothing was changed.`);
      }
      const context: EncryptionContext = { ...header.encryptionContext };
      const signing = signed ? generateSigningKey() : undefined;
      if (signing) context[PUBLIC_KEY_CONTEXT_KEY] = signing.publicKeyBase64;
      const wrapped = await opts.to.wrapDataKey({ suiteId: header.suite.id, context, dataKey });
      wrapped.dataKey.fill(0);
      const edks = opts.keepOld ? [...header.encryptedDataKeys, ...wrapped.edks] : wrapped.edks;
      if (edks.length > max) throw tooManyAfter(path, header.encryptedDataKeys.length, edks.length, max);
      const body = serializeHeaderBody({
        suite: header.suite, messageId: header.messageId, encryptionContext: context, encryptedDataKeys: edks,
        frameLength: header.frameLength, commitment: header.commitment,
      });
      const newHeader = Buffer.concat([body, headerAuthTag(keys.encryptionKey, body, Buffer.alloc(0))]);
      const bodyEnd = signed ? await endOfBody(file, header, size, path) : size;

      const out = await AtomicOutput.create(path, { force: true });
      try {
        await pipeline(Readable.from(messageBytes(file, header, newHeader, bodyEnd, size, signing?.privateKey, path)), out.stream);
        await chmod(out.tempPath, (await file.stat()).mode & 0o777);
        await checkOpens(out.tempPath, opts.to, path, max);
        await out.commit();
      } catch (e) {
        await out.abort();
        throw e;
      }
      return { path, messageId: header.messageId.toString('hex'), signed, dataKeysBefore: header.encryptedDataKeys.length, dataKeysAfter: edks.length };
    } finally {
      dataKey.fill(0);
      keys?.encryptionKey.fill(0);
    }
  } finally {
    await file.close();
  }
}

/** The rewrapped file would carry more data keys than readers accept by default (or than the limit given). */
function tooManyAfter(path: string, before: number, after: number, max: number): KenvError {
  return new KenvError(
    'TOO_MANY_DATA_KEYS',
    `Rewrapping ${path} would leave ${after} encrypted data keys in it (${before} now), more than the limit of ${max}: ` +
      'decrypting it would then need --max-data-keys. Nothing was changed and KMS was not called. Rewrap without ' +
      `--keep-old, or to fewer keys, or raise the limit knowingly with --max-data-keys ${after}.`,
  );
}

async function readHeader(file: FileHandle, size: number, path: string, maxEncryptedDataKeys: number): Promise<ParsedHeader> {
  let length = Math.min(size, 64 * 1024);
  while (true) {
    const bytes = Buffer.alloc(length);
    await file.read(bytes, 0, length, 0);
    // The data key is opened next: the same cap on data keys as decryption, before any KMS call.
    const header = tryParseHeader(bytes, { maxEncryptedDataKeys });
    if (header) return header;
    if (length >= size || length >= MAX_HEADER_LENGTH) {
      throw new KenvError(size === 0 ? 'NOT_KENV' : 'TRUNCATED_HEADER', `${path} ends inside its header, so it cannot be rewrapped.`);
    }
    length = Math.min(size, length * 4, MAX_HEADER_LENGTH);
  }
}

/** Walks the frames by their lengths to find where the footer starts. */
async function endOfBody(file: FileHandle, header: ParsedHeader, size: number, path: string): Promise<number> {
  const word = Buffer.alloc(4);
  let at = header.bytes.length;
  while (true) {
    if (at + 4 > size) throw new KenvError('TRUNCATED_BODY', `${path} ends before its final frame.`);
    await file.read(word, 0, 4, at);
    if (word.readUInt32BE(0) === FINAL_FRAME_MARKER) {
      if (at + 4 + 4 + IV_LENGTH + 4 > size) throw new KenvError('TRUNCATED_BODY', `${path} ends inside its final frame.`);
      await file.read(word, 0, 4, at + 4 + 4 + IV_LENGTH);
      return at + 4 + 4 + IV_LENGTH + 4 + word.readUInt32BE(0) + TAG_LENGTH;
    }
    at += 4 + IV_LENGTH + header.frameLength + TAG_LENGTH;
  }
}

/** The new message: new header, the old frames byte for byte, and a new footer for signed messages. */
async function* messageBytes(
  file: FileHandle, header: ParsedHeader, newHeader: Buffer, bodyEnd: number, size: number,
  signingKey: import('node:crypto').KeyObject | undefined, path: string,
): AsyncGenerator<Buffer> {
  const verifier = signingKey ? createMessageVerifier() : undefined;
  const signer = signingKey ? createMessageSigner() : undefined;
  verifier?.update(header.bytes);
  signer?.update(newHeader);
  yield newHeader;
  for (let at = header.bytes.length; at < bodyEnd; at += COPY_CHUNK) {
    const chunk = Buffer.alloc(Math.min(COPY_CHUNK, bodyEnd - at));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, at);
    if (bytesRead !== chunk.length) throw new KenvError('TRUNCATED_BODY', `${path} ends before its final frame.`);
    verifier?.update(chunk);
    signer?.update(chunk);
    yield chunk;
  }
  if (!signingKey) return;
  const footer = Buffer.alloc(size - bodyEnd);
  await file.read(footer, 0, footer.length, bodyEnd);
  if (footer.length < 2 || footer.readUInt16BE(0) !== footer.length - 2) {
    throw new KenvError('TRUNCATED_FOOTER', `The signature footer of ${path} is cut short or followed by other bytes. Nothing was changed.`);
  }
  const publicKey = publicKeyFromContext(header.encryptionContext[PUBLIC_KEY_CONTEXT_KEY] ?? '');
  if (!signatureVerifies(verifier!, publicKey, footer.subarray(2))) {
    throw new KenvError('BAD_SIGNATURE', `The signature of ${path} does not verify: it was altered after it was signed. Nothing was changed.`);
  }
  const signature = finishSignature(signer!, signingKey);
  yield Buffer.concat([u16(signature.length), signature]);
}

/** Decrypts the rewrapped file end to end with the new keys, discarding the plaintext. */
async function checkOpens(tempPath: string, keyring: Keyring, path: string, maxEncryptedDataKeys: number): Promise<void> {
  const sink = new Writable({ write: (_chunk, _enc, callback) => callback() });
  try {
    await pipeline(createReadStream(tempPath), new DecryptStream({ keyring, maxEncryptedDataKeys }), sink);
  } catch (e) {
    const cause = e instanceof KenvError ? `${e.code}: ${e.message}` : String(e);
    throw new KenvError('OUTPUT_FAILED', `The rewrapped copy of ${path} did not decrypt with the new key (${cause}); the original was kept.`, { cause: e });
  }
}
