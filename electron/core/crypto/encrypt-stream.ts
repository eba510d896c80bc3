import { type KeyObject, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { KenvError } from '../errors.js';
import { u16 } from '../format/context.js';
import { MAX_FRAMES, framesInBatch } from '../format/frames.js';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, type ParsedHeader, parseHeader, serializeHeaderBody } from '../format/header.js';
import { deriveKeys, headerAuthTag } from '../format/keys.js';
import {
  type AlgorithmSuite,
  MESSAGE_ID_LENGTH,
  PUBLIC_KEY_CONTEXT_KEY,
  SUITE_COMMIT_KEY,
  SUITE_COMMIT_KEY_ECDSA_P384,
} from '../format/suites.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';
import { type FramePool, sharedFramePool } from './frame-pool.js';
import { DEFAULT_FRAME_LENGTH, MAX_WRITE_FRAME_LENGTH, MIN_FRAME_LENGTH } from './frame-length.js';
import { OrderedBatches, batchesInFlight, framesPerBatch } from './ordered-batches.js';
import { type Signer, createMessageSigner, finishSignature, generateSigningKey } from './signature.js';

export { DEFAULT_FRAME_LENGTH, MAX_WRITE_FRAME_LENGTH, MIN_FRAME_LENGTH } from './frame-length.js';

export interface EncryptOptions {
  keyring: Keyring;
  context?: EncryptionContext;
  frameLength?: number;
  /** Use suite 0x0578 (ECDSA P-384 signature in a footer). */
  sign?: boolean;
  pool?: FramePool;
  /**
   * Refuse to write a message with more encrypted data keys than this (the ESDK's rule; default 10, the limit
   * decryption applies by default, so that Kenv never writes what it would refuse to open).
   */
  maxEncryptedDataKeys?: number;
}

/** Everything a message needs before its body: the serialized header and the keys behind it. */
export interface EncryptionMaterials {
  suite: AlgorithmSuite;
  header: ParsedHeader;
  encryptionKey: Buffer;
  signingKey?: KeyObject;
}

/**
 * Generates and wraps the data key, derives the message keys and writes the header.
 *
 * This is the one async step of encryption (the keyring may call KMS); the body then streams.
 */
export async function prepareEncryption(opts: EncryptOptions): Promise<EncryptionMaterials> {
  const frameLength = opts.frameLength ?? DEFAULT_FRAME_LENGTH;
  if (!Number.isInteger(frameLength) || frameLength < MIN_FRAME_LENGTH || frameLength > MAX_WRITE_FRAME_LENGTH) {
    throw new KenvError('INVALID_ARGUMENT', `The frame length must be a whole number of bytes from 1 to ${MAX_WRITE_FRAME_LENGTH} (64 MiB); got ${frameLength}.`);
  }
  const context: EncryptionContext = { ...(opts.context ?? {}) };
  for (const key of Object.keys(context)) {
    if (key.startsWith('aws-crypto-')) {
      throw new KenvError('INVALID_ARGUMENT', `The encryption context key "${key}" is reserved by the AWS Encryption SDK (keys starting with aws-crypto-); choose another name.`);
    }
  }
  const suite = opts.sign ? SUITE_COMMIT_KEY_ECDSA_P384 : SUITE_COMMIT_KEY;
  let signingKey: KeyObject | undefined;
  if (suite.signed) {
    const pair = generateSigningKey();
    signingKey = pair.privateKey;
    context[PUBLIC_KEY_CONTEXT_KEY] = pair.publicKeyBase64;
  }
  const { dataKey, edks } = await opts.keyring.wrapDataKey({ suiteId: suite.id, context });
  const maxKeys = opts.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS;
  if (edks.length > maxKeys) {
    dataKey.fill(0);
    throw new KenvError(
      'TOO_MANY_DATA_KEYS',
      `The message would hold ${edks.length} encrypted data keys, more than the limit of ${maxKeys}; nothing was written. Use fewer keys, or raise the limit with --max-data-keys (whoever decrypts must raise it too).`,
    );
  }
  const messageId = randomBytes(MESSAGE_ID_LENGTH);
  let keys;
  try {
    keys = deriveKeys(dataKey, messageId, suite.id);
  } finally {
    dataKey.fill(0);
  }
  const body = serializeHeaderBody({
    suite,
    messageId,
    encryptionContext: context,
    encryptedDataKeys: edks,
    frameLength,
    commitment: keys.commitment,
  });
  const tag = headerAuthTag(keys.encryptionKey, body, Buffer.alloc(0));
  const header = parseHeader(Buffer.concat([body, tag]));
  return { suite, header, encryptionKey: keys.encryptionKey, ...(signingKey ? { signingKey } : {}) };
}

