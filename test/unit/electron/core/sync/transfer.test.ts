/**
 * The transfer code against an in-memory S3 that enforces conditions (test/support/fake-s3.ts): the requests it
 * sends (If-Match / If-None-Match on every write, read and delete), what it does when a third writer comes between
 * the plan and the request, 409 ConditionalRequestConflict, endpoints that ignore conditions, multipart resume and
 * damaged downloads. The same rules run against real servers in test/integration/sync; these are the fast checks.
 */
import { createHash } from 'node:crypto';
import { appendFile, lstat, mkdir, mkdtemp, open, readFile, readdir, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EndpointTraits } from '../../../../../electron/core/sync/endpoint-probe.js';
import { emptyIndex } from '../../../../../electron/core/sync/index-store.js';
import {
  type TransferContext,
  abortUpload,
  deleteRemote,
  downloadObject,
  trashLocal,
  uploadFile,
} from '../../../../../electron/core/sync/transfer.js';
import type { LocalFile } from '../../../../../electron/core/sync/types.js';
import { FakeS3, s3Error } from '../../../../support/fake-s3.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
/** CRC32 as S3 writes it: the 4 bytes big-endian, base64. */
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
};

let dir: string;
let s3: FakeS3;
let bytes: Record<string, number>;
let saves: number;
let restored: [string, string][];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-transfer-'));
  s3 = new FakeS3();
  bytes = {};
  saves = 0;
  restored = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ctx(over: Partial<TransferContext> = {}): TransferContext {
  return {
    s3: s3.client,
    bucket: 'bucket',
    prefix: 'p/',
    vaultDir: dir,
    index: emptyIndex('s3://bucket/p/'),
    saveIndex: async () => {
      saves++;
    },
    partConcurrency: 2,
    onBytes: (path, n) => {
      bytes[path] = (bytes[path] ?? 0) + n;
    },
    now: () => new Date(Date.UTC(2026, 10, 23, 10, 15, 0)),
    onRestored: (path, copy) => restored.push([path, copy]),
    ...over,
  };
}

/** An endpoint that enforces everything, with the listed conditions switched off. */
function endpoint(ignored: Partial<EndpointTraits> = {}): EndpointTraits {
  return {
    probedAt: '2026-11-30T00:00:00Z',
    putIfNoneMatch: true, putIfMatch: true, completeIfNoneMatch: true, completeIfMatch: true, deleteIfMatch: true, getIfMatch: true,
    versioning: 'Off',
    ...ignored,
  };
}

async function localFile(path: string, content: Buffer | string): Promise<LocalFile> {
  const abs = join(dir, path);
  await mkdir(join(abs, '..'), { recursive: true });
  await writeFile(abs, content);
  const info = await stat(abs);
  return { path, size: info.size, mtimeMs: info.mtimeMs, sha256: sha(content) };
}

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; name?: string }) => e.code ?? e.name);

describe('uploadFile (one request)', () => {
  it('creates with If-None-Match: *, the SHA-256 in the metadata and as checksum, and returns the index entry', async () => {
    const local = await localFile('a.kenv', 'cipher');
    const signal = new AbortController().signal;
    const entry = await uploadFile(ctx({ signal }), local, undefined);
    expect(entry).toEqual({ path: 'a.kenv', size: 6, mtimeMs: local.mtimeMs, etag: md5('cipher'), sha256: sha('cipher') });
    const put = s3.sent.find((s) => s.name === 'PutObject')!;
    expect(put.input).toMatchObject({
      Bucket: 'bucket', Key: 'p/a.kenv', IfNoneMatch: '*', ContentType: 'application/octet-stream',
      Metadata: { 'kenv-sha256': sha('cipher') }, ChecksumSHA256: createHash('sha256').update('cipher').digest('base64'),
    });
    expect(put.input.IfMatch).toBeUndefined();
    expect(put.options).toEqual({ abortSignal: signal });
    expect(s3.names()).toEqual(['PutObject']);
    expect(s3.objects.get('p/a.kenv')?.body.toString()).toBe('cipher');
    expect(bytes).toEqual({ 'a.kenv': 6 });
  });

  it('replaces with If-Match on the quoted ETag the plan saw', async () => {
    const old = s3.put('p/a.kenv', 'old');
    const local = await localFile('a.kenv', 'new');
    const entry = await uploadFile(ctx(), local, old.etag);
    expect(s3.sent[0]?.input).toMatchObject({ IfMatch: `"${old.etag}"` });
    expect(s3.sent[0]?.input.IfNoneMatch).toBeUndefined();
    expect(entry.etag).toBe(md5('new'));
  });

  it('a third writer between the plan and the upload: 412, SYNC_REMOTE_CHANGED, their object kept', async () => {
    const old = s3.put('p/a.kenv', 'old');
    s3.put('p/a.kenv', 'theirs');
    const local = await localFile('a.kenv', 'mine');
    await expect(uploadFile(ctx(), local, old.etag)).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(s3.objects.get('p/a.kenv')?.body.toString()).toBe('theirs');
    await expect(uploadFile(ctx(), await localFile('b.kenv', 'mine'), undefined)).resolves.toBeDefined();
    s3.put('p/c.kenv', 'theirs');
    await expect(uploadFile(ctx(), await localFile('c.kenv', 'mine'), undefined)).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(s3.objects.get('p/c.kenv')?.body.toString()).toBe('theirs');
  });

  it('refuses a file that changed since the scan (size, mtime or bytes) without sending it', async () => {
    const local = await localFile('a.kenv', 'abc');
    expect(await code(uploadFile(ctx(), { ...local, size: 4 }, undefined))).toBe('SYNC_LOCAL_CHANGED');
    expect(await code(uploadFile(ctx(), { ...local, mtimeMs: local.mtimeMs - 5000 }, undefined))).toBe('SYNC_LOCAL_CHANGED');
    expect(await code(uploadFile(ctx(), { ...local, sha256: sha('abd') }, undefined))).toBe('SYNC_LOCAL_CHANGED');
    await expect(uploadFile(ctx(), { ...local, sha256: sha('abd') }, undefined)).rejects.toThrow(/a\.kenv changed while it was being synced/);
    expect(s3.names()).toEqual([]);
  });

  it('never reads through a symbolic link', async () => {
    await writeFile(join(dir, 'target'), 'secret');
    await symlink(join(dir, 'target'), join(dir, 'a.kenv'));
    const link = await lstat(join(dir, 'a.kenv'));
    await expect(uploadFile(ctx(), { path: 'a.kenv', size: link.size, mtimeMs: link.mtimeMs, sha256: sha('secret') }, undefined)).rejects.toMatchObject({ code: 'ELOOP' });
    expect(s3.names()).toEqual([]);
  });

  it('after a 409 ConditionalRequestConflict, looks again and retries while the object is as planned, at most 3 times', async () => {
    const old = s3.put('p/a.kenv', 'old');
    let conflicts = 2;
    s3.before = (name) => {
      if (name === 'PutObject' && conflicts-- > 0) throw s3Error('ConditionalRequestConflict', 409);
    };
    await uploadFile(ctx(), await localFile('a.kenv', 'new'), old.etag);
    expect(s3.names()).toEqual(['PutObject', 'HeadObject', 'PutObject', 'HeadObject', 'PutObject']);
    expect(s3.objects.get('p/a.kenv')?.body.toString()).toBe('new');

    s3.sent.length = 0;
    s3.before = (name) => {
      if (name === 'PutObject') throw s3Error('ConditionalRequestConflict', 409);
    };
    const now = s3.objects.get('p/a.kenv')!;
    await expect(uploadFile(ctx(), await localFile('a.kenv', 'newer'), now.etag)).rejects.toMatchObject({ name: 'ConditionalRequestConflict' });
    expect(s3.names()).toEqual(['PutObject', 'HeadObject', 'PutObject', 'HeadObject', 'PutObject']);
  });

  it('after a 409, a changed object fails with SYNC_REMOTE_CHANGED instead of retrying', async () => {
    const old = s3.put('p/a.kenv', 'old');
    s3.before = (name, input) => {
      if (name === 'PutObject') {
        s3.put(input.Key as string, 'theirs');
        throw s3Error('ConditionalRequestConflict', 409);
      }
    };
    expect(await code(uploadFile(ctx(), await localFile('a.kenv', 'new'), old.etag))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.names()).toEqual(['PutObject', 'HeadObject']);
    s3.sent.length = 0;
    expect(await code(uploadFile(ctx(), await localFile('b.kenv', 'new'), undefined))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.objects.get('p/b.kenv')?.body.toString()).toBe('theirs');
  });

  it('a 412 is not retried', async () => {
    s3.before = (name) => {
      if (name === 'PutObject') throw s3Error('PreconditionFailed', 412);
    };
    await expect(uploadFile(ctx(), await localFile('a.kenv', 'x'), 'e')).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(s3.names()).toEqual(['PutObject']);
  });
});

