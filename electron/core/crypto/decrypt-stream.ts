import type { KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { errnoCode, errnoText } from '../atomic-output.js';
import { KenvError } from '../errors.js';
import { serializeEncryptionContext } from '../format/context.js';
import { type FrameSpan, FINAL_FRAME_OVERHEAD, MAX_FRAMES, REGULAR_FRAME_OVERHEAD } from '../format/frames.js';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, type ParsedHeader, tryParseHeader } from '../format/header.js';
import { commitmentMatches, deriveKeys, headerAuthVerifies } from '../format/keys.js';
import { FINAL_FRAME_MARKER, IV_LENGTH, PUBLIC_KEY_CONTEXT_KEY } from '../format/suites.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';
import { ByteQueue } from './byte-queue.js';
import { type FramePool, type OpenOutcome, sharedFramePool } from './frame-pool.js';
import { OrderedBatches, batchesInFlight, framesPerBatch } from './ordered-batches.js';
import { type Verifier, createMessageVerifier, publicKeyFromContext, signatureVerifies } from './signature.js';

export interface DecryptOptions {
  keyring: Keyring;
  /**
   * Pairs the message must have been encrypted with. Pairs stored in the header must match; pairs not stored
   * there are supplied as the "required encryption context" (they are authenticated, not stored).
   */
  requiredContext?: EncryptionContext;
  pool?: FramePool;
  /**
   * Refuse a message with more encrypted data keys than this (TOO_MANY_DATA_KEYS) right after its header is read,
   * before any keyring call. Default DEFAULT_MAX_ENCRYPTED_DATA_KEYS (10).
   */
  maxEncryptedDataKeys?: number;
  /** Called once the header is authenticated, before any plaintext. */
  onHeader?: (header: ParsedHeader) => void;
}

type State = 'header' | 'frames' | 'footer' | 'done';

interface Batch {
  buffer: Buffer;
  filled: number;
  spans: FrameSpan[];
}

/**
 * A Transform from a .kenv message to its plaintext.
 *
 * Stages, in order: parse the header, open the data key with the keyring, check key commitment, authenticate the
 * header, then frames in parallel on the worker pool (plaintext of a batch is released only after every tag in it
 * verified), then for signed messages the footer. For a signed message the final batch is held until the
 * signature verifies. Truncation, reordering and trailing bytes are errors with codes of their own.
 *
 * Once any check fails, nothing more is pushed: not the batches still in flight, not the held final batch.
 * What was pushed before is what streaming releases early (each frame authenticated, the whole message not yet).
 */
export class DecryptStream extends Transform {
  private readonly pool: FramePool;
  private readonly input = new ByteQueue();
  private state: State = 'header';
  private header: ParsedHeader | undefined;
  private key: Buffer | undefined;
  private verifier: Verifier | undefined;
  private publicKey: KeyObject | undefined;
  private expectedSequence = 1;
  private batch: Batch | undefined;
  private inFlight: OrderedBatches<OpenOutcome> | undefined;
  private heldFinal: Promise<OpenOutcome> | undefined;
  private framesPerBatch = 1;
  private ciphertextBytes = 0;
  private failed = false;

  constructor(private readonly opts: DecryptOptions) {
    super({ readableHighWaterMark: 4 * 1024 * 1024, writableHighWaterMark: 4 * 1024 * 1024 });
    this.pool = opts.pool ?? sharedFramePool();
  }

  /** Ciphertext bytes consumed so far. */
  get bytesIn(): number {
    return this.ciphertextBytes;
  }

  /** The header, once parsed. */
  get parsedHeader(): ParsedHeader | undefined {
    return this.header;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.ciphertextBytes += chunk.length;
    this.input.push(chunk);
    this.advance().then(() => callback(), (e: Error) => callback(this.fail(e)));
  }

  override _flush(callback: TransformCallback): void {
    this.finish().then(() => callback(), (e: Error) => callback(this.fail(e)));
  }

