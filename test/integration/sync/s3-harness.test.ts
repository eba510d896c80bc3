// The test S3 server must enforce what Kenv relies on: these tests prove the harness, not assume it. They run on
// both backends (s3rver behind our enforcing proxy, and moto), so they also record where moto differs from S3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startS3Server, type S3TestServer } from '../../support/s3-server.js';

const Bucket = 'harness';
let server: S3TestServer;
let s3: S3Client;

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(Bucket);
  s3 = server.client();
});
afterAll(async () => {
  await server?.close();
});

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

describe('s3 test harness', () => {
  it('two concurrent conditional creates of one key: exactly one succeeds, the other gets 412', async () => {
    const results = await Promise.allSettled(
      ['a', 'b'].map((body) => s3.send(new PutObjectCommand({ Bucket, Key: 'race.kenv', Body: body, IfNoneMatch: '*' }))),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.reason.name).toBe('PreconditionFailed');
    expect(status(failed[0]?.reason)).toBe(412);
    const winner = ok[0]?.status === 'fulfilled' && results[0]?.status === 'fulfilled' ? 'a' : 'b';
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'race.kenv' }));
    expect(await got.Body?.transformToString()).toBe(winner);
  });

  it('If-Match with a stale ETag is refused and the object is untouched', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'm.kenv', Body: 'v1', IfNoneMatch: '*' }));
    const second = await s3.send(new PutObjectCommand({ Bucket, Key: 'm.kenv', Body: 'v2', IfMatch: first.ETag }));
    expect(second.ETag).not.toBe(first.ETag);
    const stale = s3.send(new PutObjectCommand({ Bucket, Key: 'm.kenv', Body: 'v3', IfMatch: first.ETag }));
    await expect(stale).rejects.toMatchObject({ name: 'PreconditionFailed' });
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'm.kenv' }));
    expect(await got.Body?.transformToString()).toBe('v2');
  });

  it('If-Match on a missing key answers NoSuchKey', async () => {
    const put = s3.send(new PutObjectCommand({ Bucket, Key: 'absent.kenv', Body: 'x', IfMatch: '"abc"' }));
    await expect(put).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('a conditional delete with a stale ETag is refused', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'd.kenv', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'd.kenv', Body: 'v2' }));
    await expect(s3.send(new DeleteObjectCommand({ Bucket, Key: 'd.kenv', IfMatch: put.ETag }))).rejects.toMatchObject({
      name: 'PreconditionFailed',
    });
    await s3.send(new HeadObjectCommand({ Bucket, Key: 'd.kenv' }));
  });

  it('multipart: ListParts lists finished parts, CompleteMultipartUpload honours If-None-Match, Abort removes', async () => {
    const part = Buffer.alloc(5 * 1024 * 1024, 7);
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp.kenv', Metadata: { a: 'b' } }));
    const UploadId = created.UploadId;
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp.kenv', UploadId, PartNumber: 1, Body: part }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp.kenv', UploadId, PartNumber: 2, Body: 'tail' }));
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key: 'mp.kenv', UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, part.length, p1.ETag],
      [2, 4, p2.ETag],
    ]);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'mp.kenv', Body: 'someone else' }));
    const complete = s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mp.kenv',
        UploadId,
        IfNoneMatch: '*',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    );
    await expect(complete).rejects.toMatchObject({ name: 'PreconditionFailed' });
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mp.kenv', UploadId }));
    await expect(s3.send(new ListPartsCommand({ Bucket, Key: 'mp.kenv', UploadId }))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
  });

  it('GetObject and HeadObject with a stale If-Match answer 412, as S3 does', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'g.kenv', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'g.kenv', Body: 'v2' }));
    const refusals = server.proxy.refusals.length;
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: 'g.kenv', IfMatch: first.ETag }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: 'g.kenv', IfMatch: first.ETag }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    expect(server.proxy.refusals.slice(refusals).map((r) => [r.method, r.status])).toEqual([
      ['GET', 412],
      ['HEAD', 412],
    ]);
    const current = await s3.send(new GetObjectCommand({ Bucket, Key: 'g.kenv', IfMatch: (await s3.send(new HeadObjectCommand({ Bucket, Key: 'g.kenv' }))).ETag }));
    expect(await current.Body?.transformToString()).toBe('v2');
  });

  it('CompleteMultipartUpload with a stale If-Match: refused by our proxy, accepted by moto (its known gap)', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'cm.kenv', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cm.kenv', Body: 'v2' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'cm.kenv' }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'cm.kenv', UploadId, PartNumber: 1, Body: 'v3' }));
    const complete = s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'cm.kenv', UploadId, IfMatch: first.ETag, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    const got = async () => (await s3.send(new GetObjectCommand({ Bucket, Key: 'cm.kenv' }))).Body?.transformToString();
    if (server.backend === 'moto') {
      await complete;
      expect(await got()).toBe('v3');
    } else {
      await expect(complete).rejects.toMatchObject({ name: 'PreconditionFailed' });
      expect(await got()).toBe('v2');
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'cm.kenv', UploadId }));
    }
  });

  it('answers 409 ConditionalRequestConflict to the next conditional writes when asked, then forwards again', async () => {
    server.proxy.conflictNext(1, (k) => k === 'cc.kenv');
    await expect(s3.send(new PutObjectCommand({ Bucket, Key: 'cc.kenv', Body: 'x', IfNoneMatch: '*' }))).rejects.toMatchObject({
      name: 'ConditionalRequestConflict',
      $metadata: { httpStatusCode: 409 },
    });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cc.kenv', Body: 'x', IfNoneMatch: '*' }));
    expect(server.proxy.refusals.at(-1)).toMatchObject({ key: 'cc.kenv', status: 409 });
  });

  it('runs a hook between a request and its forwarding, and between the answer and the client', async () => {
    const order: string[] = [];
    server.proxy.beforeNext(
      (r) => r.method === 'PUT' && r.key === 'h.kenv',
      async () => {
        order.push('before');
      },
    );
    server.proxy.afterNext(
      (r) => r.method === 'PUT' && r.key === 'h.kenv',
      async () => {
        const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'h.kenv' }));
        order.push(`after:${head.ContentLength}`);
      },
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: 'h.kenv', Body: 'abc' }));
    order.push('answered');
    expect(order).toEqual(['before', 'after:3', 'answered']);
  });

  it('corrupts exactly one GET body when asked', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'c.kenv', Body: 'hello world' }));
    server.proxy.corruptNextGet((k) => k === 'c.kenv');
    // moto sends x-amz-checksum-crc32 and the SDK then fails the body at its end; s3rver sends none.
    const bad = await s3
      .send(new GetObjectCommand({ Bucket, Key: 'c.kenv' }))
      .then((o) => o.Body?.transformToString())
      .catch((e: Error) => e.message);
    expect(bad).not.toBe('hello world');
    const good = await s3.send(new GetObjectCommand({ Bucket, Key: 'c.kenv' }));
    expect(await good.Body?.transformToString()).toBe('hello world');
  });

  it('survives a kill and restart of the server with its data', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k.kenv', Body: 'kept' }));
    await server.kill();
    await server.restart();
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'k.kenv' }));
    expect(await got.Body?.transformToString()).toBe('kept');
  });
});
