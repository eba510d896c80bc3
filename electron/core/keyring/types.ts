/** Encryption context: non-secret pairs bound to a message as additional authenticated data. */
export type EncryptionContext = Record<string, string>;

/** One wrapped copy of the data key, as stored in the header. */
export interface EncryptedDataKey {
  /** `aws-kms` for KMS, the key namespace for raw AES. */
  providerId: string;
  /** The key ARN for KMS; key name + IV parameters for raw AES. */
  providerInfo: Buffer;
  ciphertext: Buffer;
}

export interface WrapRequest {
  suiteId: number;
  context: EncryptionContext;
  /** Present when another keyring generated the data key and this one only wraps it. */
  dataKey?: Buffer;
}

export interface UnwrapRequest {
  suiteId: number;
  /** The full context: stored in the header plus any required pairs supplied at decrypt time. */
  context: EncryptionContext;
  edks: readonly EncryptedDataKey[];
}

/**
 * Something that can wrap a data key for a message and unwrap it again.
 *
 * Keyrings never see plaintext file content, only the 32-byte data key.
 */
export interface Keyring {
  /** Wraps the data key (generating it when `dataKey` is absent). The caller owns and zeroes the returned key. */
  wrapDataKey(req: WrapRequest): Promise<{ dataKey: Buffer; edks: EncryptedDataKey[] }>;
  /** Returns the plaintext data key or throws a KenvError that says which keys were tried and why each failed. */
  unwrapDataKey(req: UnwrapRequest): Promise<Buffer>;
}

/** Why one encrypted data key could not be opened: what the "no key opened" error lists. */
export interface UnwrapAttempt {
  /** A person-readable name of the key: an ARN, or `raw AES namespace/name`. */
  key: string;
  code: import('../../../shared/errors.js').ErrorCode;
  reason: string;
}
