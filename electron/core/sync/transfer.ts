import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  type DeleteMarkerEntry,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  type ObjectVersion,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { KenvError } from '../errors.js';
import { enforcesWrite, type EndpointTraits } from './endpoint-probe.js';
import { SYNC_DIR, TRASH_DIR } from './index-store.js';
import { PART_CHECKSUM, partCrc32 } from './part-checksum.js';
import { ByteBudget, forEachLimit } from './pool.js';
import { BLOCKING_READ_MAX, readSmallFile } from './scan.js';
import { SHA256_METADATA, isConditionalConflict, isNoSuchKey, stripQuotes } from './remote.js';
import { recordedMtime, type IndexEntry, type LocalFile, type PendingUpload, type RemoteObject, type SyncIndex } from './types.js';
import { placeNew, vaultFolder } from './vault-fs.js';

/** Never read or write through a symbolic link (0 where the platform has no such flag). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** The vault folder holding `path` ('' at the root). */
function folderOf(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}

const MiB = 1024 * 1024;
/** S3's limits: at most 10,000 parts, objects up to 5 TiB. Kenv never uses parts under 8 MiB. */
export const MAX_PARTS = 10_000;
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB;
export const MIN_PART_SIZE = 8 * MiB;
/** Memory the part buffers of all multipart uploads of one sync may hold at once (see `TransferContext.partMemory`). */
export const PART_MEMORY_BUDGET = 128 * MiB;

/** The part size for a file of `size` bytes: 8 MiB, or the next whole MiB that fits the file in 10,000 parts. */
export function choosePartSize(size: number): number {
  return Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

export interface TransferContext {
  s3: S3Client;
  bucket: string;
  prefix: string;
  vaultDir: string;
  index: SyncIndex;
  /** Persists the index now (used as soon as a multipart upload id exists, so a restart can resume it). */
  saveIndex: () => Promise<void>;
  /** Parts of one file in flight at once (bounded further by `partMemory`). */
  partConcurrency: number;
  /**
   * The memory all part buffers of this sync share (default: PART_MEMORY_BUDGET for this upload alone), so that
   * several large files uploading at once never hold more than that between them.
   */
  partMemory?: ByteBudget;
  onBytes: (path: string, bytes: number) => void;
  now: () => Date;
  signal?: AbortSignal;
  /** What the endpoint enforces (see endpoint-probe.ts); absent: assume it enforces what S3 does. */
  endpoint?: EndpointTraits;
  /** Called when a version another machine wrote was replaced and has been restored under a conflict name. */
  onRestored?: (path: string, conflictCopy: string) => void;
  /** Is a downloaded file a valid `.kenv` message? Only those are placed in the vault. */
  isKenv?: (absolutePath: string) => Promise<boolean>;
}

/** Attempts at a conditional request answered 409 ConditionalRequestConflict (a conflicting operation in progress). */
const CONFLICT_ATTEMPTS = 3;

function localChanged(path: string): KenvError {
  return new KenvError('SYNC_LOCAL_CHANGED', `${path} changed while it was being synced. Sync again to send the new version.`);
}

function condition(ifMatch: string | undefined): { IfMatch: string } | { IfNoneMatch: string } {
  return ifMatch !== undefined ? { IfMatch: `"${ifMatch}"` } : { IfNoneMatch: '*' };
}

function remoteChanged(path: string, cause?: unknown): KenvError {
  return new KenvError('SYNC_REMOTE_CHANGED', `${path} changed on S3 while this sync ran. Sync again to reconcile it.`, { cause });
}

/** The object's current ETag (without quotes) and version id, or undefined when it does not exist. */
export async function headCurrent(ctx: TransferContext, key: string): Promise<{ etag: string; versionId?: string } | undefined> {
  try {
    const out = await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }), { abortSignal: ctx.signal });
    return { etag: stripQuotes(out.ETag), ...(out.VersionId ? { versionId: out.VersionId } : {}) };
  } catch (e) {
    if (isNoSuchKey(e)) return undefined;
    throw e;
  }
}

