import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { AdaptiveRetryStrategy, DEFAULT_MAX_ATTEMPTS, DefaultRateLimiter } from '@smithy/core/retry';
import { AWS_CLIENT_TIMEOUTS, awsSdkLogger, recordEndpointOnErrors } from '../aws/network-errors.js';
import { type KmsRetryOptions, THROTTLE_BACKOFF_MIDDLEWARE, throttleBackoffMiddleware } from './throttle.js';

/** One KMS client per Region, created on first use. `undefined` is the Region the profile or environment names. */
export type KmsClientFactory = (region?: string) => KMSClient;

export interface KmsClientOptions {
  profile?: string;
  region?: string;
  /** How throttled calls are retried (default: the SDK's adaptive mode, then up to a minute of Kenv's backoff). */
  retry?: KmsRetryOptions;
}

/** Requests a second below which the SDK's adaptive rate limiter never slows a client. */
const ADAPTIVE_MIN_RATE = 5;

/**
 * The one place Kenv builds a KMS client: `config` plus the retry policy every KMS call gets, the SDK's adaptive
 * retry mode (3 attempts, a client-side rate limiter that slows down after throttling) wrapped in Kenv's own capped
 * exponential backoff with jitter, so a burst of throttling on a shared account quota is waited out (see throttle.ts).
 */
export function createKmsClient(config: KMSClientConfig = {}, retry: KmsRetryOptions = {}): KMSClient {
  // AWS_RETRY_MODE and AWS_MAX_ATTEMPTS still win over the defaults, as they do for the AWS CLI.
  const mode = retry.sdkRetryMode ?? (process.env.AWS_RETRY_MODE === 'standard' ? 'standard' : 'adaptive');
  const maxAttempts = retry.sdkMaxAttempts ?? (Number(process.env.AWS_MAX_ATTEMPTS) || DEFAULT_MAX_ATTEMPTS);
  const client = new KMSClient({
    maxAttempts,
    // The adaptive limiter's default floor, 0.5 requests a second, is where a client that meets throttling before it
    // has measured its own rate starts: a burst of 50 throttled answers then costs over a minute of client-side
    // waiting (measured against `kenv local-kms --throttle-first 50`). A floor of a few requests a second still
    // backs off hard and lets the burst pass within the backoff budget.
    ...(mode === 'adaptive'
      ? { retryStrategy: new AdaptiveRetryStrategy(maxAttempts, { rateLimiter: new DefaultRateLimiter({ minFillRate: ADAPTIVE_MIN_RATE }) }) }
      : { retryMode: 'standard' }),
    requestHandler: AWS_CLIENT_TIMEOUTS,
    logger: awsSdkLogger(),
    ...config,
  });
  client.middlewareStack.add(throttleBackoffMiddleware(retry), THROTTLE_BACKOFF_MIDDLEWARE);
  recordEndpointOnErrors(client, config.profile);
  return client;
}

/**
 * KMS clients that resolve credentials, Region and endpoint the way the AWS CLI does: the SDK's default chain
 * (environment, `~/.aws/config` and `credentials`, SSO cache, `AWS_ENDPOINT_URL_KMS`).
 */
export function defaultKmsClientFactory(opts: KmsClientOptions = {}): KmsClientFactory {
  const clients = new Map<string, KMSClient>();
  return (region) => {
    const wanted = region ?? opts.region;
    const cacheKey = wanted ?? '';
    let client = clients.get(cacheKey);
    if (!client) {
      client = createKmsClient({
        ...(wanted ? { region: wanted } : {}),
        ...(opts.profile ? { profile: opts.profile } : {}),
      }, opts.retry);
      clients.set(cacheKey, client);
    }
    return client;
  };
}

export { isKeyArn, isKeyReference, regionOfKey } from './key-ids.js';
