import type { EncryptedDataKey, Keyring, UnwrapRequest, WrapRequest } from '../keyring/types.js';

/**
 * When a cached data key must stop being reused (the AWS Encryption SDK's local cache limits), in the shape the
 * app's settings edit (`Settings.cache`). A zero age, or a message limit under 2, turns caching off.
 */
export interface CacheLimits {
  /** How long one data key is reused, from when KMS made (or opened) it. */
  maxAgeSeconds: number;
  /** How many messages (files) one data key serves. */
  maxMessages: number;
  /** How many plaintext bytes one data key serves, summed over its messages. */
  maxBytes: number;
}

/** The defaults of both the CLI and the app's settings: five minutes, 1,000 files, 4 GiB per data key. */
export const DEFAULT_CACHE_LIMITS: CacheLimits = { maxAgeSeconds: 300, maxMessages: 1000, maxBytes: 2 ** 32 };

interface Entry {
  dataKey: Buffer;
  edks: EncryptedDataKey[];
  created: number;
  messages: number;
  bytes: number;
}

/**
 * Kenv's one data key cache, used by `kenv encrypt` batches and by the app: reuses data keys across files within
 * limits, so a batch of a thousand files does not make a thousand KMS calls (the AWS Encryption SDK's caching
 * materials manager, reduced to what Kenv needs).
 *
 * Encrypting: files under the same keys (`scope`), suite and encryption context share a data key until it is
 * `maxAgeSeconds` old, has served `maxMessages` files or `maxBytes` bytes; a file bigger than `maxBytes` bypasses
 * the cache. Each file is still its own message with a fresh message id, from which its encryption key is derived,
 * so reusing a data key does not reuse an encryption key. Concurrent misses for one entry share one KMS call.
 * Decrypting: files whose data keys are wrapped identically share one KMS Decrypt.
 *
 * The limits are read on every use (the app's settings can change them while it runs). Cached keys live only in
 * this process's memory, are handed out as copies, and are zeroed when evicted and on `clear()`.
 */
export class DataKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry | undefined>>();
  private readonly limits: () => CacheLimits | Promise<CacheLimits>;
  private readonly now: () => number;

  constructor(limits: CacheLimits | (() => CacheLimits | Promise<CacheLimits>) = DEFAULT_CACHE_LIMITS, opts: { now?: () => number } = {}) {
    this.limits = typeof limits === 'function' ? limits : () => limits;
    this.now = opts.now ?? Date.now;
  }

  /** `inner`, with its data keys cached under `scope` (e.g. the key ids), charging `bytes` for this file. */
  keyring(inner: Keyring, scope: string, bytes: number): Keyring {
    return {
      wrapDataKey: async (req: WrapRequest) => {
        // A key handed in by another keyring is not this cache's to keep.
        if (req.dataKey) return inner.wrapDataKey(req);
        const id = `wrap\0${scope}\0${req.suiteId}\0${canonical(req.context)}`;
        const entry = await this.through(id, bytes, async () => {
          const fresh = await inner.wrapDataKey(req);
          return { dataKey: fresh.dataKey, edks: fresh.edks };
        });
        if (!entry) return inner.wrapDataKey(req);
        return entry;
      },
      unwrapDataKey: async (req: UnwrapRequest) => {
        const id = `unwrap\0${req.suiteId}\0${canonical(req.context)}\0${req.edks.map(edkId).sort().join('\0')}`;
        const entry = await this.through(id, bytes, async () => ({ dataKey: await inner.unwrapDataKey(req), edks: [] }));
        if (!entry) return inner.unwrapDataKey(req);
        return entry.dataKey;
      },
    };
  }

  /** Zeroes and forgets every cached key (on profile change, at the end of a batch, on quit). */
  clear(): void {
    for (const entry of this.entries.values()) entry.dataKey.fill(0);
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * A copy of the entry `id`'s key and its encrypted data keys, the entry charged with one more message of `bytes`,
   * made with `make` on a miss (one `make` for concurrent misses); undefined when the cache is off or the message is
   * too big for any entry (the caller asks KMS itself). The copy is taken in the same step as the charge: by the time
   * an `await` hands it over, a later message may already have found the entry full and zeroed its key.
   */
  private async through(
    id: string,
    bytes: number,
    make: () => Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }>,
  ): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] } | undefined> {
    const limits = await this.limits();
    if (limits.maxAgeSeconds <= 0 || limits.maxMessages < 2 || bytes > limits.maxBytes) return undefined;
    for (;;) {
      const entry = this.entries.get(id);
      if (entry) {
        if (this.admits(entry, bytes, limits)) {
          entry.messages += 1;
          entry.bytes += bytes;
          return { dataKey: Buffer.from(entry.dataKey), edks: entry.edks };
        }
        this.evict(id);
      }
      const waiting = this.pending.get(id);
      if (waiting) {
        await waiting.catch(() => undefined);
        continue;
      }
      const made = make().then((m) => {
        const created: Entry = { dataKey: Buffer.from(m.dataKey), edks: m.edks, created: this.now(), messages: 0, bytes: 0 };
        m.dataKey.fill(0);
        this.evict(id);
        this.entries.set(id, created);
        return created;
      });
      this.pending.set(id, made);
      try {
        await made;
      } finally {
        this.pending.delete(id);
      }
    }
  }

  private admits(entry: Entry, bytes: number, limits: CacheLimits): boolean {
    return this.now() - entry.created < limits.maxAgeSeconds * 1000 && entry.messages + 1 <= limits.maxMessages && entry.bytes + bytes <= limits.maxBytes;
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
