/**
 * Messages an attacker can build, made with Kenv's own low-level serializer: what tests of the format's rules
 * feed to decryption.
 */
import { randomBytes } from 'node:crypto';
import { EncryptStream } from '../../electron/core/crypto/encrypt-stream.js';
import { serializeHeaderBody, type ParsedHeader } from '../../electron/core/format/header.js';
import { deriveKeys, headerAuthTag } from '../../electron/core/format/keys.js';
import { SUITE_COMMIT_KEY } from '../../electron/core/format/suites.js';
import type { EncryptedDataKey, EncryptionContext } from '../../electron/core/keyring/types.js';
import { runThrough } from './streams.js';

/**
 * A complete unsigned (0x0478) message under `dataKey` with the given context and data keys, holding `plaintext`.
 *
 * With the context and data keys of a signed message (whose data key someone allowed only kms:Decrypt opened), this
 * is the stripped-signature forgery: same key, same context (its `aws-crypto-public-key` included), any content.
 */
export async function forgeUnsignedMessage(opts: {
  dataKey: Buffer;
  context: EncryptionContext;
  edks: readonly EncryptedDataKey[];
  plaintext: Buffer;
  frameLength?: number;
}): Promise<Buffer> {
  const suite = SUITE_COMMIT_KEY;
  const messageId = randomBytes(32);
  const frameLength = opts.frameLength ?? 4096;
  const keys = deriveKeys(opts.dataKey, messageId, suite.id);
  const body = serializeHeaderBody({ suite, messageId, encryptionContext: opts.context, encryptedDataKeys: opts.edks, frameLength, commitment: keys.commitment });
  const authTag = headerAuthTag(keys.encryptionKey, body, Buffer.alloc(0));
  // Not parsed back: Kenv's parser refuses this header, which is the point.
  const header: ParsedHeader = {
    suite,
    messageId,
    encryptionContext: opts.context,
    encryptedDataKeys: [...opts.edks],
    frameLength,
    commitment: keys.commitment,
    authTag,
    authenticatedBytes: body,
    bytes: Buffer.concat([body, authTag]),
  };
  return runThrough(new EncryptStream({ suite, header, encryptionKey: keys.encryptionKey }), opts.plaintext);
}