/**
 * Fails with SYNC_REMOTE_CHANGED unless the object is still what the plan saw: ETag `ifMatch`, or absent.
 *
 * This is what the server should have checked for us; it is used where the endpoint ignores the condition, and
 * after a 409 ConditionalRequestConflict, before trying again (S3's advice: fetch the ETag, then retry).
 */
async function expectRemote(ctx: TransferContext, key: string, path: string, ifMatch: string | undefined): Promise<void> {
  const current = await headCurrent(ctx, key);
  if (ifMatch === undefined ? current !== undefined : current?.etag !== ifMatch) throw remoteChanged(path);
}

/**
 * Sends a conditional request, retrying after 409 ConditionalRequestConflict while the object is still what the
 * plan saw. A 412 (or a changed object) fails with SYNC_REMOTE_CHANGED.
 */
async function sendConditional<T>(ctx: TransferContext, key: string, path: string, ifMatch: string | undefined, send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      if (!isConditionalConflict(e) || attempt >= CONFLICT_ATTEMPTS) throw e;
      await expectRemote(ctx, key, path, ifMatch);
    }
  }
}

/**
 * After a write the endpoint does not guard, checks that the object is the one written, and in a versioned bucket
 * restores every version the write replaced that was not the one the plan expected (`ifMatch`; none for a create)
 * as a conflict copy.
 *
 * A different current object means another writer came after us: SYNC_REMOTE_CHANGED, the index keeps the old
 * entry, and the next sync sees both sides changed and keeps both.
 */
async function checkWritten(
  ctx: TransferContext,
  key: string,
  path: string,
  written: { etag: string; versionId?: string },
  ifMatch: string | undefined,
): Promise<void> {
  const current = await headCurrent(ctx, key);
  if (!current || current.etag !== written.etag) throw remoteChanged(path);
  if (ctx.endpoint?.versioning !== 'Enabled' || !written.versionId) return;
  const listed = await versionsOf(ctx, key);
  // Versions of one key are listed newest first; delete markers come in their own list.
  const versions = listed.versions;
  const mine = versions.findIndex((v) => v.VersionId === written.versionId);
  if (mine < 0) return;
  const ourTime = versions[mine]?.LastModified?.getTime() ?? Infinity;
  // A deletion before our write ends the history we may have replaced: what lies behind it was deleted on purpose.
  const deletedAt = Math.max(
    -Infinity,
    ...listed.deleteMarkers.filter((d) => (d.LastModified?.getTime() ?? 0) <= ourTime).map((d) => d.LastModified?.getTime() ?? 0),
  );
  for (const v of versions.slice(mine + 1)) {
    if (ifMatch !== undefined && stripQuotes(v.ETag) === ifMatch) break;
    if ((v.LastModified?.getTime() ?? 0) < deletedAt) break;
    if (!v.VersionId) continue;
    const copy = await freeConflictName(ctx, path);
    await ctx.s3.send(
      new CopyObjectCommand({
        Bucket: ctx.bucket,
        Key: ctx.prefix + copy,
        CopySource: `${ctx.bucket}/${key.split('/').map(encodeURIComponent).join('/')}?versionId=${encodeURIComponent(v.VersionId)}`,
        IfNoneMatch: '*',
      }),
      { abortSignal: ctx.signal },
    );
    ctx.onRestored?.(path, copy);
  }
}

/** A conflict name for `path` that exists neither in the vault folder nor in the bucket. */
async function freeConflictName(ctx: TransferContext, path: string): Promise<string> {
  let at = ctx.now();
  for (;;) {
    const candidate = await taggedPath(ctx.vaultDir, path, 'conflict', at);
    if (!(await headCurrent(ctx, ctx.prefix + candidate))) return candidate;
    at = new Date(at.getTime() + 1000);
  }
}