describe('uploadFile on an endpoint that ignores conditional writes', () => {
  it('checks the object just before writing and refuses one another writer changed', async () => {
    s3.ignores.add('put');
    const old = s3.put('p/a.kenv', 'old');
    s3.put('p/a.kenv', 'theirs');
    const c = ctx({ endpoint: endpoint({ putIfMatch: false, putIfNoneMatch: false }) });
    expect(await code(uploadFile(c, await localFile('a.kenv', 'mine'), old.etag))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.objects.get('p/a.kenv')?.body.toString()).toBe('theirs');
    expect(await code(uploadFile(c, await localFile('a.kenv', 'mine'), undefined))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.names()).toEqual(['HeadObject', 'HeadObject']);
    await expect(uploadFile(c, await localFile('a.kenv', 'mine'), undefined)).rejects.toThrow('a.kenv changed on S3 while this sync ran. Sync again to reconcile it.');
  });

  it('refuses to replace an object that another machine deleted meanwhile, and looks with the abort signal', async () => {
    s3.ignores.add('put');
    const signal = new AbortController().signal;
    const c = ctx({ endpoint: endpoint({ putIfMatch: false }), signal });
    expect(await code(uploadFile(c, await localFile('a.kenv', 'mine'), 'deleted-etag'))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.objects.size).toBe(0);
    expect(s3.sent).toEqual([{ name: 'HeadObject', input: { Bucket: 'bucket', Key: 'p/a.kenv' }, options: { abortSignal: signal } }]);
  });

  it('checks after writing that its own object is the current one', async () => {
    s3.ignores.add('put');
    const c = ctx({ endpoint: endpoint({ putIfNoneMatch: false }) });
    s3.before = (name) => {
      if (name === 'HeadObject' && s3.names().filter((n) => n === 'HeadObject').length === 2) s3.put('p/a.kenv', 'theirs');
    };
    expect(await code(uploadFile(c, await localFile('a.kenv', 'mine'), undefined))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.names()).toEqual(['HeadObject', 'PutObject', 'HeadObject']);
    s3.before = undefined;
    s3.sent.length = 0;
    const entry = await uploadFile(c, await localFile('b.kenv', 'mine'), undefined);
    expect(entry.etag).toBe(md5('mine'));
    expect(s3.names()).toEqual(['HeadObject', 'PutObject', 'HeadObject']);
  });

  it('an object another machine deleted right after the unguarded write is a change too', async () => {
    s3.ignores.add('put');
    const c = ctx({ endpoint: endpoint({ putIfNoneMatch: false }) });
    s3.before = (name) => {
      if (name === 'HeadObject' && s3.names().filter((n) => n === 'HeadObject').length === 2) s3.remove('p/a.kenv');
    };
    expect(await code(uploadFile(c, await localFile('a.kenv', 'mine'), undefined))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.names()).toEqual(['HeadObject', 'PutObject', 'HeadObject']);
  });

  it('enforced conditions are left to the endpoint: no extra look', async () => {
    const c = ctx({ endpoint: endpoint({ putIfMatch: false }) });
    await uploadFile(c, await localFile('a.kenv', 'mine'), undefined);
    expect(s3.names()).toEqual(['PutObject']);
  });

  it('in a versioned bucket, restores what a racing write replaced as a conflict copy, and never the version the plan expected', async () => {
    s3.ignores.add('put');
    s3.versioned = true;
    const expected = s3.put('p/a.kenv', 'base');
    const c = ctx({ endpoint: endpoint({ putIfMatch: false, versioning: 'Enabled' }) });
    // Another machine writes between our check and our write.
    s3.before = (name) => {
      if (name === 'PutObject') s3.put('p/a.kenv', 'theirs');
    };
    await uploadFile(c, await localFile('a.kenv', 'mine'), expected.etag);
    expect(s3.objects.get('p/a.kenv')?.body.toString()).toBe('mine');
    expect(restored).toEqual([['a.kenv', 'a (conflict 2026-11-23 101500).kenv']]);
    expect(s3.objects.get('p/a (conflict 2026-11-23 101500).kenv')?.body.toString()).toBe('theirs');
    const copy = s3.sent.find((s) => s.name === 'CopyObject')!;
    expect(copy.input).toMatchObject({ Bucket: 'bucket', Key: 'p/a (conflict 2026-11-23 101500).kenv', IfNoneMatch: '*' });
    expect(copy.input.CopySource).toMatch(/^bucket\/p\/a\.kenv\?versionId=v\d+$/);
    expect([...s3.objects.values()].filter((o) => o.body.toString() === 'base')).toEqual([]);
  });

  it('in a versioned bucket, a create restores every version it replaced since the last deletion, each under a free name', async () => {
    s3.ignores.add('put');
    s3.versioned = true;
    s3.put('p/a.kenv', 'deleted on purpose');
    s3.remove('p/a.kenv');
    await writeFile(join(dir, 'a (conflict 2026-11-23 101500).kenv'), 'taken locally');
    const c = ctx({ endpoint: endpoint({ putIfNoneMatch: false, versioning: 'Enabled' }) });
    s3.before = (name) => {
      if (name === 'PutObject') {
        s3.put('p/a.kenv', 'first');
        s3.put('p/a.kenv', 'second');
      }
    };
    await uploadFile(c, await localFile('a.kenv', 'mine'), undefined);
    s3.before = undefined;
    const copies = restored.map(([, copy]) => copy);
    expect(copies).toHaveLength(2);
    expect(copies).not.toContain('a (conflict 2026-11-23 101500).kenv');
    expect(copies.map((k) => s3.objects.get(`p/${k}`)?.body.toString()).sort()).toEqual(['first', 'second']);
    expect(new Set(copies).size).toBe(2);
  });

  describe('ListObjectVersions in pages', () => {
    type Entry = { Key?: string; VersionId?: string; LastModified?: Date; ETag?: string };
    type Versions = { Versions?: Entry[]; DeleteMarkers?: Entry[]; IsTruncated?: boolean; NextKeyMarker?: string; NextVersionIdMarker?: string };
    /** The racing write of the first versioned test, with ListObjectVersions answered one version a page by `page`. */
    async function racing(page: (all: Versions, input: { KeyMarker?: string; VersionIdMarker?: string }, n: number) => Versions) {
      s3.ignores.add('put');
      s3.versioned = true;
      const expected = s3.put('p/a.kenv', 'base');
      s3.put('p/a.kenv.other', 'a longer key, listed after a.kenv\'s versions');
      s3.put('p/a.kenv.x', 'another one');
      const c = ctx({ endpoint: endpoint({ putIfMatch: false, versioning: 'Enabled' }) });
      s3.before = (name) => {
        if (name === 'PutObject') s3.put('p/a.kenv', 'theirs');
      };
      const original = s3.client.send.bind(s3.client);
      let n = 0;
      const client = {
        send: async (command: { constructor: { name: string }; input: { KeyMarker?: string; VersionIdMarker?: string } }, options: unknown) => {
          const out = (await original(command as never, options as never)) as unknown as Versions;
          if (command.constructor.name !== 'ListObjectVersionsCommand') return out;
          if (++n > 20) throw new Error('ListObjectVersions sent again and again');
          return page(out, command.input, n);
        },
      } as never;
      const result = uploadFile({ ...c, s3: client }, await localFile('a.kenv', 'mine'), expected.etag);
      return result.then(() => undefined, (e: unknown) => e);
    }
    /** Versions (newest first) then longer keys, one a page, as S3 pages them with KeyMarker and VersionIdMarker. */
    const paged = (all: Versions, input: { KeyMarker?: string; VersionIdMarker?: string }): Versions => {
      const entries = [...(all.Versions ?? [])].sort((x, y) => (x.Key === y.Key ? 0 : x.Key! < y.Key! ? -1 : 1));
      const at = input.KeyMarker === undefined ? 0 : entries.findIndex((e) => e.Key === input.KeyMarker && e.VersionId === input.VersionIdMarker) + 1;
      const one = entries[at]!;
      const more = at + 1 < entries.length;
      return { Versions: [one], DeleteMarkers: [], IsTruncated: more, ...(more ? { NextKeyMarker: one.Key, NextVersionIdMarker: one.VersionId } : {}) };
    };

    it('reads every page of the key\'s versions, and stops at the first longer key', async () => {
      expect(await racing(paged)).toBeUndefined();
      expect(restored).toEqual([['a.kenv', 'a (conflict 2026-11-23 101500).kenv']]);
      expect(s3.objects.get('p/a (conflict 2026-11-23 101500).kenv')?.body.toString()).toBe('theirs');
      // mine, theirs, base, then a.kenv.other: four pages, the fourth holding a longer key (a.kenv.x is not asked for).
      expect(s3.names().filter((n) => n === 'ListObjectVersions')).toHaveLength(4);
    });

    it('a truncated page without markers, with markers it gave before, or with nothing new, is S3_ERROR, not a short list', async () => {
      const pages: ((all: Versions, input: { KeyMarker?: string; VersionIdMarker?: string }, n: number) => Versions)[] = [
        (all, input) => ({ ...paged(all, input), NextKeyMarker: undefined, NextVersionIdMarker: undefined }),
        (all, input) => ({ ...paged(all, input), NextKeyMarker: 'p/a.kenv', NextVersionIdMarker: 'same' }),
        (all, _input, n) => ({ ...paged(all, {}), NextKeyMarker: 'p/a.kenv', NextVersionIdMarker: `fresh-${n}` }),
      ];
      for (const page of pages) {
        s3 = new FakeS3();
        restored = [];
        expect(await racing(page)).toMatchObject({
          code: 'S3_ERROR',
          message:
            "S3's list of the versions of p/a.kenv goes on but gave no way to go on, so what another machine may have written there just " +
            'before this upload could not be checked. Sync again; if it persists, the server does not list versions as S3 does.',
        });
        expect(s3.names().filter((n) => n === 'ListObjectVersions').length).toBeLessThanOrEqual(3);
        expect(restored).toEqual([]);
      }
    });
  });

  it('without versioning, or without a version id, nothing is listed or restored', async () => {
    s3.ignores.add('put');
    // An endpoint not known to version its bucket, whose answer carries a version id all the same.
    s3.versioned = true;
    await uploadFile(ctx({ endpoint: endpoint({ putIfNoneMatch: false, versioning: 'Unknown' }) }), await localFile('a.kenv', 'x'), undefined);
    s3.versioned = false;
    await uploadFile(ctx({ endpoint: endpoint({ putIfNoneMatch: false, versioning: 'Enabled' }) }), await localFile('b.kenv', 'x'), undefined);
    expect(s3.names()).not.toContain('ListObjectVersions');
    expect(restored).toEqual([]);
  });
});

