/**
 * What an S3 endpoint really enforces, found out once per binding by trying it.
 *
 * Kenv's sync never overwrites another machine's edit because every write is conditional (`If-None-Match: *` to
 * create, `If-Match: <etag>` to replace or delete). S3 enforces those; some S3-compatible servers accept the headers
 * and ignore them (moto ignores `If-Match` on CompleteMultipartUpload, s3rver ignores them all), and then a
 * concurrent edit is silently replaced. The probe writes a scratch object under the vault's `.kenv-sync/` area,
 * makes each conditional request that must be refused, records which ones were, reads the bucket's versioning
 * state, and removes its objects. The result is kept with the sync index (`SyncIndex.endpoint`).
 */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PART_CHECKSUM, partCrc32 } from './part-checksum.js';
import { SYNC_DIR } from './index-store.js';
import { isPreconditionFailure, toSyncError } from './remote.js';

/** What the endpoint did with each conditional request that must be refused (true: refused, as S3 does). */
export interface EndpointTraits {
  /** ISO time of the probe. */
  probedAt: string;
  /** PutObject `If-None-Match: *` over an existing object. */
  putIfNoneMatch: boolean;
  /** PutObject `If-Match` with an ETag the object does not have. */
  putIfMatch: boolean;
  /** CompleteMultipartUpload `If-None-Match: *` over an existing object. */
  completeIfNoneMatch: boolean;
  /** CompleteMultipartUpload `If-Match` with a stale ETag. */
  completeIfMatch: boolean;
  /** DeleteObject `If-Match` with a stale ETag. */
  deleteIfMatch: boolean;
  /** GetObject `If-Match` with a stale ETag. */
  getIfMatch: boolean;
  /** GetBucketVersioning's answer; `Unknown` when it could not be read (no permission). */
  versioning: 'Enabled' | 'Suspended' | 'Off' | 'Unknown';
}

/** An ETag no object has. */
const STALE_ETAG = '"00000000000000000000000000000000"';

/** Errors that say nothing about the endpoint's rules: the probe stops and the sync fails as it would anyway. */
function isTransient(e: unknown): boolean {
  const code = toSyncError(e, 'probe').code;
  return code === 'NETWORK_UNREACHABLE' || code === 'CANCELLED' || code === 'NO_CREDENTIALS' || code === 'NO_REGION';
}

/**
 * Probes the endpoint behind `s3` for `bucket`, under `prefix` + `.kenv-sync/`.
 *
 * A request the endpoint refuses with 412 or 409 counts as enforced. One it accepts, or answers with another error
 * (501 NotImplemented, 400), counts as not enforced: Kenv then checks every write itself. Network failures and
 * cancellation are thrown (the sync could not have run anyway). Undefined when the scratch object cannot be written
 * at all (a policy that allows only `*.kenv` keys, say): the sync goes on as before and the next one probes again.
 */
export async function probeEndpoint(
  s3: S3Client,
  bucket: string,
  prefix: string,
  now: Date,
  signal?: AbortSignal,
): Promise<EndpointTraits | undefined> {
  const key = `${prefix}${SYNC_DIR}/probe-${randomBytes(8).toString('hex')}`;
  const opts = { abortSignal: signal };
  const refused = async (request: () => Promise<unknown>): Promise<boolean> => {
    try {
      await request();
      return false;
    } catch (e) {
      if (isPreconditionFailure(e)) return true;
      if (isTransient(e)) throw e;
      return false;
    }
  };
  const put = (body: string, condition: { IfNoneMatch?: string; IfMatch?: string }) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...condition }), opts);
  /** A one-part multipart upload of `body`, completed with `condition`; aborted when refused. */
  const complete = async (body: string, condition: { IfNoneMatch?: string; IfMatch?: string }) => {
    // Made as Kenv's own uploads are (transfer.ts), checksums included, so that only the condition can refuse it.
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: PART_CHECKSUM }), opts);
    try {
      const ChecksumCRC32 = partCrc32(Buffer.from(body));
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: body, ChecksumCRC32 }), opts);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32 }] },
          ...condition,
        }),
        opts,
      );
    } catch (e) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
      throw e;
    }
  };

  try {
    await put('kenv endpoint probe', { IfNoneMatch: '*' });
  } catch (e) {
    if (isTransient(e)) throw e;
    await removeProbe(s3, bucket, key);
    return undefined;
  }
  try {
    const traits: EndpointTraits = {
      probedAt: now.toISOString(),
      putIfNoneMatch: await refused(() => put('must not replace', { IfNoneMatch: '*' })),
      putIfMatch: await refused(() => put('must not replace', { IfMatch: STALE_ETAG })),
      completeIfNoneMatch: await refused(() => complete('must not replace', { IfNoneMatch: '*' })),
      completeIfMatch: await refused(() => complete('must not replace', { IfMatch: STALE_ETAG })),
      getIfMatch: await refused(async () => {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: STALE_ETAG }), opts);
        await out.Body?.transformToByteArray();
      }),
      deleteIfMatch: await refused(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: STALE_ETAG }), opts)),
      versioning: 'Unknown',
    };
    try {
      const v = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }), opts);
      traits.versioning = v.Status === 'Enabled' || v.Status === 'Suspended' ? v.Status : 'Off';
    } catch (e) {
      if (isTransient(e)) throw e;
    }
    return traits;
  } finally {
    await removeProbe(s3, bucket, key);
  }
}

/** Deletes the probe object and, in a versioned bucket, every version of it. Failures are ignored: it is scratch. */
async function removeProbe(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  try {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    const versions = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].filter((v) => v.Key === key && v.VersionId);
    for (const v of versions) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.VersionId })).catch(() => undefined);
    }
  } catch {
    // No ListObjectVersions permission, or no versioning at all.
  }
}

/** Does the endpoint enforce the condition Kenv puts on this write? */
export function enforcesWrite(traits: EndpointTraits | undefined, multipart: boolean, ifMatch: boolean): boolean {
  if (!traits) return true;
  if (multipart) return ifMatch ? traits.completeIfMatch : traits.completeIfNoneMatch;
  return ifMatch ? traits.putIfMatch : traits.putIfNoneMatch;
}

/** The one sentence a user sees when the endpoint ignores some of the conditions Kenv relies on, else undefined. */
export function endpointWarning(traits: EndpointTraits | undefined): string | undefined {
  if (!traits) return undefined;
  const ignored = [
    traits.putIfNoneMatch ? '' : 'If-None-Match on uploads',
    traits.putIfMatch ? '' : 'If-Match on uploads',
    traits.completeIfNoneMatch ? '' : 'If-None-Match on multipart uploads',
    traits.completeIfMatch ? '' : 'If-Match on multipart uploads',
    traits.deleteIfMatch ? '' : 'If-Match on deletes',
    traits.getIfMatch ? '' : 'If-Match on downloads',
  ].filter(Boolean);
  if (ignored.length === 0) return undefined;
  const versioned = traits.versioning === 'Enabled';
  return (
    `This S3 endpoint ignores ${ignored.join(', ')}, so two machines writing at once could replace each other's edits. ` +
    'Kenv checks every upload after writing it' +
    (versioned
      ? ' and restores any version it replaced as a conflict copy.'
      : '; turn on versioning on the bucket so that a replaced version can be restored as a conflict copy.')
  );
}
