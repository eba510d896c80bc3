import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';

/**
 * An in-memory S3 for unit tests of the transfer code: it keeps objects, versions and multipart uploads, enforces
 * If-Match / If-None-Match as S3 does (412 PreconditionFailed) unless told to ignore them, and records every
 * request. Tests script faults (`before`) to play a third writer or a 409 ConditionalRequestConflict.
 */
export interface FakeObject {
  body: Buffer;
  etag: string;
  metadata: Record<string, string>;
  versionId: string;
  lastModified: Date;
}

export interface Sent {
  name: string;
  input: Record<string, unknown>;
  options: unknown;
}

type Rule = 'put' | 'complete' | 'delete' | 'get';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const crc = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
};

export function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (fake)`), { name, $metadata: { httpStatusCode: status } });
}

export class FakeS3 {
  readonly objects = new Map<string, FakeObject>();
  /** Every version ever written, newest first per key; delete markers beside them. */
  readonly versions: { key: string; object?: FakeObject; marker?: { versionId: string; lastModified: Date } }[] = [];
  /** Multipart uploads; `checksum` is the algorithm declared at creation (CRC32 is the one this fake knows). */
  readonly uploads = new Map<string, { key: string; metadata: Record<string, string>; parts: Map<number, Buffer>; checksum?: string }>();
  readonly sent: Sent[] = [];
  /** Conditions this server ignores (an endpoint without conditional writes). */
  readonly ignores = new Set<Rule>();
  versioned = false;
  /** Runs before a request is served; may change the store or throw (a fault). */
  before: ((name: string, input: Record<string, unknown>) => void | Promise<void>) | undefined;
  /** Turns a served GetObject body into another (damage in transit). */
  tamper: ((body: Buffer) => Buffer) | undefined;
  private clock = Date.UTC(2026, 10, 30, 10, 0, 0);
  private ids = 0;

  readonly client = { send: (command: object, options?: unknown) => this.send(command, options) } as unknown as S3Client;

  names(): string[] {
    return this.sent.map((s) => s.name);
  }

  /** Writes an object directly, as another machine would. */
  put(key: string, body: Buffer | string, metadata: Record<string, string> = {}): FakeObject {
    const b = Buffer.from(body);
    const object: FakeObject = { body: b, etag: md5(b), metadata: metadata ?? {}, versionId: `v${++this.ids}`, lastModified: new Date((this.clock += 1000)) };
    this.objects.set(key, object);
    if (this.versioned) this.versions.unshift({ key, object });
    return object;
  }

  remove(key: string): void {
    this.objects.delete(key);
    if (this.versioned) this.versions.unshift({ key, marker: { versionId: `v${++this.ids}`, lastModified: new Date((this.clock += 1000)) } });
  }

  private check(rule: Rule, key: string, input: Record<string, unknown>): void {
    if (this.ignores.has(rule)) return;
    const current = this.objects.get(key);
    if (input.IfNoneMatch === '*' && current) throw s3Error('PreconditionFailed', 412);
    if (typeof input.IfMatch === 'string') {
      if (!current) throw s3Error('NoSuchKey', 404);
      if (input.IfMatch !== `"${current.etag}"`) throw s3Error('PreconditionFailed', 412);
    }
  }

  private async send(command: object, options: unknown): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    const input = (command as { input: Record<string, unknown> }).input;
    this.sent.push({ name, input, options });
    await this.before?.(name, input);
    const key = input.Key as string;
    switch (name) {
      case 'HeadObject': {
        const o = this.objects.get(key);
        if (!o) throw s3Error('NotFound', 404);
        return { ETag: `"${o.etag}"`, ContentLength: o.body.length, Metadata: o.metadata, ...(this.versioned ? { VersionId: o.versionId } : {}) };
      }
      case 'PutObject': {
        this.check('put', key, input);
        const o = this.put(key, input.Body as Buffer, input.Metadata as Record<string, string>);
        return { ETag: `"${o.etag}"`, ...(this.versioned ? { VersionId: o.versionId } : {}) };
      }
      case 'GetObject': {
        this.check('get', key, input);
        const o = this.objects.get(key);
        if (!o) throw s3Error('NoSuchKey', 404);
        const body = this.tamper ? this.tamper(o.body) : o.body;
        return {
          ETag: `"${o.etag}"`, ContentLength: o.body.length, Body: Readable.from([body.subarray(0, 3), body.subarray(3)]),
          // S3 sends no x-amz-meta-* header for an object without metadata.
          ...(Object.keys(o.metadata).length ? { Metadata: o.metadata } : {}),
        };
      }
      case 'DeleteObject': {
        this.check('delete', key, input);
        if (!this.objects.has(key)) throw s3Error('NoSuchKey', 404);
        this.remove(key);
        return {};
      }
      case 'CreateMultipartUpload': {
        const id = `upload-${++this.ids}`;
        const checksum = input.ChecksumAlgorithm as string | undefined;
        this.uploads.set(id, { key, metadata: input.Metadata as Record<string, string>, parts: new Map(), ...(checksum ? { checksum } : {}) });
        return { UploadId: id };
      }
      case 'UploadPart': {
        const u = this.uploads.get(input.UploadId as string);
        if (!u) throw s3Error('NoSuchUpload', 404);
        const body = Buffer.from(input.Body as Buffer);
        // As S3: a part carries exactly the checksum its upload declared ("Checksum Type mismatch"), and a wrong value
        // is refused.
        const sent = input.ChecksumCRC32 as string | undefined;
        if ((u.checksum === 'CRC32') !== (sent !== undefined)) throw s3Error('InvalidRequest', 400);
        if (sent !== undefined && sent !== crc(body)) throw s3Error('BadDigest', 400);
        u.parts.set(input.PartNumber as number, body);
        return { ETag: `"${md5(body)}"`, ...(sent ? { ChecksumCRC32: sent } : {}) };
      }
      case 'ListParts': {
        const u = this.uploads.get(input.UploadId as string);
        if (!u) throw s3Error('NoSuchUpload', 404);
        const all = [...u.parts].sort(([a], [b]) => a - b);
        const from = Number(input.PartNumberMarker ?? 0);
        const page = all.filter(([n]) => n > from).slice(0, 1);
        const last = page[page.length - 1]?.[0];
        const more = last !== undefined && all.some(([n]) => n > last);
        return {
          Parts: page.map(([n, b]) => ({ PartNumber: n, ETag: `"${md5(b)}"`, Size: b.length, ...(u.checksum ? { ChecksumCRC32: crc(b) } : {}) })),
          IsTruncated: more,
          ...(more ? { NextPartNumberMarker: String(last) } : {}),
        };
      }
      case 'CompleteMultipartUpload': {
        const u = this.uploads.get(input.UploadId as string);
        if (!u) throw s3Error('NoSuchUpload', 404);
        this.check('complete', key, input);
        const parts = (input.MultipartUpload as { Parts: { PartNumber: number; ETag: string; ChecksumCRC32?: string }[] }).Parts;
        const bodies = parts.map((p) => {
          const b = u.parts.get(p.PartNumber);
          if (!b || `"${md5(b)}"` !== p.ETag) throw s3Error('InvalidPart', 400);
          // As S3: an upload that declared a checksum is completed only with each part's checksum, and the right one.
          if (u.checksum === 'CRC32' && p.ChecksumCRC32 !== crc(b)) throw s3Error('InvalidRequest', 400);
          return b;
        });
        if (parts.some((p, i) => i > 0 && p.PartNumber <= parts[i - 1]!.PartNumber)) throw s3Error('InvalidPartOrder', 400);
        this.uploads.delete(input.UploadId as string);
        const o = this.put(key, Buffer.concat(bodies), u.metadata);
        o.etag = `${md5(Buffer.concat(bodies.map((b) => Buffer.from(md5(b), 'hex'))))}-${bodies.length}`;
        return { ETag: `"${o.etag}"`, ...(this.versioned ? { VersionId: o.versionId } : {}) };
      }
      case 'AbortMultipartUpload': {
        if (!this.uploads.delete(input.UploadId as string)) throw s3Error('NoSuchUpload', 404);
        return {};
      }
      case 'ListObjectVersions': {
        const mine = this.versions.filter((v) => v.key.startsWith(input.Prefix as string));
        return {
          Versions: mine.filter((v) => v.object).map((v) => ({
            Key: v.key, VersionId: v.object!.versionId, ETag: `"${v.object!.etag}"`, LastModified: v.object!.lastModified,
          })),
          DeleteMarkers: mine.filter((v) => v.marker).map((v) => ({ Key: v.key, VersionId: v.marker!.versionId, LastModified: v.marker!.lastModified })),
        };
      }
      case 'CopyObject': {
        this.check('put', key, input);
        const [source, query] = (input.CopySource as string).split('?versionId=');
        const sourceKey = decodeURIComponent(source!.slice(source!.indexOf('/') + 1));
        const version = this.versions.find((v) => v.key === sourceKey && v.object?.versionId === decodeURIComponent(query ?? ''));
        if (!version?.object) throw s3Error('NoSuchVersion', 404);
        const o = this.put(key, version.object.body, version.object.metadata);
        return { CopyObjectResult: { ETag: `"${o.etag}"` } };
      }
      default:
        throw new Error(`FakeS3 does not serve ${name}`);
    }
  }
}