  /** From the first failure on, no plaintext leaves. */
  private fail(e: Error): Error {
    this.failed = true;
    return e;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.key?.fill(0);
    callback(error);
  }

  private async advance(): Promise<void> {
    if (this.state === 'header') {
      const header = tryParseHeader(this.input.all(), { maxEncryptedDataKeys: this.opts.maxEncryptedDataKeys ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS });
      if (!header) return;
      this.input.skip(header.bytes.length);
      await this.openHeader(header);
      this.state = 'frames';
    }
    if (this.state === 'frames') await this.readFrames();
    if (this.state === 'footer') await this.readFooter();
    if (this.state === 'done' && this.input.length > 0) {
      throw new KenvError(
        'TRAILING_BYTES',
        `${this.input.length} unexpected bytes follow the end of the message: the file was altered or two files were joined. Nothing was decrypted; get an intact copy.`,
      );
    }
  }

  private async openHeader(header: ParsedHeader): Promise<void> {
    // The verification key is checked before the keyring is asked: a header that cannot verify costs no KMS call.
    if (header.suite.signed) this.publicKey = publicKeyFromContext(header.encryptionContext[PUBLIC_KEY_CONTEXT_KEY] ?? '');
    this.key = await openMessageKey(header, this.opts.keyring, this.opts.requiredContext ?? {});
    this.header = header;
    this.framesPerBatch = framesPerBatch(header.frameLength);
    this.inFlight = new OrderedBatches(batchesInFlight(this.pool.size));
    if (header.suite.signed) {
      this.verifier = createMessageVerifier();
      this.verifier.update(header.bytes);
    }
    this.opts.onHeader?.(header);
  }

  private async readFrames(): Promise<void> {
    const header = this.header!;
    const regularSize = REGULAR_FRAME_OVERHEAD + header.frameLength;
    while (this.state === 'frames') {
      if (this.input.length < 4) return;
      const first = this.input.peek(4).readUInt32BE(0);
      const final = first === FINAL_FRAME_MARKER;
      let size = regularSize;
      let length = header.frameLength;
      let sequence = first;
      if (final) {
        const fixed = 8 + IV_LENGTH + 4;
        if (this.input.length < fixed) return;
        const head = this.input.peek(fixed);
        sequence = head.readUInt32BE(4);
        length = head.readUInt32BE(8 + IV_LENGTH);
        this.checkSequence(sequence);
        if (length > header.frameLength) {
          throw new KenvError(
            'FRAME_TAMPERED',
            `The final frame claims ${length} bytes, more than the message's frame length of ${header.frameLength}: the file was altered. Nothing more was decrypted.`,
          );
        }
        size = FINAL_FRAME_OVERHEAD + length;
      } else {
        this.checkSequence(sequence);
      }
      if (this.input.length < size) return;
      await this.addFrame(size, { sequence, final, start: 0, length });
      this.expectedSequence++;
      if (final) this.state = header.suite.signed ? 'footer' : 'done';
    }
  }

  private checkSequence(sequence: number): void {
    if (sequence === this.expectedSequence) return;
    if (this.expectedSequence > MAX_FRAMES) {
      throw new KenvError('FRAME_TAMPERED', 'The message has more frames than the format allows: the file was altered.');
    }
    throw new KenvError(
      'FRAME_OUT_OF_ORDER',
      `Frame ${sequence} appears where frame ${this.expectedSequence} belongs: frames were reordered, duplicated or removed. Nothing after frame ${this.expectedSequence - 1} was decrypted; get an intact copy of the file.`,
    );
  }

  private async addFrame(size: number, span: FrameSpan): Promise<void> {
    if (!this.batch) {
      const capacity = span.final ? size : this.framesPerBatch * (REGULAR_FRAME_OVERHEAD + this.header!.frameLength);
      this.batch = { buffer: Buffer.allocUnsafeSlow(capacity), filled: 0, spans: [] };
    }
    const batch = this.batch;
    if (batch.filled + size > batch.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(batch.filled + size);
      batch.buffer.copy(grown, 0, 0, batch.filled);
      batch.buffer = grown;
    }
    this.input.consumeInto(batch.buffer, batch.filled, size);
    this.verifier?.update(batch.buffer.subarray(batch.filled, batch.filled + size));
    batch.spans.push({ ...span, start: batch.filled });
    batch.filled += size;
    if (span.final || batch.spans.length >= this.framesPerBatch) await this.submitBatch(span.final);
  }

