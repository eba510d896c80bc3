import type { EncryptedDataKey, Keyring, UnwrapRequest, WrapRequest } from '../keyring/types.js';

/** The limits the settings screen edits. A zero age or a message limit under 2 turns caching off. */
export interface CacheLimits {
  maxAgeSeconds: number;
  maxMessages: number;
  maxBytes: number;
}

interface Entry {
  dataKey: Buffer;
  edks: EncryptedDataKey[];
  created: number;
  messages: number;
  bytes: number;
}

/**
 * Reuses data keys across files within limits, so a batch of a thousand files does not make a thousand KMS calls
 * (the AWS Encryption SDK's caching materials manager, reduced to what Kenv needs).
 *
 * Encrypting: files under the same keys, suite and encryption context share a data key until it is `maxAgeSeconds`
 * old, has encrypted `maxMessages` files or `maxBytes` bytes. Each file still gets its own message id, so its
 * derived keys differ. Decrypting: files whose data keys are wrapped identically share one KMS Decrypt.
 * Cached keys live only in this process's memory and are zeroed when evicted or on `clear()`.
 */
export class DataKeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limits: () => Promise<CacheLimits>,
    private readonly now: () => number = Date.now,
  ) {}

  /** `inner`, with its data keys cached under `scope` (e.g. the key ids), charging `bytes` for this file. */
  keyring(inner: Keyring, scope: string, bytes: number): Keyring {
    return {
      wrapDataKey: async (req: WrapRequest) => {
        if (req.dataKey) return inner.wrapDataKey(req);
        const id = `wrap\0${scope}\0${req.suiteId}\0${canonical(req.context)}`;
        const hit = await this.take(id, bytes);
        if (hit) return { dataKey: Buffer.from(hit.dataKey), edks: hit.edks };
        const fresh = await inner.wrapDataKey(req);
        await this.put(id, fresh.dataKey, fresh.edks, bytes);
        return fresh;
      },
      unwrapDataKey: async (req: UnwrapRequest) => {
        const id = `unwrap\0${req.suiteId}\0${canonical(req.context)}\0${req.edks.map(edkId).sort().join('\0')}`;
        const hit = await this.take(id, bytes);
        if (hit) return Buffer.from(hit.dataKey);
        const dataKey = await inner.unwrapDataKey(req);
        await this.put(id, dataKey, [], bytes);
        return dataKey;
      },
    };
  }

  /** Zeroes and forgets every cached key (on profile change and on quit). */
  clear(): void {
    for (const entry of this.entries.values()) entry.dataKey.fill(0);
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private async take(id: string, bytes: number): Promise<Entry | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const limits = await this.limits();
    const fresh = this.now() - entry.created < limits.maxAgeSeconds * 1000;
    if (!fresh || entry.messages >= limits.maxMessages || entry.bytes + bytes > limits.maxBytes) {
      this.evict(id);
      return undefined;
    }
    entry.messages++;
    entry.bytes += bytes;
    return entry;
  }

  private async put(id: string, dataKey: Buffer, edks: EncryptedDataKey[], bytes: number): Promise<void> {
    const limits = await this.limits();
    if (limits.maxAgeSeconds <= 0 || limits.maxMessages < 2 || bytes >= limits.maxBytes) return;
    this.evict(id);
    this.entries.set(id, { dataKey: Buffer.from(dataKey), edks, created: this.now(), messages: 1, bytes });
  }

  private evict(id: string): void {
    this.entries.get(id)?.dataKey.fill(0);
    this.entries.delete(id);
  }
}

function canonical(context: Record<string, string>): string {
  return JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]]));
}

function edkId(edk: EncryptedDataKey): string {
  return `${edk.providerId}\0${edk.providerInfo.toString('hex')}\0${edk.ciphertext.toString('hex')}`;
}
