import { describe, expect, it } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import { parseEncryptionContext, serializeEncryptionContext, u16, u32 } from '../../../../../electron/core/format/context.js';

// The encryption context codec: the bytes the header stores, the raw AES keyring binds and the header tag covers.

const pair = (k: Buffer | string, v: Buffer | string): Buffer => {
  const kb = Buffer.from(k);
  const vb = Buffer.from(v);
  return Buffer.concat([u16(kb.length), kb, u16(vb.length), vb]);
};

function malformed(bytes: Buffer): string {
  try {
    parseEncryptionContext(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(KenvError);
    expect((e as KenvError).code).toBe('MALFORMED_HEADER');
    return (e as KenvError).message;
  }
  throw new Error('it parsed');
}
const sentence = (why: string) => `The header's encryption context is malformed (${why}); the file is damaged or not a .kenv file.`;

describe('serializeEncryptionContext', () => {
  it('writes the pair count, then each pair sorted by the key bytes, each u16-prefixed UTF-8', () => {
    expect(serializeEncryptionContext({ b: '2', a: 'é' })).toEqual(Buffer.concat([u16(2), pair('a', 'é'), pair('b', '2')]));
    // By bytes, not by UTF-16 code units: U+FF61 (EF BD A1) sorts before U+10000 (F0 90 80 80) in both, U+E000 (EE 80 80)
    // after 'z'.
    expect(serializeEncryptionContext({ '\u{10000}': 'x', '\uE000': 'y', z: 'w' })).toEqual(
      Buffer.concat([u16(3), pair('z', 'w'), pair('\uE000', 'y'), pair('\u{10000}', 'x')]),
    );
  });

  it('writes an empty context as no bytes at all', () => {
    expect(serializeEncryptionContext({})).toEqual(Buffer.alloc(0));
  });

  it('refuses keys or values over 65,535 bytes and a context over 65,535 bytes in all', () => {
    expect(serializeEncryptionContext({ k: 'x'.repeat(0xffff - 7) })).toHaveLength(0xffff);
    for (const context of [{ ['k'.repeat(0x10000)]: 'v' }, { k: 'v'.repeat(0x10000) }]) {
      expect(() => serializeEncryptionContext(context)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'An encryption context key or value is longer than 65,535 bytes.' }),
      );
    }
    expect(() => serializeEncryptionContext({ k: 'x'.repeat(0xffff - 6) })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'The encryption context is larger than 65,535 bytes once serialized; use fewer or shorter pairs.' }),
    );
    // A key or value of exactly 65,535 bytes, or exactly 65,535 pairs, is within those limits (and then too large in all).
    const tooLarge = expect.objectContaining({ message: 'The encryption context is larger than 65,535 bytes once serialized; use fewer or shorter pairs.' });
    expect(() => serializeEncryptionContext({ ['k'.repeat(0xffff)]: 'v' })).toThrow(tooLarge);
    expect(() => serializeEncryptionContext({ k: 'v'.repeat(0xffff) })).toThrow(tooLarge);
    expect(() => serializeEncryptionContext(Object.fromEntries(Array.from({ length: 0xffff }, (_, i) => [String(i), ''])))).toThrow(tooLarge);
    const many = Object.fromEntries(Array.from({ length: 0x10000 }, (_, i) => [String(i), '']));
    expect(() => serializeEncryptionContext(many)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'The encryption context has more than 65,535 pairs.' }));
  });
});

describe('parseEncryptionContext', () => {
  it('reads what serialize writes, into an object with no inherited names', () => {
    const context = parseEncryptionContext(serializeEncryptionContext({ a: '1', 'aws-crypto-public-key': 'Ak', é: '' }));
    expect({ ...context }).toEqual({ a: '1', 'aws-crypto-public-key': 'Ak', é: '' });
    expect(Object.getPrototypeOf(context)).toBeNull();
    expect(Object.getPrototypeOf(parseEncryptionContext(Buffer.alloc(0)))).toBeNull();
    expect({ ...parseEncryptionContext(Buffer.alloc(0)) }).toEqual({});
  });

  it('reads a key named like an inherited property once, and refuses it twice', () => {
    expect({ ...parseEncryptionContext(Buffer.concat([u16(1), pair('constructor', 'x')])) }).toEqual({ constructor: 'x' });
    expect(malformed(Buffer.concat([u16(2), pair('a', '1'), pair('a', '2')]))).toBe(sentence('the key "a" appears twice'));
  });

  it('names each structural fault', () => {
    expect(malformed(Buffer.from([1]))).toBe(sentence('too short'));
    expect(malformed(u16(0))).toBe(sentence('a pair count of 0 must be written as an empty field'));
    expect(malformed(Buffer.concat([u16(2), pair('a', '1')]))).toBe(sentence('a key runs past the field'));
    expect(malformed(Buffer.concat([u16(1), pair('a', '1')]).subarray(0, 5))).toBe(sentence('a value runs past the field'));
    expect(malformed(Buffer.concat([u16(1), u16(1), Buffer.from('a'), u16(2), Buffer.from('1')]))).toBe(sentence('a value runs past the field'));
    expect(malformed(Buffer.concat([u16(1), u16(5), Buffer.from('a')]))).toBe(sentence('a key runs past the field'));
    expect(malformed(Buffer.concat([u16(1), pair('a', '1'), Buffer.from([0])]))).toBe(sentence('bytes follow the last pair'));
    expect(malformed(Buffer.concat([u16(1), pair(Buffer.from([0xff]), '1')]))).toBe(sentence('a key or value is not UTF-8'));
    expect(malformed(Buffer.concat([u16(1), pair('a', Buffer.from([0xc3]))]))).toBe(sentence('a key or value is not UTF-8'));
  });

  it('reads pairs that end exactly at the end of the field, empty keys and values included', () => {
    expect({ ...parseEncryptionContext(Buffer.concat([u16(2), pair('', ''), pair('b', '')])) }).toEqual({ '': '', b: '' });
  });
});

describe('u16 and u32', () => {
  it('write big-endian', () => {
    expect(u16(0x1234)).toEqual(Buffer.from([0x12, 0x34]));
    expect(u32(0x12345678)).toEqual(Buffer.from([0x12, 0x34, 0x56, 0x78]));
  });
});