/**
 * The bytes of a file of one part, read through one handle that never follows a link, after checking on that
 * handle that it still has the size and mtime the scan saw (else SYNC_LOCAL_CHANGED).
 */
async function readUnchanged(abs: string, local: LocalFile): Promise<Buffer> {
  if (local.size <= BLOCKING_READ_MAX) {
    const small = readSmallFile(abs);
    if (!small?.isFile || small.size !== local.size || small.mtimeMs !== local.mtimeMs || small.bytes.length !== local.size) throw localChanged(local.path);
    return small.bytes;
  }
  const fh = await open(abs, constants.O_RDONLY | NOFOLLOW);
  try {
    const info = await fh.stat();
    if (!info.isFile() || info.size !== local.size || info.mtimeMs !== local.mtimeMs) throw localChanged(local.path);
    const body = Buffer.allocUnsafe(local.size);
    await readFully(fh, body, 0);
    return body;
  } finally {
    await fh.close();
  }
}

async function readFully(fh: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await fh.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new KenvError('SYNC_LOCAL_CHANGED', 'A file became shorter while it was being uploaded. Sync again.');
    done += bytesRead;
  }
}

/**
 * Uploads a local file to its key with a conditional write, returning what the index records.
 *
 * `ifMatch` absent: the object must not exist (`If-None-Match: *`); present: the object must still have that ETag.
 * Either way another machine's concurrent write makes this fail with SYNC_REMOTE_CHANGED instead of clobbering.
 * The file must be the one that was scanned (size, mtime, SHA-256), else SYNC_LOCAL_CHANGED.
 */
export async function uploadFile(ctx: TransferContext, local: LocalFile, ifMatch: string | undefined): Promise<IndexEntry> {
  const abs = join(ctx.vaultDir, local.path);
  const key = ctx.prefix + local.path;
  if (local.size > MAX_OBJECT_SIZE) {
    throw new KenvError('S3_ERROR', `${local.path} is larger than the 5 TiB S3 allows for one object.`);
  }
  const partSize = choosePartSize(local.size);
  const multipart = local.size > partSize;
  const guarded = enforcesWrite(ctx.endpoint, multipart, ifMatch !== undefined);
  // A file of one part is read whole first (its size and mtime checked on the same handle); a larger one is
  // checked here and read part by part below.
  const body = multipart ? undefined : await readUnchanged(abs, local);
  if (multipart) {
    const info = await lstat(abs);
    if (info.size !== local.size || info.mtimeMs !== local.mtimeMs) throw localChanged(local.path);
  }
  // Where the endpoint ignores the condition, check it ourselves just before writing: the window for a lost edit
  // shrinks from "since the listing" to one round trip, and checkWritten covers what is left of it.
  if (!guarded) await expectRemote(ctx, key, local.path, ifMatch);
  if (body) {
    const digest = createHash('sha256').update(body).digest();
    const sha256 = digest.toString('hex');
    if (sha256 !== local.sha256) throw localChanged(local.path);
    const out = await sendConditional(ctx, key, local.path, ifMatch, () =>
      ctx.s3.send(
        new PutObjectCommand({
          Bucket: ctx.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/octet-stream',
          Metadata: { [SHA256_METADATA]: sha256 },
          // S3 itself then refuses a body damaged in transit (servers without checksums ignore it).
          ChecksumSHA256: digest.toString('base64'),
          ...condition(ifMatch),
        }),
        { abortSignal: ctx.signal },
      ),
    );
    ctx.onBytes(local.path, body.length);
    const etag = stripQuotes(out.ETag);
    if (!guarded) await checkWritten(ctx, key, local.path, { etag, ...(out.VersionId ? { versionId: out.VersionId } : {}) }, ifMatch);
    return { path: local.path, size: local.size, mtimeMs: recordedMtime(local), etag, sha256 };
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const { entry, versionId } = await uploadMultipart(ctx, local, key, partSize, ifMatch);
      if (!guarded) await checkWritten(ctx, key, local.path, { etag: entry.etag, ...(versionId ? { versionId } : {}) }, ifMatch);
      return entry;
    } catch (e) {
      // S3's advice for a 409 on CompleteMultipartUpload: check the ETag, start a new upload, send every part again.
      if (!isConditionalConflict(e) || attempt >= CONFLICT_ATTEMPTS) throw e;
      await expectRemote(ctx, key, local.path, ifMatch);
    }
  }
}