  private async submitBatch(final: boolean): Promise<void> {
    const batch = this.batch!;
    this.batch = undefined;
    const frames = batch.filled === batch.buffer.length ? batch.buffer : Buffer.from(batch.buffer.subarray(0, batch.filled));
    const opened = this.pool.open({ key: this.key!, messageId: this.header!.messageId, frames, spans: batch.spans });
    if (final) {
      // The final batch waits for the end of input: the signature (if any) and the check for trailing bytes.
      opened.catch(() => undefined);
      this.heldFinal = opened;
      return;
    }
    for (const outcome of await this.inFlight!.add(opened)) this.release(outcome);
  }

  private async readFooter(): Promise<void> {
    if (this.input.length < 2) return;
    const length = this.input.peek(2).readUInt16BE(0);
    if (this.input.length < 2 + length) return;
    const signature = Buffer.allocUnsafe(length);
    this.input.skip(2);
    this.input.consumeInto(signature, 0, length);
    if (!signatureVerifies(this.verifier!, this.publicKey!, signature)) {
      this.failed = true;
      // A frame that fails its own tag is the more precise report (the signature covers it too); the batches still
      // in flight are only checked, never released.
      for (const outcome of [...(await this.inFlight!.drain()), ...(this.heldFinal ? [await this.heldFinal] : [])]) {
        this.checkOpened(outcome);
        outcome.plaintext.fill(0);
      }
      throw badSignature();
    }
    this.state = 'done';
  }

  private async finish(): Promise<void> {
    switch (this.state) {
      case 'header':
        throw this.input.length === 0
          ? new KenvError('NOT_KENV', 'The input is empty, so it is not a .kenv file.')
          : new KenvError(
              'TRUNCATED_HEADER',
              `The file ends inside the message header after ${this.input.length} bytes: it was cut short, or a length field in the header was altered. Get a complete copy of the file.`,
            );
      case 'frames':
        throw new KenvError(
          'TRUNCATED_BODY',
          `The file ends after frame ${this.expectedSequence - 1} without a final frame: it was cut short (an interrupted copy or download). No output was kept; get a complete copy of the file.`,
        );
      case 'footer':
        throw new KenvError(
          'TRUNCATED_FOOTER',
          'The file ends before its signature is complete: it was cut short. The final frame was not released; get a complete copy of the file.',
        );
      case 'done':
        for (const outcome of await this.inFlight!.drain()) this.release(outcome);
        if (this.heldFinal) this.release(await this.heldFinal);
        this.key?.fill(0);
    }
  }

  private release(outcome: OpenOutcome): void {
    this.checkOpened(outcome);
    if (!this.failed) this.push(outcome.plaintext);
  }

  private checkOpened(outcome: OpenOutcome): asserts outcome is Extract<OpenOutcome, { ok: true }> {
    if (!outcome.ok) {
      this.failed = true;
      throw new KenvError(
        'FRAME_TAMPERED',
        outcome.reason === 'iv'
          ? `Frame ${outcome.sequence} has an IV that does not match its sequence number: the file was altered. Nothing from that frame on was released.`
          : `Frame ${outcome.sequence} failed authentication: its bytes were altered. Nothing from that frame on was released; get an intact copy of the file.`,
      );
    }
  }
}

/** The error for a signature that does not verify: the same words whichever path found it. */
export function badSignature(): KenvError {
  return new KenvError(
    'BAD_SIGNATURE',
    'The message signature does not verify: the file was altered after it was signed. Nothing more was released (never the final frame, which waits for the signature); do not trust this file.',
  );
}

