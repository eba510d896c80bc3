import type { ErrorInfo } from '../../../shared/errors.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { encryptFile, inputSize } from '../files.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';
import { DataKeyCache, type DataKeyCacheLimits, DEFAULT_DATA_KEY_CACHE_LIMITS } from './data-key-cache.js';
import { mapLimit } from './limit.js';

export interface BatchRetry {
  /** Tries per file when KMS keeps throttling (each try already includes the SDK's own retries). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BATCH_CONCURRENCY = 4;
export const DEFAULT_BATCH_RETRY: BatchRetry = { attempts: 8, baseDelayMs: 200, maxDelayMs: 10_000 };

export interface EncryptBatchOptions {
  keyring: Keyring;
  context?: EncryptionContext;
  outDir?: string;
  force?: boolean;
  frameLength?: number;
  sign?: boolean;
  /** Files in flight at once, and so KMS calls in flight at once (default 4): KMS quotas are per account and Region. */
  concurrency?: number;
  /** Reuse data keys across the batch within these limits; false turns the cache off. Default: on, with the defaults. */
  cache?: Partial<DataKeyCacheLimits> | false;
  retry?: Partial<BatchRetry>;
  /** Waits between throttled tries (exponential backoff with full jitter). */
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  onFileDone?: (result: BatchFileResult) => void;
}

export type BatchFileResult =
  | { input: string; ok: true; outputPath: string; messageId: string; tries: number }
  | { input: string; ok: false; error: ErrorInfo; tries: number };

/**
 * Encrypts many files with a cap on concurrent KMS calls, retrying files KMS throttled, reusing data keys.
 *
 * Every file gets a result; one file's failure does not stop the others (a cancel does). A file whose KMS call was
 * throttled past the SDK's retries is tried again after an exponential backoff with full jitter, so a batch rides out
 * a burst of throttling. The data key cache (see DataKeyCache) makes a batch of N files cost about
 * N / maxMessages GenerateDataKey calls instead of N.
 */
export async function encryptBatch(files: readonly string[], opts: EncryptBatchOptions): Promise<BatchFileResult[]> {
  const retry = { ...DEFAULT_BATCH_RETRY, ...opts.retry };
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const cache = opts.cache === false ? undefined : new DataKeyCache(opts.keyring, { ...DEFAULT_DATA_KEY_CACHE_LIMITS, ...opts.cache });
  try {
    return await mapLimit(files, opts.concurrency ?? DEFAULT_BATCH_CONCURRENCY, async (input) => {
      let tries = 0;
      while (true) {
        if (opts.signal?.aborted) throw new KenvError('CANCELLED', 'The batch was cancelled.');
        tries += 1;
        try {
          const size = cache ? (await inputSize(input)).size : 0;
          const out = await encryptFile(input, {
            keyring: cache ? cache.keyringFor(size) : opts.keyring,
            ...(opts.context ? { context: opts.context } : {}),
            ...(opts.outDir ? { outDir: opts.outDir } : {}),
            ...(opts.force ? { force: true } : {}),
            ...(opts.frameLength ? { frameLength: opts.frameLength } : {}),
            ...(opts.sign ? { sign: true } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
          });
          const result: BatchFileResult = { input, ok: true, outputPath: out.outputPath, messageId: out.messageId, tries };
          opts.onFileDone?.(result);
          return result;
        } catch (e) {
          const info = toErrorInfo(e);
          if (info.code === 'CANCELLED') throw e;
          if (info.code === 'KMS_THROTTLED' && tries < retry.attempts) {
            await sleep(Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (tries - 1)));
            continue;
          }
          const result: BatchFileResult = { input, ok: false, error: info, tries };
          opts.onFileDone?.(result);
          return result;
        }
      }
    });
  } finally {
    cache?.dispose();
  }
}
