import { describe, expect, it } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import {
  type HeaderFields,
  MAX_FRAME_LENGTH,
  MAX_HEADER_LENGTH,
  parseHeader,
  serializeHeaderBody,
  tryParseHeader,
} from '../../../../../electron/core/format/header.js';
import { SUITE_COMMIT_KEY, SUITE_COMMIT_KEY_ECDSA_P384 } from '../../../../../electron/core/format/suites.js';
import type { EncryptedDataKey } from '../../../../../electron/core/keyring/types.js';

// The header parser on its own: every field read at its place, every refusal with its code and sentence, and the
// limits at their exact boundaries.

const messageId = Buffer.alloc(32, 0x11);
const commitment = Buffer.alloc(32, 0x22);
const authTag = Buffer.alloc(16, 0x33);
const edk = (n: number): EncryptedDataKey => ({ providerId: `p${n}`, providerInfo: Buffer.from(`info${n}`), ciphertext: Buffer.alloc(5 + n, n) });

function fields(over: Partial<HeaderFields> = {}): HeaderFields {
  return { suite: SUITE_COMMIT_KEY, messageId, encryptionContext: { a: 'b' }, encryptedDataKeys: [edk(1), edk(2)], frameLength: 4096, commitment, ...over };
}
const header = (over: Partial<HeaderFields> = {}): Buffer => Buffer.concat([serializeHeaderBody(fields(over)), authTag]);

/** Header bytes with the byte at `at` (counted from the start) replaced. */
function withByte(bytes: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  out[at] = value;
  return out;
}

function refusal(bytes: Buffer, opts?: Parameters<typeof tryParseHeader>[1]): KenvError {
  try {
    tryParseHeader(bytes, opts);
  } catch (e) {
    if (e instanceof KenvError) return e;
    throw e;
  }
  throw new Error('the header parsed');
}

/** Offset of the u16 data key count in a header built by `header()` with the context { a: 'b' }. */
const contextLength = 2 + 2 + 1 + 2 + 1;
const edkCountAt = 1 + 2 + 32 + 2 + contextLength;

