import { KenvError } from '../errors.js';
import type { EncryptionContext } from '../keyring/types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Serializes an encryption context the ESDK way: u16 pair count, then each pair as u16-prefixed UTF-8 key and value,
 * sorted by the key's bytes. An empty context serializes to no bytes at all.
 *
 * The same bytes are the header field, the raw AES keyring's AAD, and the "required context" appended to the
 * header authentication AAD, so this is the one place that defines them.
 */
export function serializeEncryptionContext(context: EncryptionContext): Buffer {
  const pairs = Object.entries(context).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  if (pairs.length === 0) return Buffer.alloc(0);
  if (pairs.length > 0xffff) throw new KenvError('INVALID_ARGUMENT', 'The encryption context has more than 65,535 pairs.');
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [u16(pairs.length)];
  for (const [k, v] of pairs) {
    if (k.length > 0xffff || v.length > 0xffff) {
      throw new KenvError('INVALID_ARGUMENT', 'An encryption context key or value is longer than 65,535 bytes.');
    }
    parts.push(u16(k.length), k, u16(v.length), v);
  }
  const out = Buffer.concat(parts);
  if (out.length > 0xffff) {
    throw new KenvError('INVALID_ARGUMENT', 'The encryption context is larger than 65,535 bytes once serialized; use fewer or shorter pairs.');
  }
  return out;
}

/** Parses the bytes `serializeEncryptionContext` writes; any structural fault is MALFORMED_HEADER. */
export function parseEncryptionContext(bytes: Buffer): EncryptionContext {
  const context: EncryptionContext = Object.create(null) as EncryptionContext;
  if (bytes.length === 0) return context;
  const bad = (why: string): never => {
    throw new KenvError('MALFORMED_HEADER', `The header's encryption context is malformed (${why}); the file is damaged or not a .kenv file.`);
  };
  if (bytes.length < 2) bad('too short');
  const count = bytes.readUInt16BE(0);
  if (count === 0) bad('a pair count of 0 must be written as an empty field');
  let at = 2;
  for (let i = 0; i < count; i++) {
    const k = take(bytes, at) ?? bad('a key runs past the field');
    at = k.next;
    const v = take(bytes, at) ?? bad('a value runs past the field');
    at = v.next;
    let key: string;
    let value: string;
    try {
      key = utf8.decode(k.value);
      value = utf8.decode(v.value);
    } catch {
      return bad('a key or value is not UTF-8');
    }
    if (Object.prototype.hasOwnProperty.call(context, key)) bad(`the key "${key}" appears twice`);
    context[key] = value;
  }
  if (at !== bytes.length) bad('bytes follow the last pair');
  return context;
}

function take(bytes: Buffer, at: number): { value: Buffer; next: number } | undefined {
  if (at + 2 > bytes.length) return undefined;
  const len = bytes.readUInt16BE(at);
  if (at + 2 + len > bytes.length) return undefined;
  return { value: bytes.subarray(at + 2, at + 2 + len), next: at + 2 + len };
}

export function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}