/** A part S3 holds: its ETag and the CRC32 (base64) of the file's bytes it holds, which the completion repeats. */
interface UploadedPart {
  etag: string;
  crc32: string;
}

/**
 * The versions and delete markers of `key`, every page of ListObjectVersions, each list newest first as S3 gives it.
 *
 * Listed with the key as prefix, longer keys follow its versions: the walk stops at the first of them. A truncated
 * page without markers to go on, with markers it gave before, or with nothing new would end the list short or
 * never: S3_ERROR (the write is done; what it may have replaced could not be checked).
 */
async function versionsOf(ctx: TransferContext, key: string): Promise<{ versions: ObjectVersion[]; deleteMarkers: DeleteMarkerEntry[] }> {
  const versions: ObjectVersion[] = [];
  const deleteMarkers: DeleteMarkerEntry[] = [];
  const seen = new Set<string>();
  const markers = new Set<string>();
  let from: { KeyMarker: string; VersionIdMarker?: string } | undefined;
  for (;;) {
    const page = await ctx.s3.send(new ListObjectVersionsCommand({ Bucket: ctx.bucket, Prefix: key, ...from }), { abortSignal: ctx.signal });
    let past = false;
    let fresh = 0;
    const take = <T extends { Key?: string | undefined; VersionId?: string | undefined }>(entries: T[] | undefined, into: T[], kind: string) => {
      for (const e of entries ?? []) {
        if (e.Key !== key) {
          past = true;
          continue;
        }
        const id = e.VersionId === undefined ? undefined : `${kind}:${e.VersionId}`;
        if (id !== undefined && seen.has(id)) continue;
        if (id !== undefined) seen.add(id);
        into.push(e);
        fresh++;
      }
    };
    take(page.Versions, versions, 'version');
    take(page.DeleteMarkers, deleteMarkers, 'marker');
    if (!page.IsTruncated || past) return { versions, deleteMarkers };
    const keyMarker = page.NextKeyMarker;
    const next = `${keyMarker}\n${page.NextVersionIdMarker ?? ''}`;
    if (keyMarker === undefined || markers.has(next) || fresh === 0) {
      throw new KenvError(
        'S3_ERROR',
        `S3's list of the versions of ${key} goes on but gave no way to go on, so what another machine may have written there just ` +
          'before this upload could not be checked. Sync again; if it persists, the server does not list versions as S3 does.',
      );
    }
    markers.add(next);
    from = { KeyMarker: keyMarker, ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}) };
  }
}

/** A part as ListParts names it: what S3 says it holds, to be checked against the file before it is trusted. */
interface ListedPart {
  etag: string;
  crc32: string | undefined;
  size: number;
}

/**
 * The parts S3 holds of a recorded upload, numbered 1 to `partCount` (the file's), every page of ListParts.
 *
 * S3 lists parts in ascending number, and a truncated page names its last part as NextPartNumberMarker, where the
 * next page starts. A part at or before the marker it was asked to start after is not taken (out of order), a
 * truncated page without a marker goes on after its last part, and the listing ends once it reaches `partCount`
 * (no part after that can be used, so an endless list ends there too). A marker that does not move on (the same
 * again, or a lower one) would list the same pages for ever: S3_ERROR. What it lists is only a claim: each part is
 * checked against the file's bytes before it is skipped (uploadMultipart).
 */