describe('tryParseHeader', () => {
  it('reads every field at its place, and only the header (the bytes after it are frames)', () => {
    const bytes = header();
    const body = serializeHeaderBody(fields());
    const h = tryParseHeader(Buffer.concat([bytes, Buffer.from('frames follow')]))!;
    expect(h.suite).toBe(SUITE_COMMIT_KEY);
    expect(h.messageId).toEqual(messageId);
    expect({ ...h.encryptionContext }).toEqual({ a: 'b' });
    expect(h.encryptedDataKeys).toEqual([
      { providerId: 'p1', providerInfo: Buffer.from('info1'), ciphertext: Buffer.alloc(6, 1) },
      { providerId: 'p2', providerInfo: Buffer.from('info2'), ciphertext: Buffer.alloc(7, 2) },
    ]);
    expect(h.frameLength).toBe(4096);
    expect(h.commitment).toEqual(commitment);
    expect(h.authTag).toEqual(authTag);
    expect(h.authenticatedBytes).toEqual(body);
    expect(h.bytes).toEqual(bytes);
  });

  it('asks for more bytes (undefined) at every cut inside a header, and parses the complete one', () => {
    const bytes = header();
    for (let n = 0; n < bytes.length; n++) expect(tryParseHeader(bytes.subarray(0, n)), `cut at ${n}`).toBeUndefined();
    expect(tryParseHeader(bytes)).toBeDefined();
  });

  it('refuses format version 1 with NO_KEY_COMMITMENT, saying why and what to do', () => {
    const e = refusal(withByte(header(), 0, 0x01));
    expect(e.code).toBe('NO_KEY_COMMITMENT');
    expect(e.message).toBe(
      'This is an AWS Encryption SDK message of format version 1, whose suites have no key commitment; Kenv refuses them because a crafted message could decrypt to different plaintexts under different keys. Decrypt it with the AWS Encryption SDK and re-encrypt it with Kenv.',
    );
  });

  it('refuses version 0x80 with UNSUPPORTED_VERSION and any other first byte with NOT_KENV naming it in two hex digits', () => {
    const v80 = refusal(withByte(header(), 0, 0x80));
    expect(v80.code).toBe('UNSUPPORTED_VERSION');
    expect(v80.message).toBe('This message uses format version 0x80, which Kenv does not read.');
    const v3 = refusal(withByte(header(), 0, 0x03));
    expect(v3.code).toBe('NOT_KENV');
    expect(v3.message).toBe(
      'This is not a .kenv file: it starts with byte 0x03, not an AWS Encryption SDK message version. Check that you picked the right file.',
    );
    expect(refusal(Buffer.from([0xab])).message).toContain('starts with byte 0xab,');
    // Refused on the first byte alone: no need to wait for more.
    expect(refusal(Buffer.from([0x00])).code).toBe('NOT_KENV');
  });

  it('refuses a format 1 suite id with NO_KEY_COMMITMENT and an unknown one with UNSUPPORTED_SUITE, naming the id', () => {
    const old = refusal(Buffer.from([0x02, 0x01, 0x78]));
    expect(old.code).toBe('NO_KEY_COMMITMENT');
    expect(old.message).toBe(
      'The message uses algorithm suite 0x0178, which has no key commitment; Kenv reads only the committing suites 0x0478 and 0x0578. Re-encrypt the file with a current AWS Encryption SDK or with Kenv.',
    );
    const unknown = refusal(Buffer.from([0x02, 0x12, 0x34]));
    expect(unknown.code).toBe('UNSUPPORTED_SUITE');
    expect(unknown.message).toBe(
      "The message names algorithm suite 0x1234, which is not an AWS Encryption SDK suite Kenv knows; the file is damaged or not a .kenv file.",
    );
  });

  it('reads the signed suite', () => {
    const h = tryParseHeader(header({ suite: SUITE_COMMIT_KEY_ECDSA_P384, encryptionContext: { 'aws-crypto-public-key': 'Ak' } }))!;
    expect(h.suite).toBe(SUITE_COMMIT_KEY_ECDSA_P384);
  });

  it('refuses a signed suite without a public key, or with an empty one, as MALFORMED_HEADER', () => {
    for (const encryptionContext of [{ a: 'b' }, { 'aws-crypto-public-key': '' }] as Record<string, string>[]) {
      const e = refusal(header({ suite: SUITE_COMMIT_KEY_ECDSA_P384, encryptionContext }));
      expect(e.code).toBe('MALFORMED_HEADER');
      expect(e.message).toBe(
        'The header is malformed: suite 0x0578 is signed but the encryption context holds no aws-crypto-public-key. The file is damaged, or it was not written by an AWS Encryption SDK.',
      );
    }
  });

  it('refuses an unsigned suite whose context holds a public key, even an empty one, as SIGNATURE_STRIPPED', () => {
    for (const encryptionContext of [{ 'aws-crypto-public-key': 'Ak' }, { 'aws-crypto-public-key': '' }]) {
      const e = refusal(header({ encryptionContext }));
      expect(e.code).toBe('SIGNATURE_STRIPPED');
      expect(e.message).toMatch(/^The message uses the unsigned suite 0x0478, but its encryption context holds aws-crypto-public-key, .*Nothing was decrypted; do not trust this file\.$/);
    }
  });

  it('refuses a header with no encrypted data keys', () => {
    const bytes = withByte(withByte(header(), edkCountAt, 0), edkCountAt + 1, 0);
    const e = refusal(bytes);
    expect(e.code).toBe('MALFORMED_HEADER');
    expect(e.message).toBe('The header is malformed: it holds no encrypted data keys. The file is damaged, or it was not written by an AWS Encryption SDK.');
  });

  it('holds the data key count to the limit: the limit parses, one more is TOO_MANY_DATA_KEYS as soon as the count is read', () => {
    const three = header({ encryptedDataKeys: [edk(1), edk(2), edk(3)] });
    expect(tryParseHeader(three, { maxEncryptedDataKeys: 3 })!.encryptedDataKeys).toHaveLength(3);
    expect(tryParseHeader(three)!.encryptedDataKeys).toHaveLength(3);
    const e = refusal(three.subarray(0, edkCountAt + 2), { maxEncryptedDataKeys: 2 });
    expect(e.code).toBe('TOO_MANY_DATA_KEYS');
    expect(e.message).toBe(
      'The message holds 3 encrypted data keys, more than the limit of 2: opening each could be a KMS Decrypt call logged under your identity. Nothing was sent to KMS. If you trust this file, raise the limit (kenv decrypt --max-data-keys 3, or "Most data keys per file" in the app\'s settings).',
    );
    const many = withByte(withByte(three, edkCountAt, 0x30), edkCountAt + 1, 0x39);
    expect(refusal(many, { maxEncryptedDataKeys: 10 }).message).toContain('holds 12,345 encrypted data keys, more than the limit of 10:');
  });

  const contentTypeAt = (bytes: Buffer): number => bytes.length - 16 - 32 - 4 - 1;

  it('refuses non-framed content and unknown content types', () => {
    const bytes = header();
    expect(bytes[contentTypeAt(bytes)]).toBe(0x02);
    const nonFramed = refusal(withByte(bytes, contentTypeAt(bytes), 0x01));
    expect(nonFramed.code).toBe('MALFORMED_HEADER');
    expect(nonFramed.message).toContain('its content is not framed, which format version 2 never writes.');
    const unknown = refusal(withByte(bytes, contentTypeAt(bytes), 0x1f));
    expect(unknown.code).toBe('MALFORMED_HEADER');
    expect(unknown.message).toContain('content type 0x1f is unknown.');
  });

  it('reads frame lengths 1 and 2^31-1 and refuses 0 and 2^31', () => {
    expect(tryParseHeader(header({ frameLength: 1 }))!.frameLength).toBe(1);
    expect(tryParseHeader(header({ frameLength: MAX_FRAME_LENGTH }))!.frameLength).toBe(0x7fffffff);
    for (const frameLength of [0, 0x80000000]) {
      const e = refusal(header({ frameLength }));
      expect(e.code).toBe('MALFORMED_HEADER');
      expect(e.message).toContain(`frame length ${frameLength} is out of range.`);
    }
  });

  it('gives up on a header still incomplete at 1 MiB, and waits for more just below', () => {
    const big = Buffer.alloc(0xfff0, 7);
    const huge = serializeHeaderBody(fields({ encryptedDataKeys: Array.from({ length: 20 }, () => ({ providerId: 'p', providerInfo: big, ciphertext: big })) }));
    expect(huge.length).toBeGreaterThan(MAX_HEADER_LENGTH);
    expect(tryParseHeader(huge.subarray(0, MAX_HEADER_LENGTH - 1))).toBeUndefined();
    const e = refusal(huge.subarray(0, MAX_HEADER_LENGTH));
    expect(e.code).toBe('MALFORMED_HEADER');
    expect(e.message).toBe('The header is malformed: it is larger than 1 MiB. The file is damaged, or it was not written by an AWS Encryption SDK.');
  });

  it('passes other errors through (a malformed context)', () => {
    const bytes = withByte(header(), 1 + 2 + 32 + 2 + 1, 0x05); // the context's pair count: 5 pairs in 8 bytes
    expect(refusal(bytes).message).toMatch(/^The header's encryption context is malformed/);
  });
});

describe('serializeHeaderBody', () => {
  it('refuses a data key field over 65,535 bytes and writes one of exactly 65,535', () => {
    const field = (n: number) => ({ providerId: 'p', providerInfo: Buffer.alloc(n, 1), ciphertext: Buffer.alloc(1) });
    const body = serializeHeaderBody(fields({ encryptedDataKeys: [field(0xffff)] }));
    expect(tryParseHeader(Buffer.concat([body, authTag]))!.encryptedDataKeys[0]!.providerInfo).toHaveLength(0xffff);
    expect(() => serializeHeaderBody(fields({ encryptedDataKeys: [field(0x10000)] }))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'An encrypted data key field is longer than 65,535 bytes.' }),
    );
    expect(() => serializeHeaderBody(fields({ encryptedDataKeys: [{ providerId: 'é'.repeat(0x8000), providerInfo: Buffer.alloc(0), ciphertext: Buffer.alloc(0) }] }))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('parseHeader', () => {
  it('returns the header when it is complete', () => {
    expect(parseHeader(header()).frameLength).toBe(4096);
  });

  it('calls an empty file NOT_KENV and a cut header TRUNCATED_HEADER naming the length', () => {
    expect(() => parseHeader(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'NOT_KENV', message: 'The file is empty, so it is not a .kenv file.' }));
    try {
      parseHeader(header().subarray(0, 40));
      throw new Error('parsed');
    } catch (e) {
      expect((e as KenvError).code).toBe('TRUNCATED_HEADER');
      expect((e as KenvError).message).toBe(
        'The file ends inside the message header after 40 bytes: it was cut short (an interrupted copy or download), or a length field in the header was altered. Get a complete copy of the file.',
      );
    }
  });

  it('applies the data key limit', () => {
    expect(() => parseHeader(header(), { maxEncryptedDataKeys: 1 })).toThrow(expect.objectContaining({ code: 'TOO_MANY_DATA_KEYS' }));
  });
});