describe('uploadFile (multipart)', () => {
  const big = () => Buffer.alloc(8 * MiB + 10, 7);

  it('uploads the parts, records the upload id first, and completes with the condition and sorted parts', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx({ partConcurrency: 1 });
    const entry = await uploadFile(c, local, undefined);
    expect(s3.names()).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);
    expect(saves).toBe(1);
    expect(c.index.uploads).toEqual({});
    const create = s3.sent[0]!.input;
    expect(create).toMatchObject({ Bucket: 'bucket', Key: 'p/big.kenv', ContentType: 'application/octet-stream', Metadata: { 'kenv-sha256': local.sha256 }, ChecksumAlgorithm: 'CRC32' });
    const complete = s3.sent[3]!.input as { IfNoneMatch?: string; MultipartUpload: { Parts: { PartNumber: number; ChecksumCRC32?: string }[] } };
    expect(complete.IfNoneMatch).toBe('*');
    expect(complete.MultipartUpload.Parts.map((p) => p.PartNumber)).toEqual([1, 2]);
    // Each part carries its CRC32 (declared at creation), and the completion repeats it: S3 refuses either missing.
    const crcs = [crc32b64(big().subarray(0, 8 * MiB)), crc32b64(big().subarray(8 * MiB))];
    expect(s3.sent.filter((s) => s.name === 'UploadPart').map((s) => s.input.ChecksumCRC32)).toEqual(crcs);
    expect(complete.MultipartUpload.Parts.map((p) => p.ChecksumCRC32)).toEqual(crcs);
    expect(s3.sent.filter((s) => s.name === 'UploadPart').map((s) => (s.input.Body as Buffer).length)).toEqual([8 * MiB, 10]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(big())).toBe(true);
    expect(entry).toEqual({ path: 'big.kenv', size: local.size, mtimeMs: local.mtimeMs, etag: s3.objects.get('p/big.kenv')!.etag, sha256: local.sha256 });
    expect(bytes['big.kenv']).toBe(local.size);
  });

  it('reuses a part buffer only once its part was sent: parts finishing out of order all arrive intact', async () => {
    // Five parts with different bytes, two in flight; each part's request holds its buffer a while before the server
    // copies it, as a slow connection does, even parts ten times longer than odd ones, so that one lane finishes
    // parts while the other's is still in flight. A buffer refilled too early would corrupt a part.
    const content = Buffer.concat(Array.from({ length: 5 }, (_, i) => Buffer.alloc(i < 4 ? 8 * MiB : 1234, i + 1)));
    const local = await localFile('big.kenv', content);
    s3.before = async (name, input) => {
      if (name === 'UploadPart') await new Promise((r) => setTimeout(r, (input.PartNumber as number) % 2 ? 20 : 200));
    };
    await uploadFile(ctx({ partConcurrency: 2 }), local, undefined);
    const parts = s3.sent.filter((s) => s.name === 'UploadPart');
    expect(parts.map((s) => (s.input.Body as Buffer).length)).toEqual([8 * MiB, 8 * MiB, 8 * MiB, 8 * MiB, 1234]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(content)).toBe(true);
  });

  it('completes over an existing object with If-Match, and a third writer makes it fail', async () => {
    const old = s3.put('p/big.kenv', 'old');
    const local = await localFile('big.kenv', big());
    s3.put('p/big.kenv', 'theirs');
    await expect(uploadFile(ctx(), local, old.etag)).rejects.toMatchObject({ name: 'PreconditionFailed' });
    const complete = s3.sent.find((s) => s.name === 'CompleteMultipartUpload')!;
    expect(complete.input.IfMatch).toBe(`"${old.etag}"`);
    expect(s3.objects.get('p/big.kenv')?.body.toString()).toBe('theirs');
  });

  it('resumes a recorded upload: lists its parts page by page and sends only what is missing', async () => {
    const local = await localFile('big.kenv', Buffer.alloc(16 * MiB + 1, 3));
    const c = ctx({ partConcurrency: 1 });
    // A first attempt stops after two parts.
    let parts = 0;
    s3.before = (name) => {
      if (name === 'UploadPart' && ++parts > 2) throw s3Error('RequestTimeout', 400);
    };
    await expect(uploadFile(c, local, undefined)).rejects.toMatchObject({ name: 'RequestTimeout' });
    const pending = c.index.uploads['big.kenv']!;
    expect(pending).toEqual({ path: 'big.kenv', key: 'p/big.kenv', uploadId: expect.any(String), size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' });
    s3.before = undefined;
    s3.sent.length = 0;
    bytes = {};
    await uploadFile(c, local, undefined);
    expect(s3.names()).toEqual(['ListParts', 'ListParts', 'UploadPart', 'CompleteMultipartUpload']);
    expect(s3.sent[1]?.input.PartNumberMarker).toBe('1');
    expect(s3.sent.filter((s) => s.name === 'UploadPart').map((s) => s.input.PartNumber)).toEqual([3]);
    expect(s3.objects.get('p/big.kenv')?.body.length).toBe(local.size);
    expect(bytes['big.kenv']).toBe(local.size);
    expect(c.index.uploads).toEqual({});
  });

  it('does not resume an upload recorded for another version of the file: aborts it and starts again', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx();
    const stale = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'old-upload', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' as const };
    // An upload recorded with no checksum was made before Kenv declared one: its parts could not be completed with one.
    for (const change of [{ key: 'p/other.kenv' }, { size: 1 }, { mtimeMs: 1 }, { sha256: 'x' }, { partSize: 16 * MiB }, { checksum: undefined }]) {
      c.index.uploads['big.kenv'] = { ...stale, ...change };
      s3.uploads.set('old-upload', { key: 'p/big.kenv', metadata: {}, parts: new Map(), checksum: 'CRC32' });
      s3.sent.length = 0;
      s3.objects.clear();
      await uploadFile(c, local, undefined);
      expect(s3.names().slice(0, 2)).toEqual(['AbortMultipartUpload', 'CreateMultipartUpload']);
      expect(s3.sent[0]?.input).toMatchObject({ Bucket: 'bucket', Key: 'key' in change ? change.key : 'p/big.kenv', UploadId: 'old-upload' });
      expect(s3.uploads.has('old-upload')).toBe(false);
    }
  });

  it('starts again when the recorded upload is gone, and ignores parts that do not fit the file', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx();
    c.index.uploads['big.kenv'] = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'gone', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' };
    await uploadFile(c, local, undefined);
    expect(s3.names()).toEqual(['ListParts', 'CreateMultipartUpload', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);

    // A recorded upload holding a part of the wrong size and a part beyond the end: both are sent again / left out.
    s3.objects.clear();
    s3.sent.length = 0;
    s3.uploads.set('odd', { key: 'p/big.kenv', metadata: {}, parts: new Map([[1, Buffer.alloc(5)], [2, Buffer.alloc(10, 7)], [3, Buffer.alloc(10, 7)]]), checksum: 'CRC32' });
    c.index.uploads['big.kenv'] = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'odd', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' };
    await uploadFile(c, local, undefined);
    expect(s3.sent.filter((s) => s.name === 'UploadPart').map((s) => s.input.PartNumber)).toEqual([1]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(big())).toBe(true);
  });

  it('resumes only listed parts with a number in range, an ETag and the right size', async () => {
    // A file of 8 MiB + 1 byte: part 2 is 1 byte long.
    const content = Buffer.alloc(8 * MiB + 1, 5);
    const local = await localFile('big.kenv', content);
    const c = ctx({ partConcurrency: 1 });
    const recorded = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'u', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' as const };
    const original = s3.client.send.bind(s3.client);
    const listing = (edit: (parts: { PartNumber?: number; ETag?: string; Size?: number }[]) => void) => ({
      send: async (command: { constructor: { name: string } }, options: unknown) => {
        const out = (await original(command as never, options as never)) as unknown as { Parts?: { PartNumber?: number; ETag?: string; Size?: number }[] };
        if (command.constructor.name === 'ListPartsCommand' && out.Parts) edit(out.Parts);
        return out;
      },
    }) as never;
    const resume = async (edit: Parameters<typeof listing>[0]) => {
      s3.objects.clear();
      s3.uploads.set('u', { key: 'p/big.kenv', metadata: {}, parts: new Map([[1, content.subarray(0, 8 * MiB)], [2, content.subarray(8 * MiB)]]), checksum: 'CRC32' });
      c.index.uploads['big.kenv'] = { ...recorded };
      s3.sent.length = 0;
      await uploadFile({ ...c, s3: listing(edit) }, local, undefined);
      expect(s3.objects.get('p/big.kenv')?.body.equals(content)).toBe(true);
      return s3.sent.filter((s) => s.name === 'UploadPart').map((s) => s.input.PartNumber);
    };
    // A part listed without its ETag, or without its size, is sent again.
    expect(await resume((parts) => parts.forEach((p) => p.PartNumber === 1 && delete p.ETag))).toEqual([1]);
    expect(await resume((parts) => parts.forEach((p) => p.PartNumber === 2 && delete p.Size))).toEqual([2]);
    // A part 0 (S3 numbers parts from 1) is not taken into the completion.
    expect(
      await resume((parts) => {
        const one = parts.find((p) => p.PartNumber === 1);
        if (one) parts.push({ PartNumber: 0, ETag: one.ETag, Size: 8 * MiB });
      }),
    ).toEqual([]);
  });

  it('a listed part numbered after the last one is never completed: neither an empty one nor one listed without a size', async () => {
    // The upload holds a part 3 the file has no room for. Listed as it is, or with its size left out (counted as -1),
    // or empty after a file that ends on a part boundary (an expected length of 0), it must stay out of the completion.
    const hostile = async (size: number, extra: Buffer, edit: (part: { Size?: number }) => void) => {
      const content = Buffer.alloc(size, 9);
      const local = await localFile('big.kenv', content);
      const c = ctx({ partConcurrency: 1 });
      c.index.uploads['big.kenv'] = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'u', size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' };
      const parts = new Map([[1, content.subarray(0, 8 * MiB)], [2, content.subarray(8 * MiB)], [3, extra]]);
      s3.uploads.set('u', { key: 'p/big.kenv', metadata: {}, parts, checksum: 'CRC32' });
      s3.objects.clear();
      s3.sent.length = 0;
      const original = s3.client.send.bind(s3.client);
      const listing = {
        send: async (command: { constructor: { name: string } }, options: unknown) => {
          const out = (await original(command as never, options as never)) as unknown as { Parts?: { PartNumber?: number; Size?: number }[] };
          if (command.constructor.name === 'ListPartsCommand') out.Parts?.filter((p) => p.PartNumber === 3).forEach(edit);
          return out;
        },
      } as never;
      await uploadFile({ ...c, s3: listing }, local, undefined);
      const complete = s3.sent.find((s) => s.name === 'CompleteMultipartUpload')!.input as { MultipartUpload: { Parts: { PartNumber: number }[] } };
      expect(complete.MultipartUpload.Parts.map((p) => p.PartNumber)).toEqual([1, 2]);
      expect(s3.names().filter((n) => n === 'UploadPart')).toEqual([]);
      expect(s3.objects.get('p/big.kenv')?.body.equals(content)).toBe(true);
    };
    // 16 MiB - 1 byte: part 2 is one byte short of 8 MiB, and a part 3 listed without its size would read as -1 bytes.
    await hostile(16 * MiB - 1, Buffer.from('not this file'), (p) => delete p.Size);
    // Exactly 16 MiB: an empty part 3 has the length a part after the last one is computed to have.
    await hostile(16 * MiB, Buffer.alloc(0), () => undefined);
  });

  it('a ListParts answer that is not truncated ends the listing, whatever next marker it names', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx();
    c.index.uploads['big.kenv'] = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'u', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' as const };
    s3.uploads.set('u', { key: 'p/big.kenv', metadata: {}, parts: new Map([[1, big().subarray(0, 8 * MiB)]]), checksum: 'CRC32' });
    const original = s3.client.send.bind(s3.client);
    // S3 names the last part listed as NextPartNumberMarker on every page.
    let lists = 0;
    const marking = {
      send: async (command: { constructor: { name: string } }, options: unknown) => {
        if (command.constructor.name === 'ListPartsCommand' && ++lists > 3) throw new Error('ListParts sent again and again');
        const out = (await original(command as never, options as never)) as unknown as Record<string, unknown>;
        return command.constructor.name === 'ListPartsCommand' ? { ...out, NextPartNumberMarker: '1' } : out;
      },
    } as never;
    await uploadFile({ ...c, s3: marking }, local, undefined);
    expect(s3.names()).toEqual(['ListParts', 'UploadPart', 'CompleteMultipartUpload']);
  });

  it('another ListParts failure fails the upload', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx();
    c.index.uploads['big.kenv'] = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'u', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' };
    s3.before = (name) => {
      if (name === 'ListParts') throw s3Error('AccessDenied', 403);
    };
    await expect(uploadFile(c, local, undefined)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('a file changed during the upload is not completed: the upload is aborted and forgotten', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx({ partConcurrency: 1 });
    s3.before = async (name) => {
      if (name === 'UploadPart' && s3.names().filter((n) => n === 'UploadPart').length === 2) await utimes(join(dir, 'big.kenv'), new Date(), new Date(Date.now() + 60_000));
    };
    expect(await code(uploadFile(c, local, undefined))).toBe('SYNC_LOCAL_CHANGED');
    expect(s3.names().slice(-1)).toEqual(['AbortMultipartUpload']);
    expect(c.index.uploads).toEqual({});
    expect(s3.objects.size).toBe(0);
  });

  it('a large file that changed since the scan (size or time) is refused before any request', async () => {
    const local = await localFile('big.kenv', big());
    expect(await code(uploadFile(ctx(), { ...local, size: local.size + 1 }, undefined))).toBe('SYNC_LOCAL_CHANGED');
    expect(await code(uploadFile(ctx(), { ...local, mtimeMs: local.mtimeMs - 5000 }, undefined))).toBe('SYNC_LOCAL_CHANGED');
    expect(s3.names()).toEqual([]);
  });

  it('a file that grew during the upload, its time put back, is not completed either', async () => {
    const abs = join(dir, 'big.kenv');
    const then = new Date('2026-11-01T10:00:00Z');
    await writeFile(abs, big());
    await utimes(abs, then, then);
    const local = { path: 'big.kenv', size: big().length, mtimeMs: (await stat(abs)).mtimeMs, sha256: sha(big()) };
    const c = ctx({ partConcurrency: 1 });
    s3.before = async (name) => {
      if (name === 'UploadPart' && s3.names().filter((n) => n === 'UploadPart').length === 2) {
        await appendFile(abs, 'more');
        await utimes(abs, then, then);
      }
    };
    expect(await code(uploadFile(c, local, undefined))).toBe('SYNC_LOCAL_CHANGED');
    expect((await stat(abs)).mtimeMs).toBe(local.mtimeMs);
    expect(s3.names().slice(-1)).toEqual(['AbortMultipartUpload']);
    expect(c.index.uploads).toEqual({});
    expect(s3.objects.size).toBe(0);
  });

  it('parts that finish out of order are completed in order', async () => {
    const local = await localFile('big.kenv', big());
    let partTwoDone!: () => void;
    const two = new Promise<void>((resolve) => (partTwoDone = resolve));
    // Part 1 is held until part 2 has been sent and counted.
    s3.before = async (name, input) => {
      if (name === 'UploadPart' && input.PartNumber === 1) await two;
    };
    const c = ctx({ partConcurrency: 2, onBytes: (_path, n) => (n === 10 ? partTwoDone() : undefined) });
    await uploadFile(c, local, undefined);
    const complete = s3.sent.find((s) => s.name === 'CompleteMultipartUpload')!.input as { MultipartUpload: { Parts: { PartNumber: number }[] } };
    expect(complete.MultipartUpload.Parts.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(big())).toBe(true);
  });

  it('sends every request of the upload with the abort signal', async () => {
    const local = await localFile('big.kenv', big());
    const signal = new AbortController().signal;
    const c = ctx({ signal });
    c.index.uploads['big.kenv'] = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'gone', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' as const };
    await uploadFile(c, local, undefined);
    expect(s3.names()).toEqual(['ListParts', 'CreateMultipartUpload', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);
    for (const s of s3.sent) expect(s.options, s.name).toEqual({ abortSignal: signal });
  });

  it('a file that became shorter is not uploaded past its end', async () => {
    const local = await localFile('big.kenv', big());
    await writeFile(join(dir, 'big.kenv'), Buffer.alloc(8 * MiB, 7));
    await utimes(join(dir, 'big.kenv'), local.mtimeMs / 1000, local.mtimeMs / 1000);
    const info = await stat(join(dir, 'big.kenv'));
    expect(await code(uploadFile(ctx(), { ...local, mtimeMs: info.mtimeMs, size: big().length }, undefined))).toBe('SYNC_LOCAL_CHANGED');
  });

  it('an upload id or part ETag missing from the answer is an error, not a silent success', async () => {
    const local = await localFile('big.kenv', big());
    const original = s3.client.send.bind(s3.client);
    const broken = (drop: string) => ({
      send: async (command: { constructor: { name: string } }, options: unknown) => {
        const out = (await original(command as never, options as never)) as unknown as Record<string, unknown>;
        return command.constructor.name === drop ? { ...out, UploadId: undefined, ETag: undefined } : out;
      },
    }) as never;
    await expect(uploadFile(ctx({ s3: broken('CreateMultipartUploadCommand') }), local, undefined)).rejects.toMatchObject({
      code: 'S3_ERROR', message: 'S3 did not return an upload id for big.kenv. Sync again.',
    });
    await expect(uploadFile(ctx({ s3: broken('UploadPartCommand') }), local, undefined)).rejects.toMatchObject({
      code: 'S3_ERROR', message: expect.stringMatching(/^S3 did not return an ETag for part [12] of big\.kenv\. Sync again\.$/),
    });
  });

  it('after a 409 on completion, aborts, forgets the upload, looks again and sends every part again', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx();
    let conflicts = 1;
    s3.before = (name) => {
      if (name === 'CompleteMultipartUpload' && conflicts-- > 0) throw s3Error('ConditionalRequestConflict', 409);
    };
    await uploadFile(c, local, undefined);
    expect(s3.names()).toEqual([
      'CreateMultipartUpload', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'HeadObject',
      'CreateMultipartUpload', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload',
    ]);
    expect(c.index.uploads).toEqual({});
    expect(s3.uploads.size).toBe(0);
  });

  it('gives up after three 409s, and a 412 on completion keeps the upload for the next sync', async () => {
    const local = await localFile('big.kenv', big());
    const c = ctx();
    s3.before = (name) => {
      if (name === 'CompleteMultipartUpload') throw s3Error('ConditionalRequestConflict', 409);
    };
    await expect(uploadFile(c, local, undefined)).rejects.toMatchObject({ name: 'ConditionalRequestConflict' });
    expect(s3.names().filter((n) => n === 'CreateMultipartUpload')).toHaveLength(3);
    s3.before = (name) => {
      if (name === 'CompleteMultipartUpload') throw s3Error('PreconditionFailed', 412);
    };
    await expect(uploadFile(c, local, undefined)).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(c.index.uploads['big.kenv']).toBeDefined();
  });

  it('on an endpoint that ignores the condition on completion, looks before and after', async () => {
    s3.ignores.add('complete');
    const local = await localFile('big.kenv', big());
    await uploadFile(ctx({ endpoint: endpoint({ completeIfNoneMatch: false }) }), local, undefined);
    expect(s3.names()[0]).toBe('HeadObject');
    expect(s3.names().slice(-1)).toEqual(['HeadObject']);
  });

  it('in a versioned bucket, an unguarded completion restores what a racing write replaced', async () => {
    s3.ignores.add('complete');
    s3.versioned = true;
    const expected = s3.put('p/big.kenv', 'base');
    const local = await localFile('big.kenv', big());
    s3.before = (name) => {
      if (name === 'CompleteMultipartUpload') s3.put('p/big.kenv', 'theirs');
    };
    await uploadFile(ctx({ endpoint: endpoint({ completeIfMatch: false, versioning: 'Enabled' }) }), local, expected.etag);
    expect(s3.objects.get('p/big.kenv')?.body.equals(big())).toBe(true);
    expect(restored).toEqual([['big.kenv', 'big (conflict 2026-11-23 101500).kenv']]);
    expect(s3.objects.get('p/big (conflict 2026-11-23 101500).kenv')?.body.toString()).toBe('theirs');
  });

  it('refuses a file larger than S3 allows', async () => {
    const local = await localFile('a.kenv', 'x');
    // A sparse file of 5 TiB + 1 byte.
    const fh = await open(join(dir, 'a.kenv'), 'r+');
    try {
      await fh.truncate(5 * 1024 * 1024 * MiB + 1);
    } catch {
      return; // a file system without sparse files this large
    } finally {
      await fh.close();
    }
    const info = await stat(join(dir, 'a.kenv'));
    await expect(uploadFile(ctx(), { ...local, size: info.size, mtimeMs: info.mtimeMs }, undefined)).rejects.toMatchObject({
      code: 'S3_ERROR', message: 'a.kenv is larger than the 5 TiB S3 allows for one object.',
    });
    expect(s3.names()).toEqual([]);
    // Exactly 5 TiB is allowed: it goes on to a multipart upload (stopped here at its start).
    await truncate(join(dir, 'a.kenv'), 5 * 1024 * 1024 * MiB);
    const exact = await stat(join(dir, 'a.kenv'));
    s3.before = (name) => {
      if (name === 'CreateMultipartUpload') throw s3Error('AccessDenied', 403);
    };
    await expect(uploadFile(ctx(), { ...local, size: exact.size, mtimeMs: exact.mtimeMs }, undefined)).rejects.toMatchObject({ name: 'AccessDenied' });
    await rm(join(dir, 'a.kenv'));
  });

  it('a file of exactly one part size goes in one PutObject', async () => {
    const local = await localFile('one.kenv', Buffer.alloc(8 * MiB, 1));
    await uploadFile(ctx(), local, undefined);
    expect(s3.names()).toEqual(['PutObject']);
  });
});

