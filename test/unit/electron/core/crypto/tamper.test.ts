import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../../../shared/errors.js';
import { decryptFile } from '../../../../../electron/core/files.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import { type Region, messageLayout } from '../../../../support/message-layout.js';
import { encryptBuffer } from '../../../../support/streams.js';

// The tamper matrix: one flipped bit in each region of a message, truncation at every frame boundary and inside
// frames, appended bytes and reordered frames. Each must fail with its own code, leave no output file and leave
// the input as it was.
const keyring = new RawAesKeyring({ namespace: 'kenv-tamper', name: 'k1', key: randomBytes(32) });
const FRAME = 64;
const plaintext = randomBytes(3 * FRAME + 10);
const context = { team: 'payments' };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function expectFailure(message: Buffer, code: ErrorCode): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kenv-tamper-'));
  dirs.push(dir);
  const input = join(dir, 'in.kenv');
  writeFileSync(input, message);
  const out = join(dir, 'out');
  await expect(decryptFile(input, { keyring, outDir: out, requiredContext: context })).rejects.toMatchObject({ code });
  expect(readdirSync(out)).toEqual([]);
  expect(readFileSync(input).equals(message)).toBe(true);
}

function flip(message: Buffer, at: number, bit = 0): Buffer {
  const copy = Buffer.from(message);
  copy[at]! ^= 1 << bit;
  return copy;
}

/** What a flipped bit in each region must produce (unsigned message, then overrides for the signed one). */
const expectedForFlip: Record<string, ErrorCode> = {
  version: 'NOT_KENV',
  'suite id': 'UNSUPPORTED_SUITE',
  'message id': 'COMMITMENT_MISMATCH',
  // A length whose high bit flips points past the end of the file: the parser runs out of header.
  'context length': 'TRUNCATED_HEADER',
  'context pair count': 'MALFORMED_HEADER',
  // The last byte of the pairs is the last byte of the value of "team", which the test requires.
  'context pairs': 'CONTEXT_MISMATCH',
  // 32,769 data keys: refused as soon as the count is read, over the limit of 10.
  'data key count': 'TOO_MANY_DATA_KEYS',
  'content type': 'MALFORMED_HEADER',
  'frame length': 'HEADER_TAMPERED',
  commitment: 'COMMITMENT_MISMATCH',
  'header auth tag': 'HEADER_TAMPERED',
  'final frame marker': 'FRAME_OUT_OF_ORDER',
  'final frame sequence number': 'FRAME_OUT_OF_ORDER',
  'final frame IV': 'FRAME_TAMPERED',
  'final frame length': 'FRAME_TAMPERED',
  'final frame ciphertext': 'FRAME_TAMPERED',
  'final frame tag': 'FRAME_TAMPERED',
  'footer signature length': 'TRUNCATED_FOOTER',
  'footer signature': 'BAD_SIGNATURE',
};

function expectedCode(region: Region): ErrorCode {
  const exact = expectedForFlip[region.name];
  if (exact) return exact;
  if (/^data key \d+ .*length$/.test(region.name)) return 'TRUNCATED_HEADER';
  if (region.name.startsWith('data key')) return 'NO_KEY_OPENED';
  if (region.name.endsWith('sequence number')) return 'FRAME_OUT_OF_ORDER';
  if (region.name.startsWith('frame')) return 'FRAME_TAMPERED';
  throw new Error(`no expectation for ${region.name}`);
}

// Which bit to flip where the lowest one would not reach the check the region is meant to test.
const bitFor: Record<string, { offset: 'first' | 'last'; bit: number }> = {
  // A high bit of the u16 makes the field run past the header.
  'context length': { offset: 'first', bit: 7 },
  'data key count': { offset: 'first', bit: 7 },
  // The top byte of the u32: the length then exceeds the frame length.
  'final frame length': { offset: 'first', bit: 7 },
  // The high byte of the u16: the signature runs past the end of the file.
  'footer signature length': { offset: 'first', bit: 7 },
};

