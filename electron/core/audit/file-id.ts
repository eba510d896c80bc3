import { randomBytes } from 'node:crypto';
import type { EncryptionContext } from '../keyring/types.js';

/**
 * The encryption context key of a file's audit id.
 *
 * KMS records the encryption context of every Decrypt in CloudTrail, so a random id per file there tells which file
 * was opened, by whom and when. The id is opaque on purpose: the context is stored in the clear in the header and
 * in CloudTrail, so it must never carry the file's name.
 */
export const FILE_ID_CONTEXT_KEY = 'kenv:file-id';

/** A new audit id: 128 random bits, hex. */
export function newFileId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The context with a fresh audit id added, or unchanged when it has one already (re-encrypting a file in place
 * keeps its id, as rewrap does).
 */
export function withFileId(context: EncryptionContext = {}): EncryptionContext {
  if (Object.prototype.hasOwnProperty.call(context, FILE_ID_CONTEXT_KEY)) return { ...context };
  return { ...context, [FILE_ID_CONTEXT_KEY]: newFileId() };
}

/** The audit id a header's context carries, if any. */
export function fileIdOf(context: EncryptionContext): string | undefined {
  return Object.prototype.hasOwnProperty.call(context, FILE_ID_CONTEXT_KEY) ? context[FILE_ID_CONTEXT_KEY] : undefined;
}
