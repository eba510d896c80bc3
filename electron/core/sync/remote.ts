import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { connectionFault } from '../aws/network-errors.js';
import { KenvError } from '../errors.js';
import { compareKeys, walkObjects } from './list-objects.js';
import { vaultNameProblem } from './names.js';
import type { RemoteObject, SkippedFile } from './types.js';

/** The object metadata key holding the SHA-256 of the ciphertext (`x-amz-meta-kenv-sha256`). */
export const SHA256_METADATA = 'kenv-sha256';

export function stripQuotes(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}

export { isSafeVaultPath } from './names.js';
export { compareKeys } from './list-objects.js';

export interface RemoteListing {
  objects: Map<string, RemoteObject>;
  skipped: SkippedFile[];
}

/** The most keys one ListObjectsV2 page carries (S3's limit, and its default). */
export const PAGE_KEYS = 1000;

/** How many ranges of the prefix are listed at once when the last sync's index says how its keys spread. */
export const LIST_RANGES = 4;

/** Thrown inside a ranged listing when the server does not list as S3 does (out of order, or StartAfter ignored). */
class UnorderedListing extends Error {}

interface ListedPage {
  objects: RemoteObject[];
  skipped: SkippedFile[];
  /** The first key the server listed (undefined: none). */
  first?: string;
  /** How the range ended: at the key past its bound (`past`), at the end of the listing, or at its bound exactly. */
  end?: { past: string } | 'listing' | 'bound';
}

/**
 * Lists the `.kenv` objects under `prefix`, every page of ListObjectsV2.
 *
 * `known` is what the last sync saw there (paths under the prefix). When it spans several pages, the prefix is cut
 * into up to LIST_RANGES ranges at known keys, a whole number of pages each, and the ranges are listed at once,
 * each from its lower bound (`StartAfter`) to its upper bound: S3 lists in key order, so the ranges together hold
 * every key exactly once whatever changed since, and each range asks only for as many keys as it expects to have
 * (`MaxKeys`), so a prefix that did not change costs the same pages as a listing from the start. A server that
 * does not list in S3's key order (S3 Express directory buckets, one that ignores `StartAfter`, or one whose ranges do
 * not meet: each must start at the key that stopped the one before) is listed again from the start, one page after
 * another.
 */