async function listUploadedParts(ctx: TransferContext, pending: PendingUpload, partCount: number): Promise<Map<number, ListedPart>> {
  const parts = new Map<number, ListedPart>();
  let marker = 0;
  for (;;) {
    const page = await ctx.s3.send(
      new ListPartsCommand({ Bucket: ctx.bucket, Key: pending.key, UploadId: pending.uploadId, ...(marker ? { PartNumberMarker: String(marker) } : {}) }),
      { abortSignal: ctx.signal },
    );
    let last = marker;
    for (const p of page.Parts ?? []) {
      const n = p.PartNumber;
      if (n === undefined || n <= last) continue;
      last = n;
      if (p.ETag && n <= partCount) parts.set(n, { etag: p.ETag, crc32: p.ChecksumCRC32, size: p.Size ?? -1 });
    }
    if (!page.IsTruncated) return parts;
    const next = page.NextPartNumberMarker === undefined ? last : Number(page.NextPartNumberMarker);
    if (!Number.isSafeInteger(next) || next <= marker) {
      throw new KenvError(
        'S3_ERROR',
        `S3's list of the parts already sent for ${pending.path} goes on but gave no way to go on (after part ${marker}, it named ` +
          `${page.NextPartNumberMarker === undefined ? 'no next part' : `part ${page.NextPartNumberMarker}`}). The upload was abandoned: ` +
          'the next sync sends the file again in full. If it persists, the server does not list parts as S3 does.',
      );
    }
    if (next >= partCount) return parts;
    marker = next;
  }
}

/**
 * Is the part S3 lists the file's own part `body` (whose CRC32 is `crc32`)? Only then may a resumed upload skip it.
 *
 * The upload declared a CRC32 per part, so S3 lists each part's: it must be the file's. A server that lists none
 * (s3rver and moto keep none) is taken at the ETag, which S3 makes the part's MD5 unless the upload is
 * encrypted with a KMS key or a customer key. Either way the completion sends the file's own CRC32 of every part,
 * which S3 checks against what it holds.
 */
function holdsPart(listed: ListedPart | undefined, body: Buffer, crc32: string): listed is ListedPart {
  if (!listed || listed.size !== body.length) return false;
  if (listed.crc32 !== undefined) return listed.crc32 === crc32;
  return stripQuotes(listed.etag).toLowerCase() === createHash('md5').update(body).digest('hex');
}

/** Aborts a multipart upload, ignoring failures (a bucket lifecycle rule cleans up what is left). */
export async function abortUpload(ctx: TransferContext, pending: PendingUpload): Promise<void> {
  try {
    await ctx.s3.send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: pending.key, UploadId: pending.uploadId }));
  } catch {
    // Already gone, or unreachable: a bucket lifecycle rule for incomplete uploads cleans up what is left.
  }
}

