import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EncryptStream, prepareEncryption } from '../../../../../electron/core/crypto/encrypt-stream.js';
import { RawAesKeyring } from '../../../../../electron/core/keyring/raw-aes-keyring.js';
import { verifyTargets } from '../../../../../electron/core/verify/verify.js';

// `kenv verify -`: standard input, verified as it arrives, in bounded memory, nothing written.
const keyring = new RawAesKeyring({ namespace: 'kenv-test', name: 'stdin', key: randomBytes(32) });
const MiB = 1024 * 1024;

/** A message made on the fly from `total` bytes of plaintext produced lazily; `produced` counts what was made so far. */
async function liveMessage(total: number): Promise<{ stream: Readable; produced: () => number }> {
  let produced = 0;
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  async function* plaintext(): AsyncGenerator<Buffer> {
    while (produced < total) {
      const n = Math.min(chunk.length, total - produced);
      produced += n;
      yield chunk.subarray(0, n);
    }
  }
  const materials = await prepareEncryption({ keyring, frameLength: 64 * 1024 });
  return { stream: Readable.from(plaintext()).pipe(new EncryptStream(materials)), produced: () => produced };
}

describe('verifying standard input', () => {
  it('authenticates a 128 MiB stream holding a bounded part of it at any time', async () => {
    const { stream, produced } = await liveMessage(128 * MiB);
    let authenticated = 0;
    let mostInFlight = 0;
    const results = await verifyTargets(['-'], {
      keyring, stdin: stream,
      onPlaintext: (c) => {
        authenticated += c.length;
        mostInFlight = Math.max(mostInFlight, produced() - authenticated);
      },
    });
    expect(results).toMatchObject([{ target: '-', ok: true }]);
    expect(authenticated).toBe(128 * MiB);
    // Made but not yet authenticated: the encrypting side's and the verifier's stream buffers and frame batches,
    // measured at 24-26 MiB for 32 MiB and for 160 MiB streams alike: bounded, not growing with the input.
    expect(mostInFlight).toBeLessThan(40 * MiB);
  });

  it('reports a tampered stream with the code decrypt gives', async () => {
    const chunks: Buffer[] = [];
    const { stream } = await liveMessage(300_000);
    for await (const c of stream) chunks.push(c as Buffer);
    const message = Buffer.concat(chunks);
    message[message.length - 40]! ^= 1;
    expect(await verifyTargets(['-'], { keyring, stdin: Readable.from([message]) })).toMatchObject([{ target: '-', ok: false, error: { code: 'FRAME_TAMPERED' } }]);
  });

  it('refuses `-` where there is no standard input to read', async () => {
    expect(await verifyTargets(['-'], { keyring })).toMatchObject([{ target: '-', ok: false, error: { code: 'INVALID_ARGUMENT' } }]);
  });
});
