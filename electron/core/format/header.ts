import { KenvError } from '../errors.js';
import type { EncryptedDataKey, EncryptionContext } from '../keyring/types.js';
import { parseEncryptionContext, serializeEncryptionContext, u16, u32 } from './context.js';
import {
  type AlgorithmSuite,
  COMMITMENT_LENGTH,
  CONTENT_TYPE_FRAMED,
  CONTENT_TYPE_NON_FRAMED,
  FORMAT_VERSION,
  MESSAGE_ID_LENGTH,
  NON_COMMITTING_SUITE_IDS,
  PUBLIC_KEY_CONTEXT_KEY,
  TAG_LENGTH,
  suiteById,
  suiteHex,
} from './suites.js';

/** Largest header Kenv buffers before giving up: real headers are a few hundred bytes to a few KiB. */
export const MAX_HEADER_LENGTH = 1024 * 1024;
/** Largest frame length Kenv reads: a frame is held in memory until its tag verifies. */
export const MAX_FRAME_LENGTH = 0x7fffffff;
/**
 * How many encrypted data keys a message may hold before decryption refuses it. Each one can be a KMS Decrypt call
 * made (and logged in CloudTrail) under the user's identity, so a crafted header must not choose how many.
 */
export const DEFAULT_MAX_ENCRYPTED_DATA_KEYS = 10;
/** The format's own limit (a u16 count): a cap of this many is no cap. */
export const FORMAT_MAX_ENCRYPTED_DATA_KEYS = 0xffff;

export interface HeaderParseOptions {
  /**
   * Refuse (TOO_MANY_DATA_KEYS) a header with more encrypted data keys than this, as soon as the count is read.
   * Absent: no limit beyond the format's (inspecting a header calls no keyring).
   */
  maxEncryptedDataKeys?: number;
}

/** A parsed version 2 header. */
export interface ParsedHeader {
  suite: AlgorithmSuite;
  messageId: Buffer;
  encryptionContext: EncryptionContext;
  encryptedDataKeys: EncryptedDataKey[];
  frameLength: number;
  commitment: Buffer;
  authTag: Buffer;
  /** The header bytes up to the auth tag: what the tag authenticates. */
  authenticatedBytes: Buffer;
  /** The whole header, auth tag included: what a signature covers first. */
  bytes: Buffer;
}

class NeedMore extends Error {}