async function uploadMultipart(
  ctx: TransferContext,
  local: LocalFile,
  key: string,
  partSize: number,
  ifMatch: string | undefined,
): Promise<{ entry: IndexEntry; versionId: string | undefined }> {
  const partCount = Math.ceil(local.size / partSize);
  const partLength = (n: number) => Math.min(partSize, local.size - (n - 1) * partSize);
  const done = new Map<number, UploadedPart>();
  let listed = new Map<number, ListedPart>();
  let pending = ctx.index.uploads[local.path];
  const resumable =
    pending &&
    pending.key === key &&
    pending.size === local.size &&
    pending.mtimeMs === local.mtimeMs &&
    pending.sha256 === local.sha256 &&
    pending.partSize === partSize &&
    pending.checksum === PART_CHECKSUM;
  if (pending && resumable) {
    try {
      listed = await listUploadedParts(ctx, pending, partCount);
    } catch (e) {
      if (e instanceof KenvError) {
        // A list that cannot be read to its end: the next sync starts a new upload instead of meeting it again.
        await abortUpload(ctx, pending);
        delete ctx.index.uploads[local.path];
        throw e;
      }
      if ((e as { name?: string }).name !== 'NoSuchUpload') throw e;
      pending = undefined;
    }
  } else if (pending) {
    await abortUpload(ctx, pending);
    pending = undefined;
  }
  if (!pending) {
    const created = await ctx.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: key,
        ContentType: 'application/octet-stream',
        Metadata: { [SHA256_METADATA]: local.sha256 },
        ChecksumAlgorithm: PART_CHECKSUM,
      }),
      { abortSignal: ctx.signal },
    );
    if (!created.UploadId) throw new KenvError('S3_ERROR', `S3 did not return an upload id for ${local.path}. Sync again.`);
    pending = { path: local.path, key, uploadId: created.UploadId, size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize, checksum: PART_CHECKSUM };
    ctx.index.uploads[local.path] = pending;
    await ctx.saveIndex();
  }
  const upload = pending;

  // Every part is read; one S3 already holds (as its checksum shows) is not sent again.
  const todo = Array.from({ length: partCount }, (_, i) => i + 1);
  const memory = ctx.partMemory ?? new ByteBudget(PART_MEMORY_BUDGET);
  const concurrency = Math.max(1, Math.min(ctx.partConcurrency, Math.floor(memory.limit / partSize)));
  // Part buffers are reused, at most one per part in flight: memory a process touches for the first time costs a
  // page fault per 4 KiB, and on a virtual machine those faults cost several times the read that fills the buffer.
  // A buffer goes back to the free list only after its part succeeded: after a failure the request may still hold it.
  const free: Buffer[] = [];
  const fh = await open(join(ctx.vaultDir, local.path), constants.O_RDONLY | NOFOLLOW);
  try {
    await forEachLimit(todo, concurrency, (n) =>
      memory.use(partLength(n), async () => {
        const whole = free.pop() ?? Buffer.allocUnsafeSlow(partSize);
        const body = whole.subarray(0, partLength(n));
        await readFully(fh, body, (n - 1) * partSize);
        const checksum = partCrc32(body);
        const held = listed.get(n);
        if (holdsPart(held, body, checksum)) {
          free.push(whole);
          done.set(n, { etag: held.etag, crc32: checksum });
          ctx.onBytes(local.path, body.length);
          return;
        }
        const out = await ctx.s3.send(
          new UploadPartCommand({ Bucket: ctx.bucket, Key: key, UploadId: upload.uploadId, PartNumber: n, Body: body, ChecksumCRC32: checksum }),
          { abortSignal: ctx.signal },
        );
        if (!out.ETag) throw new KenvError('S3_ERROR', `S3 did not return an ETag for part ${n} of ${local.path}. Sync again.`);
        free.push(whole);
        done.set(n, { etag: out.ETag, crc32: checksum });
        ctx.onBytes(local.path, body.length);
      }),
    );
  } finally {
    await fh.close();
  }

  // The metadata promises a SHA-256 computed before the upload: the parts must come from that same file.
  const after = await lstat(join(ctx.vaultDir, local.path));
  if (after.size !== local.size || after.mtimeMs !== local.mtimeMs) {
    await abortUpload(ctx, upload);
    delete ctx.index.uploads[local.path];
    throw localChanged(local.path);
  }
  let out;
  try {
    out = await ctx.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: key,
        UploadId: upload.uploadId,
        MultipartUpload: {
          Parts: [...done].sort(([a], [b]) => a - b).map(([PartNumber, p]) => ({ PartNumber, ETag: p.etag, ChecksumCRC32: p.crc32 })),
        },
        ...condition(ifMatch),
      }),
      { abortSignal: ctx.signal },
    );
  } catch (e) {
    if (isConditionalConflict(e)) {
      // The upload cannot be completed any more: the next attempt starts a new one.
      await abortUpload(ctx, upload);
      delete ctx.index.uploads[local.path];
    }
    throw e;
  }
  delete ctx.index.uploads[local.path];
  return {
    entry: { path: local.path, size: local.size, mtimeMs: recordedMtime(local), etag: stripQuotes(out.ETag), sha256: local.sha256 },
    versionId: out.VersionId,
  };
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