for (const signed of [false, true]) {
  describe(`tamper matrix, ${signed ? 'signed (0x0578)' : 'unsigned (0x0478)'}`, async () => {
    const message = await encryptBuffer(plaintext, { keyring, context, frameLength: FRAME, sign: signed });
    const regions = messageLayout(message, signed);

    it('decrypts untouched', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kenv-tamper-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'ok.kenv'), message);
      const done = await decryptFile(join(dir, 'ok.kenv'), { keyring, requiredContext: context });
      expect(readFileSync(done.outputPath).equals(plaintext)).toBe(true);
    });

    for (const region of regions) {
      const choice = bitFor[region.name] ?? (/^data key \d+ .*length$/.test(region.name) ? { offset: 'first' as const, bit: 7 } : { offset: 'last' as const, bit: 0 });
      const at = choice.offset === 'first' ? region.start : region.end - 1;
      // 0x0578 -> 0x0478 keeps the signed message's aws-crypto-public-key: a stripped signature.
      const code = signed && region.name === 'suite id' ? 'SIGNATURE_STRIPPED' : expectedCode(region);
      it(`a flipped bit in the ${region.name} fails with ${code}`, async () => {
        // For the signed message, flip the suite's high byte: 0x0578 -> 0x0478, the unsigned suite.
        const target = signed && region.name === 'suite id' ? region.start : at;
        await expectFailure(flip(message, target, choice.bit), code);
      });
    }

    const frameStarts = regions.filter((r) => r.name.endsWith('sequence number') || r.name === 'final frame marker').map((r) => r.start);
    const headerEnd = regions.find((r) => r.name === 'header auth tag')!.end;

    it('an empty file fails with NOT_KENV', () => expectFailure(Buffer.alloc(0), 'NOT_KENV'));

    it('truncation inside the header fails with TRUNCATED_HEADER', async () => {
      for (const cut of [1, 3, 35, headerEnd - 1]) await expectFailure(message.subarray(0, cut), 'TRUNCATED_HEADER');
    });

    it('truncation at every frame boundary fails with TRUNCATED_BODY', async () => {
      for (const cut of [headerEnd, ...frameStarts]) await expectFailure(message.subarray(0, cut), 'TRUNCATED_BODY');
    });

    it('truncation inside a frame fails with TRUNCATED_BODY', async () => {
      for (const start of [headerEnd, ...frameStarts]) await expectFailure(message.subarray(0, start + 20), 'TRUNCATED_BODY');
    });

    if (signed) {
      it('truncation inside the footer fails with TRUNCATED_FOOTER', async () => {
        const footer = regions.find((r) => r.name === 'footer signature length')!;
        for (const cut of [footer.start, footer.start + 1, footer.end + 5, message.length - 1]) {
          await expectFailure(message.subarray(0, cut), 'TRUNCATED_FOOTER');
        }
      });
    }

    it('appended bytes fail with TRAILING_BYTES', async () => {
      await expectFailure(Buffer.concat([message, Buffer.from([0])]), 'TRAILING_BYTES');
      await expectFailure(Buffer.concat([message, message]), 'TRAILING_BYTES');
    });

    it('swapped frames fail with FRAME_OUT_OF_ORDER', async () => {
      const [f1, f2] = frameStarts as [number, number];
      const size = f2 - f1;
      const swapped = Buffer.concat([message.subarray(0, f1), message.subarray(f2, f2 + size), message.subarray(f1, f2), message.subarray(f2 + size)]);
      await expectFailure(swapped, 'FRAME_OUT_OF_ORDER');
    });

    it('a duplicated frame fails with FRAME_OUT_OF_ORDER', async () => {
      const [f1, f2] = frameStarts as [number, number];
      await expectFailure(Buffer.concat([message.subarray(0, f2), message.subarray(f1, f2), message.subarray(f2)]), 'FRAME_OUT_OF_ORDER');
    });

    it('a frame renumbered to hide a swap fails with FRAME_TAMPERED', async () => {
      const [f1, f2] = frameStarts as [number, number];
      const size = f2 - f1;
      const swapped = Buffer.concat([message.subarray(0, f1), message.subarray(f2, f2 + size), message.subarray(f1, f2), message.subarray(f2 + size)]);
      swapped.writeUInt32BE(1, f1);
      swapped.writeUInt32BE(2, f2);
      // The IVs still carry the old numbers: rewrite them too, so that only the tag can tell.
      swapped.writeUInt32BE(1, f1 + 4 + 8);
      swapped.writeUInt32BE(2, f2 + 4 + 8);
      await expectFailure(swapped, 'FRAME_TAMPERED');
    });
  });
}

describe('refusals that are not tampering', () => {
  it('a wrong key fails with NO_KEY_OPENED and names the key the file needs', async () => {
    const message = await encryptBuffer(plaintext, { keyring, context, frameLength: FRAME });
    const other = new RawAesKeyring({ namespace: 'kenv-tamper', name: 'k1', key: randomBytes(32) });
    const dir = mkdtempSync(join(tmpdir(), 'kenv-tamper-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'm.kenv'), message);
    await expect(decryptFile(join(dir, 'm.kenv'), { keyring: other, outDir: join(dir, 'out') })).rejects.toMatchObject({
      code: 'NO_KEY_OPENED',
      message: expect.stringContaining('kenv-tamper/k1'),
    });
    expect(readdirSync(join(dir, 'out'))).toEqual([]);
  });

  it('a required context pair that differs fails with CONTEXT_MISMATCH', async () => {
    const message = await encryptBuffer(plaintext, { keyring, context, frameLength: FRAME });
    await expect(
      (async () => {
        const dir = mkdtempSync(join(tmpdir(), 'kenv-tamper-'));
        dirs.push(dir);
        writeFileSync(join(dir, 'm.kenv'), message);
        await decryptFile(join(dir, 'm.kenv'), { keyring, requiredContext: { team: 'marketing' } });
      })(),
    ).rejects.toMatchObject({ code: 'CONTEXT_MISMATCH' });
  });

  it('a format version 1 message fails with NO_KEY_COMMITMENT', async () => {
    const message = await encryptBuffer(plaintext, { keyring, context, frameLength: FRAME });
    await expectFailure(Buffer.concat([Buffer.from([0x01, 0x80]), message.subarray(2)]), 'NO_KEY_COMMITMENT');
  });

  it('a version 2 header naming a non-committing suite fails with NO_KEY_COMMITMENT', async () => {
    const message = await encryptBuffer(plaintext, { keyring, context, frameLength: FRAME });
    const v1suite = Buffer.from(message);
    v1suite.writeUInt16BE(0x0178, 1);
    await expectFailure(v1suite, 'NO_KEY_COMMITMENT');
  });
});
