import { S3Client } from '@aws-sdk/client-s3';
import { type LocalServer, listen } from './http.js';
import { s3Order } from './key-order.js';

/** One ListObjectsV2 request as the server received it. */
export interface ListRequest {
  prefix: string;
  token: string | undefined;
  startAfter: string | undefined;
  maxKeys: number;
}

/** A ListObjectsV2 page to answer with: keys (sizes and ETags come from the stored objects), and how it ends. */
export interface ListAnswer {
  keys: string[];
  truncated: boolean;
  token?: string | undefined;
}

/** One ListParts request as the server received it. */
export interface PartsRequest {
  key: string;
  uploadId: string;
  marker: number;
}

export interface PartsAnswer {
  parts: { number: number; etag: string; size?: number; crc32?: string }[];
  truncated: boolean;
  nextMarker?: string | undefined;
}

/**
 * A bucket over plain HTTP speaking S3's XML, whose answers a test scripts: by default it lists and serves its
 * objects as S3 does (ListObjectsV2 in UTF-8 key order, pages of MaxKeys, opaque tokens), and a test replaces the
 * listing (or answers ListParts) to play a broken or hostile server. Every request is recorded; after `limit` list
 * requests it answers a non-retried 400 `ListedForEver`, so a client that would loop ends and the test can say so.
 */
export interface HostileS3 extends LocalServer {
  objects: Map<string, Buffer>;
  lists: ListRequest[];
  partLists: PartsRequest[];
  /** Every request in order: `LIST`, `PARTS`, or `GET <key>`. */
  log: string[];
  /** How the next ListObjectsV2 requests are answered (default: as S3 does). */
  list: (request: ListRequest, s3: (request: ListRequest) => ListAnswer) => ListAnswer;
  listParts: ((request: PartsRequest) => PartsAnswer) | undefined;
  /** A real SDK client for this server. */
  client(): S3Client;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Starts a hostile S3 on 127.0.0.1 port 0 holding `objects` (key → body) in bucket `bucket`. */
export async function startHostileS3(objects: Record<string, Buffer> = {}, limit = 50): Promise<HostileS3> {
  const stored = new Map(Object.entries(objects));
  const lists: ListRequest[] = [];
  const partLists: PartsRequest[] = [];
  const log: string[] = [];
  const asS3 = (r: ListRequest): ListAnswer => {
    const from = r.token ? r.token.slice('after:'.length) : r.startAfter;
    const matching = [...stored.keys()].filter((k) => k.startsWith(r.prefix) && (from === undefined || s3Order(k, from) > 0)).sort(s3Order);
    const keys = matching.slice(0, r.maxKeys);
    const truncated = matching.length > keys.length;
    return { keys, truncated, ...(truncated ? { token: `after:${keys.at(-1)!}` } : {}) };
  };
  const error = (res: import('node:http').ServerResponse, status: number, code: string) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
  };
  const server = await listen((req, _body, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    const [, , ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (req.method === 'GET' && q.get('list-type') === '2') {
      const request: ListRequest = {
        prefix: q.get('prefix') ?? '',
        token: q.get('continuation-token') ?? undefined,
        startAfter: q.get('start-after') ?? undefined,
        maxKeys: Number(q.get('max-keys') ?? 1000),
      };
      lists.push(request);
      log.push('LIST');
      if (lists.length > limit) return error(res, 400, 'ListedForEver');
      const answer = bucket.list(request, asS3);
      const contents = answer.keys
        .map((k) => `<Contents><Key>${xml(k)}</Key><Size>${stored.get(k)?.length ?? 0}</Size><ETag>&quot;${k.length}&quot;</ETag></Contents>`)
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix>${xml(request.prefix)}</Prefix>` +
          `<KeyCount>${answer.keys.length}</KeyCount><IsTruncated>${answer.truncated}</IsTruncated>` +
          `${answer.token ? `<NextContinuationToken>${xml(answer.token)}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`,
      );
      return;
    }
    if (req.method === 'GET' && q.has('uploadId')) {
      const request: PartsRequest = { key, uploadId: q.get('uploadId') ?? '', marker: Number(q.get('part-number-marker') ?? 0) };
      partLists.push(request);
      log.push('PARTS');
      if (partLists.length > limit) return error(res, 400, 'ListedForEver');
      if (!bucket.listParts) return error(res, 404, 'NoSuchUpload');
      const answer = bucket.listParts(request);
      const parts = answer.parts
        .map(
          (p) =>
            `<Part><PartNumber>${p.number}</PartNumber><ETag>${xml(p.etag)}</ETag>${p.size === undefined ? '' : `<Size>${p.size}</Size>`}` +
            `${p.crc32 ? `<ChecksumCRC32>${p.crc32}</ChecksumCRC32>` : ''}</Part>`,
        )
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>b</Bucket><Key>${xml(key)}</Key><UploadId>${request.uploadId}</UploadId>` +
          `<PartNumberMarker>${request.marker}</PartNumberMarker>${answer.nextMarker === undefined ? '' : `<NextPartNumberMarker>${answer.nextMarker}</NextPartNumberMarker>`}` +
          `<IsTruncated>${answer.truncated}</IsTruncated>${parts}</ListPartsResult>`,
      );
      return;
    }
    if (req.method === 'GET') {
      log.push(`GET ${key}`);
      const body = stored.get(key);
      if (!body) return error(res, 404, 'NoSuchKey');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, etag: `"${key.length}"` });
      res.end(body);
      return;
    }
    error(res, 501, 'NotImplemented');
  });
  const bucket: HostileS3 = {
    ...server,
    objects: stored,
    lists,
    partLists,
    log,
    list: (request, s3) => s3(request),
    listParts: undefined,
    client: () =>
      new S3Client({
        endpoint: server.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'hostile', secretAccessKey: 'hostile' },
        maxAttempts: 1,
      }),
  };
  return bucket;
}