/**
 * A Transform from plaintext to a complete .kenv message: header, frames, and for signed suites the footer.
 *
 * Batches of frames are sealed on the worker pool while the next input arrives; output keeps message order.
 * The last full frame is held back until the input ends, so that it can become the final frame.
 */
export class EncryptStream extends Transform {
  private readonly pool: FramePool;
  private readonly frameLength: number;
  private readonly batchBytes: number;
  private readonly inFlight: OrderedBatches<Buffer>;
  private readonly signer: Signer | undefined;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private nextSequence = 1;
  private headerWritten = false;
  private plaintextBytes = 0;

  constructor(
    private readonly materials: EncryptionMaterials,
    pool: FramePool = sharedFramePool(),
  ) {
    super({ readableHighWaterMark: 4 * 1024 * 1024, writableHighWaterMark: 4 * 1024 * 1024 });
    this.pool = pool;
    this.frameLength = materials.header.frameLength;
    this.batchBytes = framesPerBatch(this.frameLength) * this.frameLength;
    this.inFlight = new OrderedBatches(batchesInFlight(pool.size));
    this.signer = materials.signingKey ? createMessageSigner() : undefined;
  }

  /** Plaintext bytes consumed so far. */
  get bytesIn(): number {
    return this.plaintextBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.writeHeader();
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    this.plaintextBytes += chunk.length;
    this.sealWhileMoreThanABatch().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.materials.encryptionKey.fill(0);
    for (const b of this.pending) b.fill(0);
    this.pending = [];
    callback(error);
  }

  private writeHeader(): void {
    if (this.headerWritten) return;
    this.headerWritten = true;
    this.output(this.materials.header.bytes);
  }

  // Strictly more than a batch: only then is it certain that the batch does not end the message.
  private async sealWhileMoreThanABatch(): Promise<void> {
    while (this.pendingLength > this.batchBytes) {
      await this.submit(this.takePending(this.batchBytes), false);
    }
  }

  private async finish(): Promise<void> {
    this.writeHeader();
    await this.sealWhileMoreThanABatch();
    await this.submit(this.takePending(this.pendingLength), true);
    for (const out of await this.inFlight.drain()) this.output(out);
    if (this.signer && this.materials.signingKey) {
      const signature = finishSignature(this.signer, this.materials.signingKey);
      this.push(Buffer.concat([u16(signature.length), signature]));
    }
    this.materials.encryptionKey.fill(0);
  }

  private async submit(plaintext: Buffer, final: boolean): Promise<void> {
    const frames = framesInBatch(plaintext.length, this.frameLength, final);
    const firstSequence = this.nextSequence;
    this.nextSequence += frames;
    if (this.nextSequence - 1 > MAX_FRAMES) {
      throw new KenvError('INVALID_ARGUMENT', 'The input needs more than 4,294,967,294 frames; use a larger --frame-size.');
    }
    const sealed = this.pool.seal({
      key: this.materials.encryptionKey,
      messageId: this.materials.header.messageId,
      frameLength: this.frameLength,
      firstSequence,
      plaintext,
      final,
    });
    for (const out of await this.inFlight.add(sealed)) this.output(out);
  }

  /** Cuts `n` bytes off the pending input into a buffer of its own, so it can be transferred to a worker. */
  private takePending(n: number): Buffer {
    const out = Buffer.allocUnsafeSlow(n);
    let filled = 0;
    while (filled < n) {
      const head = this.pending[0]!;
      const take = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, take);
      filled += take;
      if (take === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take);
    }
    this.pendingLength -= n;
    return out;
  }

  private output(bytes: Buffer): void {
    this.signer?.update(bytes);
    this.push(bytes);
  }
}
