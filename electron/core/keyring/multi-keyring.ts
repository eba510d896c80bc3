import { KenvError } from '../errors.js';
import { noKeyOpened } from './attempts.js';
import type { EncryptedDataKey, Keyring, UnwrapAttempt, UnwrapRequest, WrapRequest } from './types.js';

/** A keyring that tries an unwrap and says why it failed, without throwing: what a multi-keyring composes. */
export interface AttemptingKeyring extends Keyring {
  tryUnwrap(req: UnwrapRequest): Promise<Buffer | UnwrapAttempt[]> | Buffer | UnwrapAttempt[];
}

/**
 * Several keyrings as one: the first generates the data key and every keyring wraps it; on decrypt each keyring
 * tries the data keys meant for it, and the error lists every attempt.
 */
export class MultiKeyring implements Keyring {
  constructor(private readonly keyrings: readonly AttemptingKeyring[]) {
    if (keyrings.length === 0) throw new KenvError('INVALID_ARGUMENT', 'No key was given: pass --key or a raw AES key.');
  }

  async wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    const [first, ...rest] = this.keyrings;
    const generated = await first!.wrapDataKey(req);
    try {
      for (const keyring of rest) {
        const wrapped = await keyring.wrapDataKey({ ...req, dataKey: generated.dataKey });
        wrapped.dataKey.fill(0);
        generated.edks.push(...wrapped.edks);
      }
    } catch (e) {
      generated.dataKey.fill(0);
      throw e;
    }
    return generated;
  }

  async unwrapDataKey(req: UnwrapRequest): Promise<Buffer> {
    const attempts: UnwrapAttempt[] = [];
    for (const keyring of this.keyrings) {
      const result = await keyring.tryUnwrap(req);
      if (Buffer.isBuffer(result)) return result;
      attempts.push(...result);
    }
    throw noKeyOpened(req.edks, attempts);
  }
}
