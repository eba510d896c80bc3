import { AsyncLocalStorage } from 'node:async_hooks';
import type { InitializeMiddleware } from '@smithy/types';
import { isThrottlingError } from './errors.js';

/** Kenv's own backoff for throttled KMS calls, on top of the SDK's retries. */
export interface ThrottleBackoff {
  /** The first wait's upper bound; each further wait doubles it (full jitter: a random wait up to the bound). */
  baseDelayMs: number;
  /** No single wait is longer than this. */
  maxDelayMs: number;
  /** One call gives up once its waits would add up to more than this. */
  budgetMs: number;
}

/** About a minute of patience per KMS call: long enough for a burst on a shared account quota to pass. */
export const DEFAULT_THROTTLE_BACKOFF: ThrottleBackoff = { baseDelayMs: 500, maxDelayMs: 5_000, budgetMs: 60_000 };

/** One wait before a throttled KMS call is sent again. */
export interface ThrottleNotice {
  operation: string;
  /** How long Kenv waits before the next try. */
  waitMs: number;
  /** 1 for the first wait of this call, 2 for the second… */
  retry: number;
}

/** How KMS clients retry: the SDK's retry mode and attempts, then Kenv's bounded backoff. */
export interface KmsRetryOptions extends Partial<ThrottleBackoff> {
  /** The SDK's retry mode (default `adaptive`: its client-side rate limiter slows down after throttling). */
  sdkRetryMode?: 'adaptive' | 'standard';
  /** Attempts inside one SDK call (default 3, the SDK's). */
  sdkMaxAttempts?: number;
  /** Waits `ms`, rejecting with an AbortError when `signal` aborts. Default: a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
  /** Told about every wait, whoever made the call. */
  onThrottle?: (notice: ThrottleNotice) => void;
}

/** What a piece of work wants to hear while its KMS calls wait: its listener and its cancel signal. */
interface ThrottleScope {
  onThrottle?: ((notice: ThrottleNotice) => void) | undefined;
  signal?: AbortSignal | undefined;
  parent?: ThrottleScope | undefined;
}

const scopes = new AsyncLocalStorage<ThrottleScope>();

/**
 * Runs `fn`; every throttling wait of a KMS call it makes (directly or deep inside) is reported to `onThrottle`,
 * and `signal` cuts such a wait short.
 *
 * A job or a batch file wraps its work in this, so "KMS is throttling; retrying in N s" reaches the progress of the
 * work that is waiting, not of every job in the app. Scopes nest: an outer listener hears inner waits too.
 */
export function withThrottleScope<T>(scope: { onThrottle?: ((notice: ThrottleNotice) => void) | undefined; signal?: AbortSignal | undefined }, fn: () => Promise<T>): Promise<T> {
  return scopes.run({ ...scope, parent: scopes.getStore() }, fn);
}

/** "KMS is throttling; retrying in N s", N rounded up to whole seconds. */
export function describeThrottle(notice: ThrottleNotice): string {
  return `KMS is throttling; retrying in ${Math.max(1, Math.ceil(notice.waitMs / 1000))} s`;
}

/**
 * An SDK middleware (initialize step, so it wraps the SDK's own retries) that sends a throttled call again after a
 * capped exponential backoff with full jitter, until the waits would exceed the budget; then the last throttling
 * error is thrown with `$metadata.attempts` counting every attempt made.
 */
export function throttleBackoffMiddleware<I extends object, O extends object>(opts: KmsRetryOptions = {}): InitializeMiddleware<I, O> {
  const backoff: ThrottleBackoff = {
    baseDelayMs: opts.baseDelayMs ?? DEFAULT_THROTTLE_BACKOFF.baseDelayMs,
    maxDelayMs: opts.maxDelayMs ?? DEFAULT_THROTTLE_BACKOFF.maxDelayMs,
    budgetMs: opts.budgetMs ?? DEFAULT_THROTTLE_BACKOFF.budgetMs,
  };
  const sleep = opts.sleep ?? abortableSleep;
  const random = opts.random ?? Math.random;
  return (next, context) => async (args) => {
    const operation = String((context as { commandName?: string }).commandName ?? 'KMS call').replace(/Command$/, '');
    let waited = 0;
    let attempts = 0;
    for (let retry = 1; ; retry++) {
      try {
        return await next(args);
      } catch (e) {
        attempts += attemptsIn(e);
        if (!isThrottlingError(e)) throw e;
        const scope = scopes.getStore();
        const bound = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (retry - 1));
        const waitMs = Math.round(random() * bound);
        if (waited + waitMs > backoff.budgetMs || scope?.signal?.aborted) {
          setAttempts(e, attempts);
          throw e;
        }
        const notice: ThrottleNotice = { operation, waitMs, retry };
        opts.onThrottle?.(notice);
        for (let s = scope; s; s = s.parent) s.onThrottle?.(notice);
        await sleep(waitMs, scope?.signal);
        waited += waitMs;
      }
    }
  };
}

/** Where the middleware sits: first in the initialize step, outside the SDK's retry loop. */
export const THROTTLE_BACKOFF_MIDDLEWARE = { step: 'initialize', name: 'kenvThrottleBackoff', priority: 'high' } as const;

function attemptsIn(e: unknown): number {
  const attempts = (e as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
}

function setAttempts(e: unknown, attempts: number): void {
  const err = e as { $metadata?: Record<string, unknown> } | undefined;
  if (err && typeof err === 'object') err.$metadata = { ...err.$metadata, attempts };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      const error = new Error('The wait for KMS was cancelled.');
      error.name = 'AbortError';
      reject(error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}
