import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import { tryParseHeader } from '../../../../../electron/core/format/header.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import { decryptBuffer, encryptBuffer } from '../../../../support/streams.js';

// Every input ends in a typed error or a success: never another exception, a crash or a hang.
const keyring = new RawAesKeyring({ namespace: 'kenv-fuzz', name: 'k', key: randomBytes(32) });

function parseOutcome(bytes: Buffer): 'parsed' | 'need more' | string {
  try {
    return tryParseHeader(bytes) ? 'parsed' : 'need more';
  } catch (e) {
    if (e instanceof KenvError) return e.code;
    throw e;
  }
}

/** A mutation of a valid message: flips, overwrites, deletions, insertions and truncations. */
const mutation = (length: number) =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(length - 1), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(length - 1), value: fc.nat(255) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(length - 1), count: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(length), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(length) }),
  );

type Mutation = ReturnType<typeof mutation> extends fc.Arbitrary<infer M> ? M : never;

function mutate(message: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(message);
  for (const m of mutations) {
    const at = Math.min(m.at, Math.max(0, out.length - 1));
    switch (m.kind) {
      case 'flip':
        if (out.length) out[at]! ^= 1 << m.bit;
        break;
      case 'set':
        if (out.length) out[at] = m.value;
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.count)]);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, m.at), Buffer.from(m.bytes), out.subarray(m.at)]);
        break;
      case 'truncate':
        out = out.subarray(0, m.at);
    }
  }
  return out;
}

describe('header parser fuzzing', async () => {
  const unsigned = await encryptBuffer(randomBytes(300), { keyring, context: { a: 'b', team: 'x' }, frameLength: 100 });
  const signed = await encryptBuffer(randomBytes(300), { keyring, context: { a: 'b' }, frameLength: 100, sign: true });

  it('survives 10,000 random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(typeof parseOutcome(Buffer.from(bytes))).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });

  it('survives 10,000 random strings that start like a version 2 header', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x0478, 0x0578), fc.uint8Array({ maxLength: 600 }), (suite, rest) => {
        const bytes = Buffer.concat([Buffer.from([0x02, suite >> 8, suite & 0xff]), Buffer.from(rest)]);
        expect(typeof parseOutcome(bytes)).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });

  it('survives 20,000 mutations of real headers', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(mutation(unsigned.length), { minLength: 1, maxLength: 4 }), (useSigned, mutations) => {
        const bytes = mutate(useSigned ? signed : unsigned, mutations);
        expect(typeof parseOutcome(bytes)).toBe('string');
      }),
      { numRuns: 20_000 },
    );
  });

  it('decrypting 1,000 mutated whole messages ends in a typed error or the original plaintext', async () => {
    const original = await decryptBuffer(unsigned, { keyring });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(unsigned.length), { minLength: 1, maxLength: 3 }), async (mutations) => {
        const bytes = mutate(unsigned, mutations);
        try {
          const plaintext = await decryptBuffer(bytes, { keyring }, 97);
          // A mutation can cancel itself out (the same bit flipped twice): then the plaintext is the original.
          expect(plaintext.equals(original)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(KenvError);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