/**
 * Opens the data key of a parsed header with the keyring, checks the key commitment and authenticates the header.
 *
 * Returns the message's derived encryption key; throws the KenvError a person should see when any check fails.
 */
export async function openMessageKey(header: ParsedHeader, keyring: Keyring, requiredContext: EncryptionContext): Promise<Buffer> {
  const { storedContext, requiredOnly } = splitRequiredContext(header.encryptionContext, requiredContext);
  const dataKey = await keyring.unwrapDataKey({
    suiteId: header.suite.id,
    context: { ...storedContext, ...requiredOnly },
    edks: header.encryptedDataKeys,
  }).catch((e: unknown) => {
    throw keyringFailure(e);
  });
  let keys;
  try {
    keys = deriveKeys(dataKey, header.messageId, header.suite.id);
  } finally {
    dataKey.fill(0);
  }
  if (!commitmentMatches(keys.commitment, header.commitment)) {
    keys.encryptionKey.fill(0);
    throw new KenvError(
      'COMMITMENT_MISMATCH',
      'The data key does not match the key commitment in the header: the header (its message id or commitment) was altered, or the file was crafted to decrypt differently under different keys. Nothing was decrypted; do not trust this file.',
    );
  }
  const required = serializeEncryptionContext(requiredOnly);
  if (!headerAuthVerifies(keys.encryptionKey, header.authenticatedBytes, required, header.authTag)) {
    const withoutRequired = required.length > 0 && headerAuthVerifies(keys.encryptionKey, header.authenticatedBytes, Buffer.alloc(0), header.authTag);
    keys.encryptionKey.fill(0);
    if (withoutRequired) {
      throw new KenvError(
        'CONTEXT_MISMATCH',
        `The file was not encrypted with the encryption context you required (${Object.keys(requiredOnly).join(', ')} is not part of it). Check the --context pairs.`,
      );
    }
    throw new KenvError(
      'HEADER_TAMPERED',
      'The header failed authentication: a header field was altered after encryption (or a required encryption context pair is missing). Nothing was decrypted; get an intact copy of the file.',
    );
  }
  return keys.encryptionKey;
}

/**
 * A keyring's own I/O error (a key file it reads, say) as a KenvError naming what failed. Left raw, the file paths
 * blamed it on the input or output by its errno code ("Cannot write …" from a pipe), or not at all from a regular
 * file. Errors without an errno code, and a cancel, pass unchanged.
 */
function keyringFailure(e: unknown): unknown {
  if (e instanceof KenvError || !errnoCode(e) || (e instanceof Error && e.name === 'AbortError')) return e;
  const path = e && typeof e === 'object' && 'path' in e && typeof e.path === 'string' ? e.path : undefined;
  const why = errnoText(e, 'read');
  return new KenvError(
    'INVALID_KEY',
    path
      ? `Opening this file's data key needs ${path}, which cannot be read: ${why}. Nothing was decrypted; check that file.`
      : `The key failed while opening this file's data key: ${why}. Nothing was decrypted.`,
    { cause: e },
  );
}

/**
 * Checks the pairs a person requires against the header's context: a stored pair must match, an absent one becomes
 * part of the required context that is authenticated but not stored.
 */
export function splitRequiredContext(
  stored: EncryptionContext,
  required: EncryptionContext,
): { storedContext: EncryptionContext; requiredOnly: EncryptionContext } {
  const requiredOnly: EncryptionContext = {};
  for (const [key, value] of Object.entries(required)) {
    if (Object.prototype.hasOwnProperty.call(stored, key)) {
      if (stored[key] !== value) {
        throw new KenvError(
          'CONTEXT_MISMATCH',
          `The file's encryption context has ${key}=${stored[key]}, but ${key}=${value} was required. It is not the file you expect, or the --context value is wrong.`,
        );
      }
    } else {
      requiredOnly[key] = value;
    }
  }
  return { storedContext: { ...stored }, requiredOnly };
}