async function exists(abs: string): Promise<boolean> {
  return lstat(abs).then(
    () => true,
    () => false,
  );
}

/** A free vault path next to `path` tagged `(<tag> YYYY-MM-DD HHMMSS)`, e.g. `a (conflict 2026-11-23 101500).kenv`. */
export async function taggedPath(vaultDir: string, path: string, tag: string, now: Date): Promise<string> {
  // A trashed plaintext (encrypt on arrival) must not come out looking like a .kenv file.
  const ext = path.endsWith('.kenv') ? '.kenv' : '';
  const stem = path.slice(0, path.length - ext.length);
  for (let n = 1; ; n++) {
    const candidate = `${stem} (${tag} ${stamp(now)}${n > 1 ? ` ${n}` : ''})${ext}`;
    if (!(await exists(join(vaultDir, candidate)))) return candidate;
  }
}

export interface DownloadResult {
  /** Where the file landed: `path`, or a conflict copy when the local file changed meanwhile. */
  path: string;
  entry: IndexEntry;
}

async function fetchVerified(ctx: TransferContext, remote: RemoteObject, tmp: string): Promise<{ sha256: string; etag: string }> {
  for (let attempt = 1; ; attempt++) {
    const out = await ctx.s3.send(
      new GetObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + remote.path, IfMatch: `"${remote.etag}"` }),
      { abortSignal: ctx.signal },
    );
    // An endpoint that ignores If-Match may hand out a newer object than the plan saw: refuse it the same way.
    if (ctx.endpoint && !ctx.endpoint.getIfMatch && out.ETag && stripQuotes(out.ETag) !== remote.etag) {
      (out.Body as Readable | undefined)?.destroy();
      throw remoteChanged(remote.path);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    let checksumOk = true;
    const fh = await open(tmp, 'w', 0o600);
    try {
      for await (const chunk of out.Body as Readable) {
        const b = chunk as Buffer;
        hash.update(b);
        bytes += b.length;
        await fh.write(b);
        ctx.onBytes(remote.path, b.length);
      }
      await fh.sync();
    } catch (e) {
      // The SDK checks the body against a checksum the server sent (x-amz-checksum-*) and fails at its end.
      if (!(e instanceof Error && /checksum mismatch/i.test(e.message))) throw e;
      checksumOk = false;
    } finally {
      await fh.close();
    }
    const sha256 = hash.digest('hex');
    const expected = out.Metadata?.[SHA256_METADATA];
    const lengthOk = out.ContentLength === undefined || out.ContentLength === bytes;
    // The SHA-256 stored with the object decides when there is one: it is the stronger check, and the SDK's check of
    // a checksum the server sent can be wrong (moto sends a multipart object's checksum of part checksums without
    // its "-<parts>" suffix, which the SDK then compares with a checksum of the whole body).
    const intact = expected !== undefined ? expected === sha256 : checksumOk;
    if (intact && lengthOk) return { sha256, etag: stripQuotes(out.ETag) || remote.etag };
    await rm(tmp, { force: true });
    if (attempt >= 2) {
      throw new KenvError(
        'SYNC_CHECKSUM_MISMATCH',
        `${remote.path} arrived corrupted twice (its SHA-256 does not match the one stored with it). Nothing was written; sync again later.`,
      );
    }
  }
}

/**
 * Downloads a remote object into the vault: to a temporary file, verified against the SHA-256 in its metadata
 * (one retry on mismatch), fsynced, then renamed into place.
 *
 * `replaces` is the local file the plan expects at the destination (absent: none). When the destination no
 * longer matches that expectation, the download lands as a conflict copy instead, so no local edit is lost.
 * `target` overrides the destination path (conflict copies).
 */
