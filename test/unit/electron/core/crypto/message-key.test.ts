import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openMessageKey, splitRequiredContext } from '../../../../../electron/core/crypto/decrypt-stream.js';
import { KenvError } from '../../../../../electron/core/errors.js';
import { parseHeader } from '../../../../../electron/core/format/header.js';
import { commitmentMatches, deriveKeys, headerAuthTag, headerAuthVerifies } from '../../../../../electron/core/format/keys.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring, UnwrapRequest } from '../../../../../electron/core/keyring/types.js';
import { encryptBuffer } from '../../../../support/streams.js';

// The checks between "a keyring opened the data key" and "frames may be decrypted": key derivation, key commitment,
// header authentication and the required encryption context.

async function failure(p: Promise<unknown> | (() => unknown)): Promise<KenvError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof KenvError) return e;
    throw e;
  }
  throw new Error('it succeeded');
}

describe('deriveKeys and the key commitment', () => {
  const dataKey = randomBytes(32);
  const messageId = randomBytes(32);

  it('derives the encryption key and commitment by HKDF-SHA512 as the ESDK specifies', () => {
    const keys = deriveKeys(dataKey, messageId, 0x0478);
    expect(keys.encryptionKey).toEqual(Buffer.from(hkdfSync('sha512', dataKey, messageId, Buffer.concat([Buffer.from([0x04, 0x78]), Buffer.from('DERIVEKEY')]), 32)));
    expect(keys.commitment).toEqual(Buffer.from(hkdfSync('sha512', dataKey, messageId, Buffer.from('COMMITKEY'), 32)));
    const signed = deriveKeys(dataKey, messageId, 0x0578);
    expect(signed.encryptionKey).not.toEqual(keys.encryptionKey);
    expect(signed.commitment).toEqual(keys.commitment);
  });

  it('refuses a data key that is not 32 bytes', () => {
    for (const n of [31, 33]) {
      expect(() => deriveKeys(Buffer.alloc(n), messageId, 0x0478)).toThrow(
        expect.objectContaining({ code: 'NO_KEY_OPENED', message: `A keyring returned a data key of ${n} bytes instead of 32.` }),
      );
    }
  });

  it('compares commitments whole: one byte off or a different length does not match (and does not throw)', () => {
    const c = deriveKeys(dataKey, messageId, 0x0478).commitment;
    expect(commitmentMatches(c, Buffer.from(c))).toBe(true);
    const off = Buffer.from(c);
    off[31]! ^= 1;
    expect(commitmentMatches(c, off)).toBe(false);
    expect(commitmentMatches(c, c.subarray(0, 31))).toBe(false);
  });

  it('the header tag covers the body and the required context, each', () => {
    const key = randomBytes(32);
    const body = randomBytes(50);
    const required = Buffer.from('required pairs');
    const tag = headerAuthTag(key, body, required);
    expect(headerAuthVerifies(key, body, required, tag)).toBe(true);
    expect(headerAuthVerifies(key, body, Buffer.alloc(0), tag)).toBe(false);
    expect(headerAuthVerifies(key, Buffer.concat([body, required]), Buffer.alloc(0), tag)).toBe(true);
    const plain = headerAuthTag(key, body, Buffer.alloc(0));
    expect(headerAuthVerifies(key, body, Buffer.alloc(0), plain)).toBe(true);
    expect(headerAuthVerifies(randomBytes(32), body, Buffer.alloc(0), plain)).toBe(false);
    const flipped = Buffer.from(body);
    flipped[0]! ^= 1;
    expect(headerAuthVerifies(key, flipped, Buffer.alloc(0), plain)).toBe(false);
  });
});