export async function listRemote(
  s3: S3Client,
  bucket: string,
  prefix: string,
  signal?: AbortSignal,
  known: Iterable<string> = [],
): Promise<RemoteListing> {
  const keys = [...known].map((p) => prefix + p).sort(compareKeys);
  const pages = Math.ceil(keys.length / PAGE_KEYS);
  const ranges = Math.min(LIST_RANGES, pages);
  // S3 Express directory buckets (named "…--x-s3") list in no particular order and do not take StartAfter.
  let parts: ListedPage[];
  if (ranges < 2 || bucket.endsWith('--x-s3')) {
    parts = [await listRange(s3, bucket, prefix, signal, undefined, undefined, undefined)];
  } else {
    // Upper bounds: the last known key of each range but the last, which runs to the end of the prefix.
    const bounds = Array.from({ length: ranges - 1 }, (_, j) => keys[Math.floor(((j + 1) * pages) / ranges) * PAGE_KEYS - 1]!);
    // Known keys after `after` up to and including `upTo`: as many as the range expects to find there.
    const above = (key: string | undefined) => (key === undefined ? 0 : upperBound(keys, key));
    const expected = (after: string | undefined, upTo: string) => above(upTo) - above(after);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      parts = await Promise.all(
        [undefined, ...bounds].map((lo, j) => listRange(s3, bucket, prefix, controller.signal, lo, bounds[j], expected)),
      );
      // Each range must start where the one before it stopped: on a server whose order is consistent but not S3's
      // (UTF-16 code units, say), a range can stop short of its bound, and the keys between would be in no range.
      for (let j = 0; j + 1 < parts.length; j++) {
        const end = parts[j]!.end;
        const next = parts[j + 1]!.first;
        const joined = end === 'bound' || (end === 'listing' ? next === undefined : end?.past === next);
        if (!joined) throw new UnorderedListing();
      }
    } catch (e) {
      // One range failing stops the others: their answers would be thrown away.
      controller.abort(e);
      if (!(e instanceof UnorderedListing)) throw e;
      signal?.throwIfAborted();
      parts = [await listRange(s3, bucket, prefix, signal, undefined, undefined, undefined)];
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  const objects = new Map<string, RemoteObject>();
  const skipped: SkippedFile[] = [];
  for (const part of parts) {
    for (const o of part.objects) objects.set(o.path, o);
    skipped.push(...part.skipped);
  }
  return { objects, skipped };
}

/** How many of the sorted `keys` are at or before `key`. */
function upperBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Lists the keys after `after` up to and including `upTo` (both undefined: the whole prefix, in the order the
 * server gives). A ranged listing (`upTo` set) requires keys in S3's order, each after the one before it; it
 * asks for as many keys as `expected` says are left, and stops at the first key past `upTo`.
 */
async function listRange(
  s3: S3Client,
  bucket: string,
  prefix: string,
  signal: AbortSignal | undefined,
  after: string | undefined,
  upTo: string | undefined,
  expected: ((after: string | undefined, upTo: string) => number) | undefined,
): Promise<ListedPage> {
  const ranged = after !== undefined || upTo !== undefined;
  const out: ListedPage = { objects: [], skipped: [] };
  let last = after;
  // Set once the range held more keys than the index knew of: then it is read in whole pages.
  let grown = false;
  let asked: number | undefined;
  const maxKeys = () =>
    (asked = upTo !== undefined && expected ? (grown ? PAGE_KEYS : Math.min(PAGE_KEYS, Math.max(1, expected(last, upTo)))) : undefined);
  for await (const page of walkObjects(s3, { bucket, prefix, signal, after, maxKeys })) {
    for (const { key, size, etag } of page.keys) {
      out.first ??= key;
      if (ranged) {
        if (last !== undefined && compareKeys(key, last) <= 0) throw new UnorderedListing();
        if (upTo !== undefined && compareKeys(key, upTo) > 0) {
          out.end = { past: key }; // The next range's.
          return out;
        }
        last = key;
      }
      if (!key.endsWith('.kenv')) continue;
      const path = key.slice(prefix.length);
      const problem = vaultNameProblem(path, prefix);
      if (problem) {
        out.skipped.push({ path, reason: 'unsafe-remote-key', detail: problem });
        continue;
      }
      out.objects.push({ path, size, etag: stripQuotes(etag) });
    }
    // Up to its bound: what follows is the next range's.
    if (page.truncated && upTo !== undefined && last !== undefined && compareKeys(last, upTo) >= 0) {
      out.end = 'bound';
      return out;
    }
    if (asked !== undefined && asked < PAGE_KEYS) grown = true;
  }
  out.end = 'listing';
  return out;
}

/** The object's SHA-256 from its metadata (undefined when it has none), and its current ETag. */
export async function headRemote(
  s3: S3Client,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<{ sha256: string | undefined; etag: string; size: number }> {
  const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  return { sha256: out.Metadata?.[SHA256_METADATA], etag: stripQuotes(out.ETag), size: out.ContentLength ?? 0 };
}

function errorName(e: unknown): string {
  return e && typeof e === 'object' && 'name' in e ? String(e.name) : '';
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Did S3 refuse a conditional request because the object is not (or no longer) what we expected? */
export function isPreconditionFailure(e: unknown): boolean {
  const name = errorName(e);
  const status = httpStatus(e);
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409;
}

/** Did S3 answer 409 ConditionalRequestConflict: a conflicting operation was in progress, retry after a fresh look? */
export function isConditionalConflict(e: unknown): boolean {
  return errorName(e) === 'ConditionalRequestConflict' || httpStatus(e) === 409;
}

export function isNoSuchKey(e: unknown): boolean {
  return errorName(e) === 'NoSuchKey' || errorName(e) === 'NotFound' || httpStatus(e) === 404;
}

/** Turns an SDK or network error into a KenvError whose sentence says what to do. */
export function toSyncError(e: unknown, what: string): KenvError {
  if (e instanceof KenvError) return e;
  const name = errorName(e);
  const code = e && typeof e === 'object' && 'code' in e ? String(e.code) : '';
  const message = e instanceof Error ? e.message : String(e);
  // Network and profile faults first: a refused connection also carries a `syscall` (connect, write…).
  const connection = connectionFault(e, { service: 'S3', what });
  if (connection) return connection;
  if (e && typeof e === 'object' && 'syscall' in e && typeof e.syscall === 'string') {
    // A file-system error in the vault, not an S3 one.
    const writing = ['write', 'rename', 'mkdir', 'unlink', 'rmdir', 'fsync', 'copyfile'].includes(e.syscall) || code === 'ENOSPC';
    return new KenvError(
      writing ? 'OUTPUT_FAILED' : 'INPUT_UNREADABLE',
      `${writing ? 'Could not write' : 'Could not read'} in the vault folder (${what}): ${message}. Check the folder's permissions and free space.`,
      { cause: e },
    );
  }
  if (name === 'AbortError') {
    return new KenvError('CANCELLED', `The sync was stopped (${what}). It resumes where it stopped next time.`, { cause: e });
  }
  if (isPreconditionFailure(e) || name === 'NoSuchKey') {
    return new KenvError('SYNC_REMOTE_CHANGED', `${what} changed on S3 while this sync ran. Sync again to reconcile it.`, { cause: e });
  }
  if (name === 'AccessDenied' || httpStatus(e) === 403) {
    return new KenvError('S3_ACCESS_DENIED', `S3 denied access (${what}). Check the profile's permissions on the bucket.`, { cause: e });
  }
  if (name === 'NoSuchBucket') {
    return new KenvError('S3_NO_SUCH_BUCKET', `The bucket does not exist (${what}). Check the s3:// location and the Region.`, { cause: e });
  }
  if (name === 'CredentialsProviderError') {
    return new KenvError('NO_CREDENTIALS', 'No AWS credentials were found. Sign in or choose a profile with --profile.', { cause: e });
  }
  if (/region is missing/i.test(message)) {
    return new KenvError('NO_REGION', 'No AWS Region is configured. Pass --region or set one in the profile.', { cause: e });
  }
  return new KenvError('S3_ERROR', `S3 answered with an error (${what}): ${name || 'Error'}: ${message}`, { cause: e });
}
