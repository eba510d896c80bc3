import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { connectionFault } from '../aws/network-errors.js';
import { KenvError } from '../errors.js';
import { vaultNameProblem } from './names.js';
import type { RemoteObject, SkippedFile } from './types.js';

/** The object metadata key holding the SHA-256 of the ciphertext (`x-amz-meta-kenv-sha256`). */
export const SHA256_METADATA = 'kenv-sha256';

export function stripQuotes(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}

export { isSafeVaultPath } from './names.js';

export interface RemoteListing {
  objects: Map<string, RemoteObject>;
  skipped: SkippedFile[];
}

/** Lists the `.kenv` objects under `prefix`, every page of ListObjectsV2. */
export async function listRemote(s3: S3Client, bucket: string, prefix: string, signal?: AbortSignal): Promise<RemoteListing> {
  const objects = new Map<string, RemoteObject>();
  const skipped: SkippedFile[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
      { abortSignal: signal },
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key || !o.Key.startsWith(prefix) || !o.Key.endsWith('.kenv')) continue;
      const path = o.Key.slice(prefix.length);
      const problem = vaultNameProblem(path, prefix);
      if (problem) {
        skipped.push({ path, reason: 'unsafe-remote-key', detail: problem });
        continue;
      }
      objects.set(path, { path, size: o.Size ?? 0, etag: stripQuotes(o.ETag) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { objects, skipped };
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