export async function downloadObject(
  ctx: TransferContext,
  remote: RemoteObject,
  replaces: LocalFile | undefined,
  target?: string,
): Promise<DownloadResult> {
  const tmpDir = await vaultFolder(ctx.vaultDir, `${SYNC_DIR}/tmp`, true);
  const tmp = join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
  try {
    const { sha256, etag } = await fetchVerified(ctx, remote, tmp);
    if (ctx.isKenv && !(await ctx.isKenv(tmp).catch(() => false))) {
      throw new KenvError(
        'NOT_KENV',
        `${remote.path} on S3 is not a valid .kenv message, so it was not placed in the vault and was left on S3. Replace or remove it there.`,
      );
    }
    let path = target ?? remote.path;
    const current = await lstat(join(ctx.vaultDir, path)).catch(() => undefined);
    const expected = target === undefined ? replaces : undefined;
    const untouched = expected
      ? !current || (current.isFile() && current.size === expected.size && current.mtimeMs === expected.mtimeMs)
      : !current;
    if (!untouched) path = await taggedPath(ctx.vaultDir, path, 'conflict', ctx.now());
    const abs = join(await vaultFolder(ctx.vaultDir, folderOf(path), true), basename(path));
    // Replacing is only for the file the plan expected; a new name never replaces what appeared meanwhile.
    if (untouched && current) await rename(tmp, abs);
    else await placeNew(tmp, abs);
    const info = await lstat(abs);
    return { path, entry: { path, size: info.size, mtimeMs: info.mtimeMs, etag, sha256 } };
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Moves a local file deleted on the remote to `.kenv-trash/` (keeping its folders); never unlinks it.
 * A file that changed since the scan is left alone (SYNC_LOCAL_CHANGED): the next sync uploads it. A file already
 * gone, or whose folder has gone, is done.
 */
export async function trashLocal(ctx: Pick<TransferContext, 'vaultDir' | 'now'>, local: LocalFile): Promise<void> {
  // A file whose folder has gone is gone too; the vault folder itself gone (a drive unplugged) stays an error.
  const folder = await vaultFolder(ctx.vaultDir, folderOf(local.path), false).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' && e.syscall === 'lstat') return undefined;
    throw e;
  });
  if (!folder) return;
  const abs = join(folder, basename(local.path));
  const current = await lstat(abs).catch(() => undefined);
  if (!current) return;
  if (!current.isFile() || current.size !== local.size || current.mtimeMs !== local.mtimeMs) throw localChanged(local.path);
  let dest = `${TRASH_DIR}/${local.path}`;
  if (await exists(join(ctx.vaultDir, dest))) dest = await taggedPath(ctx.vaultDir, dest, 'deleted', ctx.now());
  await rename(abs, join(await vaultFolder(ctx.vaultDir, folderOf(dest), true), basename(dest)));
}

/**
 * Deletes a remote object only if it still has the ETag the plan saw (`If-Match`), retrying after a 409.
 * Where the endpoint ignores If-Match on deletes, the ETag is checked just before instead.
 */
export async function deleteRemote(ctx: TransferContext, remote: RemoteObject): Promise<void> {
  const key = ctx.prefix + remote.path;
  try {
    if (ctx.endpoint && !ctx.endpoint.deleteIfMatch) {
      const current = await headCurrent(ctx, key);
      if (!current) return;
      if (current.etag !== remote.etag) throw remoteChanged(remote.path);
    }
    await sendConditional(ctx, key, remote.path, remote.etag, () =>
      ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key, IfMatch: `"${remote.etag}"` }), { abortSignal: ctx.signal }),
    );
  } catch (e) {
    if (!isNoSuchKey(e)) throw e;
  }
}