describe('uploadFile resuming an upload: what ListParts says is only a claim', () => {
  // A file of three parts (8 MiB, 8 MiB, 1 byte) whose upload S3 already holds parts of.
  const content = () => {
    const b = Buffer.alloc(16 * MiB + 1, 3);
    b.fill(4, 8 * MiB);
    return b;
  };
  type Listed = { Parts?: { PartNumber?: number; ETag?: string; Size?: number; ChecksumCRC32?: string }[]; IsTruncated?: boolean; NextPartNumberMarker?: string };

  /** Records upload `u` holding `parts`, and returns a context whose ListParts answers `edit` rewrites; 20 ListParts is a loop. */
  async function resuming(parts: Map<number, Buffer>, edit: (out: Listed, input: { PartNumberMarker?: string }) => Listed = (out) => out) {
    const local = await localFile('big.kenv', content());
    const c = ctx({ partConcurrency: 1 });
    c.index.uploads['big.kenv'] = { path: 'big.kenv', key: 'p/big.kenv', uploadId: 'u', size: local.size, mtimeMs: local.mtimeMs, sha256: local.sha256, partSize: 8 * MiB, checksum: 'CRC32' };
    s3.uploads.set('u', { key: 'p/big.kenv', metadata: { 'kenv-sha256': local.sha256 }, parts, checksum: 'CRC32' });
    const original = s3.client.send.bind(s3.client);
    let lists = 0;
    const client = {
      send: async (command: { constructor: { name: string }; input: { PartNumberMarker?: string } }, options: unknown) => {
        const listing = command.constructor.name === 'ListPartsCommand';
        if (listing && ++lists > 20) throw new Error('ListParts sent again and again');
        const out = (await original(command as never, options as never)) as unknown as Listed;
        return listing ? edit(out, command.input) : out;
      },
    } as never;
    return { local, c: { ...c, s3: client } };
  }
  const sentParts = () => s3.sent.filter((s) => s.name === 'UploadPart').map((s) => s.input.PartNumber);
  const markers = () => s3.sent.filter((s) => s.name === 'ListParts').map((s) => s.input.PartNumberMarker);
  const held = () => new Map([[1, content().subarray(0, 8 * MiB)], [2, content().subarray(8 * MiB, 16 * MiB)]]);

  it('a marker that repeats or goes back is refused with S3_ERROR, and the upload is abandoned so the next sync sends it whole', async () => {
    for (const next of ['1', '0']) {
      s3.sent.length = 0;
      s3.objects.clear();
      const { local, c } = await resuming(held(), (out) => ({ ...out, IsTruncated: true, NextPartNumberMarker: next }));
      const error = await uploadFile(c, local, undefined).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({
        code: 'S3_ERROR',
        message: expect.stringMatching(/^S3's list of the parts already sent for big\.kenv goes on but gave no way to go on \(after part [01], it named part [01]\)\. The upload was abandoned/),
      });
      expect(markers().length).toBeLessThanOrEqual(2);
      expect(s3.uploads.has('u')).toBe(false);
      expect(c.index.uploads).toEqual({});
      expect(s3.objects.size).toBe(0);
      await uploadFile(c, local, undefined);
      expect(sentParts()).toEqual([1, 2, 3]);
      expect(s3.objects.get('p/big.kenv')?.body.equals(content())).toBe(true);
    }
  });

  it('a truncated page with neither a marker nor a part is S3_ERROR, in a whole sentence', async () => {
    const { local, c } = await resuming(held(), () => ({ Parts: [], IsTruncated: true }));
    expect(await uploadFile(c, local, undefined).then(() => undefined, (e: unknown) => e)).toMatchObject({
      code: 'S3_ERROR',
      message:
        "S3's list of the parts already sent for big.kenv goes on but gave no way to go on (after part 0, it named no next part). " +
        'The upload was abandoned: the next sync sends the file again in full. If it persists, the server does not list parts as S3 does.',
    });
    expect(markers()).toEqual([undefined]);
  });

  it('a truncated page without a marker goes on after its last part instead of ending the list', async () => {
    const { local, c } = await resuming(held(), (out) => ({ ...out, NextPartNumberMarker: undefined }));
    await uploadFile(c, local, undefined);
    expect(markers()).toEqual([undefined, '1']);
    expect(sentParts()).toEqual([3]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(content())).toBe(true);
  });

  it('a list that goes on for ever with ever new markers ends at the file\'s last part', async () => {
    const { local, c } = await resuming(new Map(), (_out, input) => ({ Parts: [], IsTruncated: true, NextPartNumberMarker: String(Number(input.PartNumberMarker ?? 0) + 1) }));
    await uploadFile(c, local, undefined);
    expect(markers()).toEqual([undefined, '1', '2']);
    expect(sentParts()).toEqual([1, 2, 3]);
  });

  it('parts listed out of order or twice are not taken: each part is skipped once, from its first listing', async () => {
    const { local, c } = await resuming(held(), (out) => ({ ...out, Parts: [...(out.Parts ?? []), { PartNumber: 1, ETag: '"x"', Size: 8 * MiB, ChecksumCRC32: 'AAAAAA==' }] }));
    await uploadFile(c, local, undefined);
    expect(sentParts()).toEqual([3]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(content())).toBe(true);
  });

  it('a part S3 holds with another CRC32 than the file\'s is sent again, so the object is the file', async () => {
    // Same size, other bytes: a part from another file, or damaged. Trusted, it would complete into an object
    // whose stored SHA-256 does not match its bytes.
    const parts = held();
    parts.set(1, Buffer.alloc(8 * MiB, 9));
    const { local, c } = await resuming(parts);
    await uploadFile(c, local, undefined);
    expect(sentParts()).toEqual([1, 3]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(content())).toBe(true);
    const complete = s3.sent.find((s) => s.name === 'CompleteMultipartUpload')!.input as { MultipartUpload: { Parts: { ChecksumCRC32?: string }[] } };
    expect(complete.MultipartUpload.Parts.map((p) => p.ChecksumCRC32)).toEqual([crc32b64(content().subarray(0, 8 * MiB)), crc32b64(content().subarray(8 * MiB, 16 * MiB)), crc32b64(content().subarray(16 * MiB))]);
    expect(bytes['big.kenv']).toBe(local.size);
  });

  it('where S3 lists no CRC32, a part is skipped only if its ETag is the MD5 of the file\'s part', async () => {
    const parts = held();
    parts.set(2, Buffer.alloc(8 * MiB, 9));
    const noChecksums = (out: Listed) => ({ ...out, Parts: out.Parts?.map(({ ChecksumCRC32: _, ...p }) => p) });
    const { local, c } = await resuming(parts, noChecksums);
    await uploadFile(c, local, undefined);
    expect(sentParts()).toEqual([2, 3]);
    expect(s3.objects.get('p/big.kenv')?.body.equals(content())).toBe(true);

    // An ETag that is no MD5 (an upload encrypted with a KMS key) proves nothing: the part is sent again.
    s3.sent.length = 0;
    s3.objects.clear();
    const again = await resuming(held(), (out) => ({ ...noChecksums(out), Parts: noChecksums(out).Parts?.map((p) => ({ ...p, ETag: '"0123456789abcdef0123456789abcdef"' })) }));
    await uploadFile(again.c, again.local, undefined);
    expect(sentParts()).toEqual([1, 2, 3]);
  });
});

describe('abortUpload', () => {
  it('aborts the upload, and ignores an upload that is gone', async () => {
    s3.uploads.set('u', { key: 'p/a.kenv', metadata: {}, parts: new Map() });
    const pending = { path: 'a.kenv', key: 'p/a.kenv', uploadId: 'u', size: 1, mtimeMs: 1, sha256: 'x', partSize: 8 * MiB, checksum: 'CRC32' as const };
    await abortUpload(ctx(), pending);
    expect(s3.uploads.size).toBe(0);
    await expect(abortUpload(ctx(), pending)).resolves.toBeUndefined();
  });
});

describe('downloadObject', () => {
  it('reads with If-Match on the planned ETag, verifies the SHA-256 and places the file', async () => {
    const o = s3.put('p/d/a.kenv', 'cipher', { 'kenv-sha256': sha('cipher') });
    const signal = new AbortController().signal;
    const out = await downloadObject(ctx({ signal }), { path: 'd/a.kenv', size: 6, etag: o.etag }, undefined);
    const get = s3.sent.find((s) => s.name === 'GetObject')!;
    expect(get.input).toEqual({ Bucket: 'bucket', Key: 'p/d/a.kenv', IfMatch: `"${o.etag}"` });
    expect(get.options).toEqual({ abortSignal: signal });
    expect(await readFile(join(dir, 'd', 'a.kenv'), 'utf8')).toBe('cipher');
    const info = await stat(join(dir, 'd', 'a.kenv'));
    expect(out).toEqual({ path: 'd/a.kenv', entry: { path: 'd/a.kenv', size: 6, mtimeMs: info.mtimeMs, etag: o.etag, sha256: sha('cipher') } });
    expect(bytes).toEqual({ 'd/a.kenv': 6 });
    expect(await readdir(join(dir, '.kenv-sync', 'tmp'))).toEqual([]);
  });

  it('a third writer between the listing and the download: the newer object is refused, nothing placed', async () => {
    const o = s3.put('p/a.kenv', 'planned');
    s3.put('p/a.kenv', 'theirs');
    await expect(downloadObject(ctx(), { path: 'a.kenv', size: 7, etag: o.etag }, undefined)).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(await readdir(dir)).toEqual(['.kenv-sync']);
    expect(await readdir(join(dir, '.kenv-sync', 'tmp'))).toEqual([]);
  });

  it('where the endpoint ignores If-Match on reads, compares the ETag itself', async () => {
    s3.ignores.add('get');
    const o = s3.put('p/a.kenv', 'planned');
    s3.put('p/a.kenv', 'theirs');
    expect(await code(downloadObject(ctx({ endpoint: endpoint({ getIfMatch: false }) }), { path: 'a.kenv', size: 7, etag: o.etag }, undefined))).toBe('SYNC_REMOTE_CHANGED');
    expect(await readdir(dir)).toEqual(['.kenv-sync']);
    // The object the plan saw is taken as usual.
    const same = s3.objects.get('p/a.kenv')!;
    expect((await downloadObject(ctx({ endpoint: endpoint({ getIfMatch: false }) }), { path: 'a.kenv', size: 6, etag: same.etag }, undefined)).path).toBe('a.kenv');
    await rm(join(dir, 'a.kenv'));
    // An endpoint that enforces it is trusted (the fake here does not, so the newer object arrives).
    const out = await downloadObject(ctx({ endpoint: endpoint() }), { path: 'a.kenv', size: 7, etag: o.etag }, undefined);
    expect(out.entry.etag).toBe(md5('theirs'));
  });

  it('where the endpoint ignores If-Match on reads, an answer without an ETag is taken under the planned one', async () => {
    s3.ignores.add('get');
    const o = s3.put('p/a.kenv', 'cipher', { 'kenv-sha256': sha('cipher') });
    const original = s3.client.send.bind(s3.client);
    const noEtag = {
      send: async (command: { constructor: { name: string } }, options: unknown) => {
        const out = (await original(command as never, options as never)) as unknown as Record<string, unknown>;
        return { ...out, ETag: undefined };
      },
    } as never;
    const out = await downloadObject(ctx({ s3: noEtag, endpoint: endpoint({ getIfMatch: false }) }), { path: 'a.kenv', size: 6, etag: o.etag }, undefined);
    expect(out.entry.etag).toBe(o.etag);
    expect(await readFile(join(dir, 'a.kenv'), 'utf8')).toBe('cipher');
  });

  it('a damaged body is fetched once more; damaged twice, nothing is written', async () => {
    const o = s3.put('p/a.kenv', 'cipher', { 'kenv-sha256': sha('cipher') });
    let damaged = 1;
    s3.tamper = (b) => (damaged-- > 0 ? Buffer.from('cipheR') : b);
    await downloadObject(ctx(), { path: 'a.kenv', size: 6, etag: o.etag }, undefined);
    expect(await readFile(join(dir, 'a.kenv'), 'utf8')).toBe('cipher');
    expect(s3.names().filter((n) => n === 'GetObject')).toHaveLength(2);

    s3.sent.length = 0;
    s3.tamper = () => Buffer.from('cipheR');
    const b = s3.put('p/b.kenv', 'cipher', { 'kenv-sha256': sha('cipher') });
    await expect(downloadObject(ctx(), { path: 'b.kenv', size: 6, etag: b.etag }, undefined)).rejects.toMatchObject({
      code: 'SYNC_CHECKSUM_MISMATCH',
      message: 'b.kenv arrived corrupted twice (its SHA-256 does not match the one stored with it). Nothing was written; sync again later.',
    });
    expect(s3.names().filter((n) => n === 'GetObject')).toHaveLength(2);
    expect((await readdir(dir)).sort()).toEqual(['.kenv-sync', 'a.kenv']);
    expect(await readdir(join(dir, '.kenv-sync', 'tmp'))).toEqual([]);
  });

  it('a body shorter than its Content-Length is refused too, and an object without a SHA-256 is taken by length', async () => {
    const o = s3.put('p/a.kenv', 'cipher');
    s3.tamper = (b) => b.subarray(0, 4);
    expect(await code(downloadObject(ctx(), { path: 'a.kenv', size: 6, etag: o.etag }, undefined))).toBe('SYNC_CHECKSUM_MISMATCH');
    s3.tamper = undefined;
    await downloadObject(ctx(), { path: 'a.kenv', size: 6, etag: o.etag }, undefined);
    expect(await readFile(join(dir, 'a.kenv'), 'utf8')).toBe('cipher');
  });

  it('an SDK checksum failure counts as damage; another stream error fails the download', async () => {
    const o = s3.put('p/a.kenv', 'cipher');
    const original = s3.client.send.bind(s3.client);
    const failing = (message: string) => ({
      send: async (command: { constructor: { name: string } }, options: unknown) => {
        const out = (await original(command as never, options as never)) as unknown as Record<string, unknown>;
        if (command.constructor.name !== 'GetObjectCommand') return out;
        return { ...out, Body: Readable.from((async function* () { yield Buffer.from('cipher'); throw new Error(message); })()) };
      },
    }) as never;
    expect(await code(downloadObject(ctx({ s3: failing('Checksum mismatch: expected x') }), { path: 'a.kenv', size: 6, etag: o.etag }, undefined))).toBe('SYNC_CHECKSUM_MISMATCH');
    await expect(downloadObject(ctx({ s3: failing('socket hang up') }), { path: 'a.kenv', size: 6, etag: o.etag }, undefined)).rejects.toThrow('socket hang up');
    expect(await readdir(dir)).toEqual(['.kenv-sync']);
  });

  it('the stored SHA-256 overrules an SDK checksum failure: a matching body is taken, a different one is damage', async () => {
    // moto sends a multipart object's checksum of part checksums as if it were the whole body's; the SDK then fails
    // a good body at its end.
    const complaining = (body: string) => ({
      send: async (command: { constructor: { name: string } }, options: unknown) => {
        const out = (await s3.client.send(command as never, options as never)) as unknown as Record<string, unknown>;
        if (command.constructor.name !== 'GetObjectCommand') return out;
        return { ...out, Body: Readable.from((async function* () { yield Buffer.from(body); throw new Error('Checksum mismatch: expected x'); })()) };
      },
    }) as never;
    const o = s3.put('p/a.kenv', 'cipher', { 'kenv-sha256': sha('cipher') });
    const result = await downloadObject(ctx({ s3: complaining('cipher') }), { path: 'a.kenv', size: 6, etag: o.etag }, undefined);
    expect(result.path).toBe('a.kenv');
    expect(await readFile(join(dir, 'a.kenv'), 'utf8')).toBe('cipher');
    await rm(join(dir, 'a.kenv'));
    expect(await code(downloadObject(ctx({ s3: complaining('cipheR') }), { path: 'a.kenv', size: 6, etag: o.etag }, undefined))).toBe('SYNC_CHECKSUM_MISMATCH');
    expect(await readdir(dir)).toEqual(['.kenv-sync']);
  });

  it('takes a body of the stated SHA-256 when the answer has no Content-Length, and closes its temporary file', async () => {
    const o = s3.put('p/a.kenv', 'cipher', { 'kenv-sha256': sha('cipher') });
    const original = s3.client.send.bind(s3.client);
    const noLength = {
      send: async (command: { constructor: { name: string } }, options: unknown) => {
        const out = (await original(command as never, options as never)) as unknown as Record<string, unknown>;
        return { ...out, ContentLength: undefined };
      },
    } as never;
    const fds = async () => (await readdir('/proc/self/fd').catch(() => [])).length;
    const before = await fds();
    await downloadObject(ctx({ s3: noLength }), { path: 'a.kenv', size: 6, etag: o.etag }, undefined);
    expect(await readFile(join(dir, 'a.kenv'), 'utf8')).toBe('cipher');
    expect(s3.names()).toEqual(['GetObject']);
    expect(await fds()).toBe(before);
  });

  it('places only valid .kenv messages', async () => {
    const o = s3.put('p/a.kenv', 'not a message');
    const c = ctx({ isKenv: async () => false });
    expect(await code(downloadObject(c, { path: 'a.kenv', size: 13, etag: o.etag }, undefined))).toBe('NOT_KENV');
    expect(await code(downloadObject(ctx({ isKenv: async () => { throw new Error('x'); } }), { path: 'a.kenv', size: 13, etag: o.etag }, undefined))).toBe('NOT_KENV');
    expect(await readdir(dir)).toEqual(['.kenv-sync']);
    await downloadObject(ctx({ isKenv: async () => true }), { path: 'a.kenv', size: 13, etag: o.etag }, undefined);
    expect(await readFile(join(dir, 'a.kenv'), 'utf8')).toBe('not a message');
  });

  it('replaces the local file the plan expected, and lands as a conflict copy when it changed or appeared', async () => {
    const o = s3.put('p/a.kenv', 'remote');
    const local = await localFile('a.kenv', 'local');
    const out = await downloadObject(ctx(), { path: 'a.kenv', size: 6, etag: o.etag }, local);
    expect(out.path).toBe('a.kenv');
    expect(await readFile(join(dir, 'a.kenv'), 'utf8')).toBe('remote');

    const edited = await localFile('b.kenv', 'local');
    await writeFile(join(dir, 'b.kenv'), 'edited!');
    const b = s3.put('p/b.kenv', 'remote');
    const copy = await downloadObject(ctx(), { path: 'b.kenv', size: 6, etag: b.etag }, edited);
    expect(copy.path).toBe('b (conflict 2026-11-23 101500).kenv');
    expect(await readFile(join(dir, 'b.kenv'), 'utf8')).toBe('edited!');
    expect(await readFile(join(dir, copy.path), 'utf8')).toBe('remote');

    const touched = await localFile('t.kenv', 'local');
    await utimes(join(dir, 't.kenv'), new Date(), new Date(touched.mtimeMs + 5000));
    const t = s3.put('p/t.kenv', 'remote');
    expect((await downloadObject(ctx(), { path: 't.kenv', size: 6, etag: t.etag }, touched)).path).toBe('t (conflict 2026-11-23 101500).kenv');
    expect(await readFile(join(dir, 't.kenv'), 'utf8')).toBe('local');

    await localFile('new.kenv', 'appeared');
    const n = s3.put('p/new.kenv', 'remote');
    expect((await downloadObject(ctx(), { path: 'new.kenv', size: 6, etag: n.etag }, undefined)).path).toBe('new (conflict 2026-11-23 101500).kenv');
    expect(await readFile(join(dir, 'new.kenv'), 'utf8')).toBe('appeared');

    await mkdir(join(dir, 'dir.kenv'));
    const d = s3.put('p/dir.kenv', 'remote');
    expect((await downloadObject(ctx(), { path: 'dir.kenv', size: 6, etag: d.etag }, { path: 'dir.kenv', size: 0, mtimeMs: 0, sha256: 'x' })).path).toBe('dir (conflict 2026-11-23 101500).kenv');
  });

  it('an expected file that is gone is simply written; a target name is never a replacement', async () => {
    const o = s3.put('p/a.kenv', 'remote');
    const out = await downloadObject(ctx(), { path: 'a.kenv', size: 6, etag: o.etag }, { path: 'a.kenv', size: 5, mtimeMs: 1, sha256: 'x' });
    expect(out.path).toBe('a.kenv');
    const local = await localFile('x.kenv', 'local');
    const copy = await downloadObject(ctx(), { path: 'a.kenv', size: 6, etag: o.etag }, local, 'x.kenv');
    expect(copy.path).toBe('x (conflict 2026-11-23 101500).kenv');
    expect(await readFile(join(dir, 'x.kenv'), 'utf8')).toBe('local');
  });
});

describe('deleteRemote', () => {
  it('deletes with If-Match on the planned ETag', async () => {
    const o = s3.put('p/a.kenv', 'x');
    const signal = new AbortController().signal;
    await deleteRemote(ctx({ signal }), { path: 'a.kenv', size: 1, etag: o.etag });
    expect(s3.sent).toEqual([{ name: 'DeleteObject', input: { Bucket: 'bucket', Key: 'p/a.kenv', IfMatch: `"${o.etag}"` }, options: { abortSignal: signal } }]);
    expect(s3.objects.size).toBe(0);
  });

  it('a third writer between the plan and the delete: 412 and their object kept; an object already gone is fine', async () => {
    const o = s3.put('p/a.kenv', 'x');
    s3.put('p/a.kenv', 'theirs');
    await expect(deleteRemote(ctx(), { path: 'a.kenv', size: 1, etag: o.etag })).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(s3.objects.get('p/a.kenv')?.body.toString()).toBe('theirs');
    await expect(deleteRemote(ctx(), { path: 'gone.kenv', size: 1, etag: 'e' })).resolves.toBeUndefined();
  });

  it('retries after a 409 while the object is as planned, and stops when it changed', async () => {
    const o = s3.put('p/a.kenv', 'x');
    let conflicts = 1;
    s3.before = (name) => {
      if (name === 'DeleteObject' && conflicts-- > 0) throw s3Error('ConditionalRequestConflict', 409);
    };
    await deleteRemote(ctx(), { path: 'a.kenv', size: 1, etag: o.etag });
    expect(s3.names()).toEqual(['DeleteObject', 'HeadObject', 'DeleteObject']);
    const b = s3.put('p/b.kenv', 'x');
    s3.before = (name) => {
      if (name === 'DeleteObject') {
        s3.put('p/b.kenv', 'theirs');
        throw s3Error('ConditionalRequestConflict', 409);
      }
    };
    expect(await code(deleteRemote(ctx(), { path: 'b.kenv', size: 1, etag: b.etag }))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.objects.get('p/b.kenv')?.body.toString()).toBe('theirs');
  });

  it('where the endpoint ignores If-Match on deletes, looks first: changed is refused, gone is done', async () => {
    s3.ignores.add('delete');
    const c = ctx({ endpoint: endpoint({ deleteIfMatch: false }) });
    const o = s3.put('p/a.kenv', 'x');
    s3.put('p/a.kenv', 'theirs');
    expect(await code(deleteRemote(c, { path: 'a.kenv', size: 1, etag: o.etag }))).toBe('SYNC_REMOTE_CHANGED');
    expect(s3.objects.get('p/a.kenv')?.body.toString()).toBe('theirs');
    s3.sent.length = 0;
    await deleteRemote(c, { path: 'gone.kenv', size: 1, etag: 'e' });
    expect(s3.names()).toEqual(['HeadObject']);
    const cur = s3.objects.get('p/a.kenv')!;
    s3.sent.length = 0;
    await deleteRemote(c, { path: 'a.kenv', size: 1, etag: cur.etag });
    expect(s3.names()).toEqual(['HeadObject', 'DeleteObject']);
    expect(s3.objects.size).toBe(0);
    // An endpoint that enforces it gets no extra look.
    const e = s3.put('p/e.kenv', 'x');
    s3.sent.length = 0;
    await deleteRemote(ctx({ endpoint: endpoint() }), { path: 'e.kenv', size: 1, etag: e.etag });
    expect(s3.names()).toEqual(['DeleteObject']);
  });

  it('another error fails the delete', async () => {
    s3.before = () => {
      throw s3Error('AccessDenied', 403);
    };
    await expect(deleteRemote(ctx(), { path: 'a.kenv', size: 1, etag: 'e' })).rejects.toMatchObject({ name: 'AccessDenied' });
    s3.before = undefined;
    await expect(deleteRemote(ctx({ endpoint: endpoint({ deleteIfMatch: false }) }), { path: 'a.kenv', size: 1, etag: 'e' })).resolves.toBeUndefined();
    s3.before = (name) => {
      if (name === 'HeadObject') throw s3Error('AccessDenied', 403);
    };
    await expect(deleteRemote(ctx({ endpoint: endpoint({ deleteIfMatch: false }) }), { path: 'a.kenv', size: 1, etag: 'e' })).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('trashLocal', () => {
  it('moves the file into .kenv-trash keeping its folders, under a tagged name when one is there already', async () => {
    const local = await localFile('d/a.kenv', 'x');
    await trashLocal(ctx(), local);
    expect(await readFile(join(dir, '.kenv-trash', 'd', 'a.kenv'), 'utf8')).toBe('x');
    const again = await localFile('d/a.kenv', 'y');
    await trashLocal(ctx(), again);
    expect(await readFile(join(dir, '.kenv-trash', 'd', 'a (deleted 2026-11-23 101500).kenv'), 'utf8')).toBe('y');
    expect(await readdir(join(dir, 'd'))).toEqual([]);
  });

  it('leaves a changed file alone, and a file already gone is done', async () => {
    const local = await localFile('a.kenv', 'x');
    await writeFile(join(dir, 'a.kenv'), 'xy');
    expect(await code(trashLocal(ctx(), local))).toBe('SYNC_LOCAL_CHANGED');
    const same = await localFile('b.kenv', 'x');
    await utimes(join(dir, 'b.kenv'), new Date(), new Date(same.mtimeMs + 5000));
    expect(await code(trashLocal(ctx(), same))).toBe('SYNC_LOCAL_CHANGED');
    await mkdir(join(dir, 'c.kenv'));
    expect(await code(trashLocal(ctx(), { path: 'c.kenv', size: 0, mtimeMs: 0, sha256: 'x' }))).toBe('SYNC_LOCAL_CHANGED');
    await expect(trashLocal(ctx(), { path: 'gone.kenv', size: 1, mtimeMs: 1, sha256: 'x' })).resolves.toBeUndefined();
    expect((await readdir(dir)).sort()).toEqual(['a.kenv', 'b.kenv', 'c.kenv']);
  });

  it('a file whose folder has gone is done, the folder not made again; a vault folder gone or a folder that cannot be read is an error', async () => {
    const local = await localFile('d/e/a.kenv', 'x');
    await rm(join(dir, 'd'), { recursive: true });
    await expect(trashLocal(ctx(), local)).resolves.toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    // The vault folder itself gone (a drive unplugged) is not taken for a deletion: the index keeps the entry.
    await expect(trashLocal(ctx({ vaultDir: join(dir, 'unplugged') }), local)).rejects.toMatchObject({ code: 'ENOENT' });
    // Only a missing folder means gone: one that cannot be looked at (here a name too long) is an error.
    await expect(trashLocal(ctx(), { ...local, path: `${'n'.repeat(300)}/a.kenv` })).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('each of size, time and kind tells a changed file on its own', async () => {
    // Another size, the time put back: changed.
    const then = new Date('2026-11-01T10:00:00Z');
    const sized = { ...(await localFile('s.kenv', 'x')), mtimeMs: then.getTime() };
    await writeFile(join(dir, 's.kenv'), 'xyz');
    await utimes(join(dir, 's.kenv'), then, then);
    expect((await stat(join(dir, 's.kenv'))).mtimeMs).toBe(sized.mtimeMs);
    expect(await code(trashLocal(ctx(), sized))).toBe('SYNC_LOCAL_CHANGED');
    // A folder now, with the very size and time the scan saw: changed.
    await mkdir(join(dir, 'f.kenv'));
    const folder = await stat(join(dir, 'f.kenv'));
    expect(await code(trashLocal(ctx(), { path: 'f.kenv', size: folder.size, mtimeMs: folder.mtimeMs, sha256: 'x' }))).toBe('SYNC_LOCAL_CHANGED');
    expect((await readdir(dir)).sort()).toEqual(['f.kenv', 's.kenv']);
  });
});
