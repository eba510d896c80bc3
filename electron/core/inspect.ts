/**
 * `kenv inspect`: a message header read and described without any KMS call, and without loading the codecs.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import { errnoCode, errnoText } from './atomic-output.js';
import { KenvError } from './errors.js';
import { type HeaderParseOptions, type ParsedHeader, tryParseHeader } from './format/header.js';
import { suiteHex } from './format/suites.js';
import { describeEdk } from './keyring/attempts.js';
import type { EncryptionContext } from './keyring/types.js';

/** What `kenv inspect` prints: the header, read without any KMS call. */
export interface MessageInfo {
  version: 2;
  suiteId: number;
  suiteName: string;
  signed: boolean;
  /** Hex. */
  messageId: string;
  encryptionContext: EncryptionContext;
  encryptedDataKeys: { providerId: string; keyArn?: string; keyName?: string; keyKind?: 'raw AES' | 'raw RSA' }[];
  frameLength: number;
  headerLength: number;
}

/** Reads and describes a message header without any KMS call. */
export async function inspectFile(path: string): Promise<MessageInfo> {
  await inputSize(path);
  const handle = await open(path, 'r');
  try {
    const { header, length } = await readHeaderFrom(handle);
    if (header) return messageInfo(header);
    throw new KenvError(
      length === 0 ? 'NOT_KENV' : 'TRUNCATED_HEADER',
      length === 0 ? `${path} is empty, so it is not a .kenv file.` : `${path} ends inside its message header: it was cut short. Get a complete copy.`,
    );
  } finally {
    await handle.close();
  }
}

/**
 * Reads and describes the message header at the start of a stream (`kenv inspect -`), without any KMS call: reads
 * until the header parses, and no further.
 */
export async function inspectStream(input: AsyncIterable<Buffer | string>, name = 'Standard input'): Promise<MessageInfo> {
  const { header, length } = await readHeader(input);
  if (header) return messageInfo(header);
  throw new KenvError(
    length === 0 ? 'NOT_KENV' : 'TRUNCATED_HEADER',
    length === 0 ? `${name} is empty, so it is not a .kenv message.` : `${name} ends inside its message header: it was cut short. Give a complete copy.`,
  );
}

/**
 * The message header at the start of `handle`, read in 64 KiB steps until it parses; `header` is undefined when the
 * file ends first (`length` bytes in all). Bytes that cannot begin a message throw the parser's error.
 */
export function readHeaderFrom(handle: FileHandle, opts: HeaderParseOptions = {}): Promise<{ header: ParsedHeader | undefined; length: number }> {
  return readHeader(chunksOf(handle), opts);
}

/** The file's bytes from its start, 64 KiB a read. */
async function* chunksOf(handle: FileHandle): AsyncGenerator<Buffer> {
  for (let position = 0; ; ) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield chunk.subarray(0, bytesRead);
  }
}

/** The message header at the start of `chunks`, read until it parses; undefined when they end first (`length` bytes). */
async function readHeader(chunks: AsyncIterable<Buffer | string>, opts: HeaderParseOptions = {}): Promise<{ header: ParsedHeader | undefined; length: number }> {
  let bytes = Buffer.alloc(0);
  for await (const chunk of chunks) {
    bytes = Buffer.concat([bytes, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    const header = tryParseHeader(bytes, opts);
    if (header) return { header, length: bytes.length };
  }
  return { header: undefined, length: bytes.length };
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
      edk.providerId === 'aws-kms' || edk.providerId === 'aws-kms-rsa'
        ? { providerId: edk.providerId, keyArn: edk.providerInfo.toString('utf8') }
        : {
            providerId: edk.providerId,
            keyName: describeEdk(edk).replace(/^raw (AES|RSA) key /, '').slice(edk.providerId.length + 1),
            keyKind: describeEdk(edk).startsWith('raw RSA') ? ('raw RSA' as const) : ('raw AES' as const),
          },
    ),
    frameLength: header.frameLength,
    headerLength: header.bytes.length,
  };
}

/** The size of an input file, and whether it is a regular file; a missing or unreadable one is a KenvError naming it. */
export async function inputSize(path: string): Promise<{ size: number; regular: boolean }> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new KenvError('INPUT_UNREADABLE', `${path} is a folder; give the files inside it.`);
    return { size: s.size, regular: s.isFile() };
  } catch (e) {
    if (e instanceof KenvError) throw e;
    if (errnoCode(e) === 'ENOENT') throw new KenvError('INPUT_NOT_FOUND', `${path} does not exist. Check the name and the folder.`);
    throw new KenvError('INPUT_UNREADABLE', `Cannot read ${path}: ${errnoText(e, 'read')}.`, { cause: e });
  }
}