describe('splitRequiredContext', () => {
  it('a required pair the header stores must match; one it does not store is authenticated only', () => {
    expect(splitRequiredContext({ a: '1', b: '2' }, { a: '1', c: '3' })).toEqual({ storedContext: { a: '1', b: '2' }, requiredOnly: { c: '3' } });
    const e = (() => {
      try {
        splitRequiredContext({ a: '1' }, { a: '2' });
      } catch (err) {
        return err as KenvError;
      }
      throw new Error('no mismatch');
    })();
    expect(e.code).toBe('CONTEXT_MISMATCH');
    expect(e.message).toBe("The file's encryption context has a=1, but a=2 was required. It is not the file you expect, or the --context value is wrong.");
  });

  it('only pairs the header really holds count as stored (not inherited names such as constructor)', () => {
    expect(splitRequiredContext({}, { constructor: 'x' }).requiredOnly).toEqual({ constructor: 'x' });
  });
});

describe('openMessageKey', () => {
  const keyring = new RawAesKeyring({ namespace: 'ns', name: 'k', key: randomBytes(32) });

  /** The raw AES keyring, asked with the header's own context: a keyring that does not bind the context (as KMS with a required pair the file lacks would fail, the header tag is what must notice). */
  const ignoringContext = (stored: Record<string, string>): Keyring => ({
    wrapDataKey: () => Promise.reject(new Error('unused')),
    unwrapDataKey: (req) => keyring.unwrapDataKey({ ...req, context: { ...stored } }),
  });

  async function message(context: Record<string, string> = { team: 'x' }, requiredContext?: Record<string, string>) {
    const bytes = await encryptBuffer(Buffer.from('hello'), { keyring, context, frameLength: 64, ...(requiredContext ? { requiredContext } : {}) } as Parameters<typeof encryptBuffer>[1]);
    return { bytes, header: parseHeader(bytes) };
  }

  it('asks the keyring with the suite, the data keys and the stored plus required context, and zeroes the data key', async () => {
    const { header } = await message();
    const seen: UnwrapRequest[] = [];
    const returned: Buffer[] = [];
    const spy: Keyring = {
      wrapDataKey: () => Promise.reject(new Error('unused')),
      unwrapDataKey: async (req) => {
        seen.push(req);
        const k = await keyring.unwrapDataKey(req);
        returned.push(k);
        return k;
      },
    };
    const key = await openMessageKey(header, spy, { team: 'x' });
    expect(key).toHaveLength(32);
    expect(seen).toEqual([{ suiteId: 0x0478, context: { team: 'x' }, edks: header.encryptedDataKeys }]);
    expect(returned[0]!.every((b) => b === 0)).toBe(true);
  });

  it('a commitment that does not match the data key is COMMITMENT_MISMATCH', async () => {
    const { header } = await message();
    header.commitment = Buffer.from(header.commitment);
    header.commitment[0]! ^= 1;
    const e = await failure(openMessageKey(header, keyring, {}));
    expect(e.code).toBe('COMMITMENT_MISMATCH');
    expect(e.message).toMatch(/^The data key does not match the key commitment in the header: .*Nothing was decrypted; do not trust this file\.$/);
  });

  it('a header whose tag does not verify is HEADER_TAMPERED', async () => {
    const { header } = await message();
    header.authTag = Buffer.from(header.authTag);
    header.authTag[15]! ^= 1;
    const e = await failure(openMessageKey(header, ignoringContext(header.encryptionContext), {}));
    expect(e.code).toBe('HEADER_TAMPERED');
    expect(e.message).toBe(
      'The header failed authentication: a header field was altered after encryption (or a required encryption context pair is missing). Nothing was decrypted; get an intact copy of the file.',
    );
    // The same with a required pair the header does not hold: still tampering, since the tag fails without it too.
    expect((await failure(openMessageKey(header, ignoringContext(header.encryptionContext), { extra: 'y' }))).code).toBe('HEADER_TAMPERED');
  });

  it('a required pair the file was not encrypted with is CONTEXT_MISMATCH naming it', async () => {
    const { header } = await message();
    const e = await failure(openMessageKey(header, ignoringContext(header.encryptionContext), { extra: 'y', more: 'z' }));
    expect(e.code).toBe('CONTEXT_MISMATCH');
    expect(e.message).toBe('The file was not encrypted with the encryption context you required (extra, more is not part of it). Check the --context pairs.');
  });
});