/** A cursor over header bytes that signals "need more input" instead of reading past the end. */
class Reader {
  at = 0;
  constructor(readonly bytes: Buffer) {}
  need(n: number): void {
    if (this.at + n > this.bytes.length) throw new NeedMore();
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.bytes.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.bytes.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  take(n: number): Buffer {
    this.need(n);
    const v = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  takeU16Prefixed(): Buffer {
    return this.take(this.u16());
  }
}

const malformed = (what: string): KenvError =>
  new KenvError('MALFORMED_HEADER', `The header is malformed: ${what}. The file is damaged, or it was not written by an AWS Encryption SDK.`);

/**
 * Parses a header from the start of `bytes`, or returns undefined when more bytes are needed.
 *
 * Every structural fault is a KenvError with its own code; nothing here is authenticated yet.
 */
export function tryParseHeader(bytes: Buffer, opts: HeaderParseOptions = {}): ParsedHeader | undefined {
  const r = new Reader(bytes);
  try {
    const version = r.u8();
    if (version === 0x01) {
      throw new KenvError(
        'NO_KEY_COMMITMENT',
        'This is an AWS Encryption SDK message of format version 1, whose suites have no key commitment; Kenv refuses them because a crafted message could decrypt to different plaintexts under different keys. Decrypt it with the AWS Encryption SDK and re-encrypt it with Kenv.',
      );
    }
    if (version !== FORMAT_VERSION) {
      throw new KenvError(
        version === 0x80 ? 'UNSUPPORTED_VERSION' : 'NOT_KENV',
        version === 0x80
          ? 'This message uses format version 0x80, which Kenv does not read.'
          : `This is not a .kenv file: it starts with byte 0x${version.toString(16).padStart(2, '0')}, not an AWS Encryption SDK message version. Check that you picked the right file.`,
      );
    }
    const suiteId = r.u16();
    const suite = suiteById(suiteId);
    if (!suite) {
      if (NON_COMMITTING_SUITE_IDS.has(suiteId)) {
        throw new KenvError(
          'NO_KEY_COMMITMENT',
          `The message uses algorithm suite ${suiteHex(suiteId)}, which has no key commitment; Kenv reads only the committing suites 0x0478 and 0x0578. Re-encrypt the file with a current AWS Encryption SDK or with Kenv.`,
        );
      }
      throw new KenvError(
        'UNSUPPORTED_SUITE',
        `The message names algorithm suite ${suiteHex(suiteId)}, which is not an AWS Encryption SDK suite Kenv knows; the file is damaged or not a .kenv file.`,
      );
    }
    const messageId = r.take(MESSAGE_ID_LENGTH);
    const contextBytes = r.takeU16Prefixed();
    const encryptionContext = parseEncryptionContext(contextBytes);
    checkSigningKeyRule(suite, encryptionContext);
    const edkCount = r.u16();
    if (edkCount === 0) throw malformed('it holds no encrypted data keys');
    if (opts.maxEncryptedDataKeys !== undefined && edkCount > opts.maxEncryptedDataKeys) throw tooManyDataKeys(edkCount, opts.maxEncryptedDataKeys);
    const encryptedDataKeys: EncryptedDataKey[] = [];
    for (let i = 0; i < edkCount; i++) {
      const providerId = r.takeU16Prefixed();
      const providerInfo = r.takeU16Prefixed();
      const ciphertext = r.takeU16Prefixed();
      encryptedDataKeys.push({ providerId: providerId.toString('utf8'), providerInfo, ciphertext });
    }
    const contentType = r.u8();
    if (contentType === CONTENT_TYPE_NON_FRAMED) throw malformed('its content is not framed, which format version 2 never writes');
    if (contentType !== CONTENT_TYPE_FRAMED) throw malformed(`content type 0x${contentType.toString(16)} is unknown`);
    const frameLength = r.u32();
    if (frameLength === 0 || frameLength > MAX_FRAME_LENGTH) throw malformed(`frame length ${frameLength} is out of range`);
    const commitment = r.take(COMMITMENT_LENGTH);
    const authenticatedEnd = r.at;
    const authTag = r.take(TAG_LENGTH);
    return {
      suite,
      messageId,
      encryptionContext,
      encryptedDataKeys,
      frameLength,
      commitment,
      authTag,
      authenticatedBytes: bytes.subarray(0, authenticatedEnd),
      bytes: bytes.subarray(0, r.at),
    };
  } catch (e) {
    if (e instanceof NeedMore) {
      if (bytes.length >= MAX_HEADER_LENGTH) throw malformed('it is larger than 1 MiB');
      return undefined;
    }
    throw e;
  }
}

/**
 * The ESDK's rule for the reserved `aws-crypto-public-key` context key (default CMM, Decrypt Materials): a signed
 * suite must carry it, an unsigned suite must not. The second is what a stripped signature looks like: someone who
 * can decrypt the data key of a signed message rewrote it under the unsigned suite with the same key and context.
 */
function checkSigningKeyRule(suite: AlgorithmSuite, context: EncryptionContext): void {
  const hasKey = Object.prototype.hasOwnProperty.call(context, PUBLIC_KEY_CONTEXT_KEY);
  if (suite.signed && !context[PUBLIC_KEY_CONTEXT_KEY]) {
    throw malformed(`suite ${suiteHex(suite.id)} is signed but the encryption context holds no ${PUBLIC_KEY_CONTEXT_KEY}`);
  }
  if (!suite.signed && hasKey) {
    throw new KenvError(
      'SIGNATURE_STRIPPED',
      `The message uses the unsigned suite ${suiteHex(suite.id)}, but its encryption context holds ${PUBLIC_KEY_CONTEXT_KEY}, the verification key of a signed message: its signature was removed, and its content may have been replaced by anyone able to decrypt its data key. Nothing was decrypted; do not trust this file.`,
    );
  }
}

function tooManyDataKeys(count: number, limit: number): KenvError {
  return new KenvError(
    'TOO_MANY_DATA_KEYS',
    `The message holds ${count.toLocaleString('en-US')} encrypted data keys, more than the limit of ${limit.toLocaleString('en-US')}: opening each could be a KMS Decrypt call logged under your identity. Nothing was sent to KMS. If you trust this file, raise the limit (kenv decrypt --max-data-keys ${count}, or "Most data keys per file" in the app's settings).`,
  );
}

/** Parses a complete header; fewer bytes than a header is TRUNCATED_HEADER. */
export function parseHeader(bytes: Buffer, opts: HeaderParseOptions = {}): ParsedHeader {
  const header = tryParseHeader(bytes, opts);
  if (!header) {
    throw new KenvError(
      bytes.length === 0 ? 'NOT_KENV' : 'TRUNCATED_HEADER',
      bytes.length === 0
        ? 'The file is empty, so it is not a .kenv file.'
        : `The file ends inside the message header after ${bytes.length} bytes: it was cut short (an interrupted copy or download), or a length field in the header was altered. Get a complete copy of the file.`,
    );
  }
  return header;
}

/** The header fields Kenv writes, before the commitment and auth tag are known. */
export interface HeaderFields {
  suite: AlgorithmSuite;
  messageId: Buffer;
  encryptionContext: EncryptionContext;
  encryptedDataKeys: readonly EncryptedDataKey[];
  frameLength: number;
  commitment: Buffer;
}

/** Serializes the authenticated part of a header (everything but the auth tag). */
export function serializeHeaderBody(fields: HeaderFields): Buffer {
  const context = serializeEncryptionContext(fields.encryptionContext);
  const parts: Buffer[] = [
    Buffer.from([FORMAT_VERSION]),
    u16(fields.suite.id),
    fields.messageId,
    u16(context.length),
    context,
    u16(fields.encryptedDataKeys.length),
  ];
  for (const edk of fields.encryptedDataKeys) {
    const id = Buffer.from(edk.providerId, 'utf8');
    for (const field of [id, edk.providerInfo, edk.ciphertext]) {
      if (field.length > 0xffff) throw new KenvError('INVALID_ARGUMENT', 'An encrypted data key field is longer than 65,535 bytes.');
      parts.push(u16(field.length), field);
    }
  }
  parts.push(Buffer.from([CONTENT_TYPE_FRAMED]), u32(fields.frameLength), fields.commitment);
  return Buffer.concat(parts);
}
