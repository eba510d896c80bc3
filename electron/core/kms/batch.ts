import type { ErrorInfo } from '../../../shared/errors.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { encryptFile, inputSize } from '../files.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';
import { type CacheLimits, DataKeyCache, DEFAULT_CACHE_LIMITS } from './data-key-cache.js';
import { AdaptiveLimit, mapLimit } from './limit.js';
import { type ThrottleNotice, withThrottleScope } from './throttle.js';

export const DEFAULT_BATCH_CONCURRENCY = 4;

export interface EncryptBatchOptions {
  keyring: Keyring;
  context?: EncryptionContext;
  outDir?: string;
  force?: boolean;
  frameLength?: number;
  sign?: boolean;
  maxEncryptedDataKeys?: number;
  /** Give each file its own `kenv:file-id` audit id (each file then needs its own data key: the id is in the context). */
  fileId?: boolean;
  /**
   * The most files in flight at once, and so KMS calls in flight at once (default 4): KMS quotas are per account and
   * Region. While KMS throttles, the batch halves this (down to 1) and grows it back by one per file done.
   */
  concurrency?: number;
  /** Reuse data keys across the batch within these limits; false turns the cache off. Default: on, with the defaults. */
  cache?: Partial<CacheLimits> | false;
  signal?: AbortSignal;
  /** A KMS call of a file is waiting out throttling (the KMS client's backoff, see kms/throttle.ts). */
  onThrottle?: (notice: ThrottleNotice & { input: string }) => void;
  onFileDone?: (result: BatchFileResult) => void;
}

export type BatchFileResult =
  | { input: string; ok: true; outputPath: string; messageId: string }
  | { input: string; ok: false; error: ErrorInfo };

/**
 * Encrypts many files with a cap on concurrent KMS calls that adapts to throttling, reusing data keys.
 *
 * Every file gets a result; one file's failure does not stop the others (a cancel does). Throttled KMS calls are
 * waited out by the KMS client itself (the SDK's adaptive retries, then Kenv's bounded backoff: kms/client.ts), so
 * a burst of throttling costs time, not files; each such wait is reported through `onThrottle` and halves the
 * batch's concurrency. The data key cache (see DataKeyCache) makes a batch of N files cost about
 * N / maxMessages GenerateDataKey calls instead of N.
 */
export async function encryptBatch(files: readonly string[], opts: EncryptBatchOptions): Promise<BatchFileResult[]> {
  const limit = new AdaptiveLimit(opts.concurrency ?? DEFAULT_BATCH_CONCURRENCY);
  const cache = opts.cache === false ? undefined : new DataKeyCache({ ...DEFAULT_CACHE_LIMITS, ...opts.cache });
  try {
    return await mapLimit(files, limit, async (input) => {
      if (opts.signal?.aborted) throw new KenvError('CANCELLED', 'The batch was cancelled.');
      const onThrottle = (notice: ThrottleNotice) => {
        limit.throttled();
        opts.onThrottle?.({ ...notice, input });
      };
      let result: BatchFileResult;
      try {
        const out = await withThrottleScope({ onThrottle, signal: opts.signal }, async () => {
          const size = cache ? (await inputSize(input)).size : 0;
          return encryptFile(input, {
            keyring: cache ? cache.keyring(opts.keyring, '', size) : opts.keyring,
            ...(opts.context ? { context: opts.context } : {}),
            ...(opts.outDir ? { outDir: opts.outDir } : {}),
            ...(opts.force ? { force: true } : {}),
            ...(opts.frameLength ? { frameLength: opts.frameLength } : {}),
            ...(opts.sign ? { sign: true } : {}),
            ...(opts.maxEncryptedDataKeys !== undefined ? { maxEncryptedDataKeys: opts.maxEncryptedDataKeys } : {}),
            ...(opts.fileId ? { fileId: true } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
          });
        });
        limit.succeeded();
        result = { input, ok: true, outputPath: out.outputPath, messageId: out.messageId };
      } catch (e) {
        const info = toErrorInfo(e);
        if (info.code === 'CANCELLED') throw e;
        if (info.code === 'KMS_THROTTLED') limit.throttled();
        result = { input, ok: false, error: info };
      }
      opts.onFileDone?.(result);
      return result;
    });
  } finally {
    cache?.clear();
  }
}
