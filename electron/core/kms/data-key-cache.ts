import type { EncryptedDataKey, Keyring, UnwrapRequest, WrapRequest } from '../keyring/types.js';

/** When a cached data key must stop being reused (the AWS Encryption SDK's local cache limits). */
export interface DataKeyCacheLimits {
  /** How long one data key is reused, from when KMS generated it. */
  maxAgeMs: number;
  /** How many messages (files) one data key encrypts. */
  maxMessages: number;
  /** How many plaintext bytes one data key encrypts, summed over its messages. */
  maxBytes: number;
}

/** Kenv's batch defaults: five minutes, 500 files, 4 GiB per data key. */
export const DEFAULT_DATA_KEY_CACHE_LIMITS: DataKeyCacheLimits = { maxAgeMs: 5 * 60_000, maxMessages: 500, maxBytes: 4 * 1024 ** 3 };

interface Entry {
  dataKey: Buffer;
  edks: EncryptedDataKey[];
  createdAt: number;
  messages: number;
  bytes: number;
}

/**
 * Reuses one wrapped data key across the files of a batch, as the AWS Encryption SDK's caching CMM does.
 *
 * Each file is still its own message: a fresh message id, from which the per-message key is derived, so reusing the
 * data key does not reuse an encryption key. Entries are per algorithm suite and encryption context, and end at the
 * first limit reached; concurrent misses for the same entry share one KMS call. Off for single files: only batches
 * create a cache. `dispose()` zeroes every cached key.
 */
export class DataKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  private readonly now: () => number;

  constructor(
    private readonly inner: Keyring,
    readonly limits: DataKeyCacheLimits = DEFAULT_DATA_KEY_CACHE_LIMITS,
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** A keyring for one message of `plaintextLength` bytes that draws its data key from the cache. */
  keyringFor(plaintextLength: number): Keyring {
    return {
      wrapDataKey: (req) => this.wrap(req, plaintextLength),
      unwrapDataKey: (req: UnwrapRequest) => this.inner.unwrapDataKey(req),
    };
  }

  /** Zeroes and forgets every cached data key. */
  dispose(): void {
    for (const entry of this.entries.values()) entry.dataKey.fill(0);
    this.entries.clear();
  }

  private async wrap(req: WrapRequest, plaintextLength: number): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }> {
    // A key handed in by another keyring, or a message too big for any entry, bypasses the cache.
    if (req.dataKey || plaintextLength > this.limits.maxBytes || this.limits.maxMessages < 1 || this.limits.maxAgeMs <= 0) return this.inner.wrapDataKey(req);
    const id = `${req.suiteId}\u0000${canonicalContext(req.context)}`;
    while (true) {
      const entry = this.entries.get(id) ?? (await this.pending.get(id));
      if (entry && this.admits(entry, plaintextLength)) {
        entry.messages += 1;
        entry.bytes += plaintextLength;
        return { dataKey: Buffer.from(entry.dataKey), edks: entry.edks };
      }
      if (entry && this.entries.get(id) === entry) {
        this.entries.delete(id);
        entry.dataKey.fill(0);
      }
      if (this.pending.has(id)) continue;
      const fresh = this.generate(req);
      this.pending.set(id, fresh);
      try {
        const created = await fresh;
        this.entries.set(id, created);
      } finally {
        this.pending.delete(id);
      }
    }
  }

  private async generate(req: WrapRequest): Promise<Entry> {
    const { dataKey, edks } = await this.inner.wrapDataKey({ suiteId: req.suiteId, context: req.context });
    const entry: Entry = { dataKey: Buffer.from(dataKey), edks, createdAt: this.now(), messages: 0, bytes: 0 };
    dataKey.fill(0);
    return entry;
  }

  private admits(entry: Entry, plaintextLength: number): boolean {
    return (
      this.now() - entry.createdAt < this.limits.maxAgeMs &&
      entry.messages + 1 <= this.limits.maxMessages &&
      entry.bytes + plaintextLength <= this.limits.maxBytes
    );
  }
}

function canonicalContext(context: Record<string, string>): string {
  return JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]]));
}
