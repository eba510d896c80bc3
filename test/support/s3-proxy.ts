/**
 * An HTTP proxy in front of an S3 server that injects faults, and in front of s3rver adds what s3rver lacks
 * (see ./s3-server.ts).
 *
 * Requests are forwarded byte for byte (headers included, so SigV4 signatures still verify upstream). With
 * `enforce` (in front of s3rver):
 * - writes carrying `If-None-Match` / `If-Match` (PutObject, CompleteMultipartUpload, DeleteObject), and reads
 *   carrying `If-Match` (GetObject, HeadObject, as S3 does), are checked first against a HEAD of the object, under
 *   a per-key lock held until the request has answered, so two concurrent conditional writes cannot both pass;
 * - ListParts and AbortMultipartUpload are answered from s3rver's upload folder.
 * Without it (in front of moto) the upstream server decides everything and the proxy only watches and injects.
 * Either way every 409/412 answer is logged in `refusals`, so a test can prove a precondition failure happened.
 * It trusts every caller: it is a test harness, not an authorization layer.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';

export interface ProxyStats {
  puts: number;
  partUploads: number;
  gets: number;
  preconditionFailures: number;
  corruptedGets: number;
  droppedUploads: number;
}

interface Fault {
  match: (key: string) => boolean;
}

/** What a hook or a fault sees of a request. */
export interface ProxyRequest {
  method: string;
  key: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

/** A 409 or 412 answer to a request, from the proxy or from the server behind it. */
export interface Refusal {
  method: string;
  key: string;
  status: number;
  code: string;
}

interface Hook {
  match: (r: ProxyRequest) => boolean;
  action: () => Promise<void>;
}

interface DropFault extends Fault {
  afterBytes: number;
}

/** How the next CompleteMultipartUpload is answered slowly (see `slowNextComplete`). */
export interface SlowComplete {
  /** How long the answer takes. */
  delayMs: number;
  /**
   * Absent: silence for `delayMs`, then the server's own answer (an S3-compatible server assembling a large object).
   * Present: as S3 does, 200 at once, then a space every `keepAliveMs`, then after `delayMs` an S3 error document
   * inside that 200 with `errorCode` (the request is not forwarded: the upload stays as it was).
   */
  keepAliveMs?: number;
  errorCode?: string;
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function s3Error(res: http.ServerResponse, status: number, code: string, message: string, key?: string): void {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
    (key ? `<Key>${xmlEscape(key)}</Key>` : '') +
    `<RequestId>kenv-test-proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function stripQuotes(etag: string): string {
  return etag.replace(/"/g, '').trim();
}

/** The headers SigV4 never signs and a proxy must not pass on blindly. */
const HOP_HEADERS = new Set(['expect', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export class S3Proxy extends EventEmitter<{ 'part-uploaded': [count: number, key: string] }> {
  upstreamPort: number;
  readonly stats: ProxyStats = { puts: 0, partUploads: 0, gets: 0, preconditionFailures: 0, corruptedGets: 0, droppedUploads: 0 };
  private readonly dataDir: string;
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly locks = new Map<string, Promise<void>>();
  /** The server-side encryption asked for by each object write (PutObject, CreateMultipartUpload), in order. */
  readonly sseWrites: { key: string; sse: string | undefined; kmsKeyId: string | undefined }[] = [];
  private sseKmsDenials = new Map<string, string>();
  private corruptFaults: Fault[] = [];
  private dropFaults: DropFault[] = [];
  private conflictFaults: Hook[] = [];
  private beforeHooks: Hook[] = [];
  private afterHooks: Hook[] = [];
  private slowCompletes: (SlowComplete & Fault)[] = [];
  private down = false;
  /** Whether the proxy enforces conditional requests itself (the server behind it does not). */
  enforce: boolean;
  /** Every 409/412 answered, in order. */
  readonly refusals: Refusal[] = [];
  /** Every request, in order of arrival. */
  readonly requests: { method: string; key: string }[] = [];

  constructor(opts: { upstreamPort: number; dataDir: string; enforce: boolean }) {
    super();
    this.upstreamPort = opts.upstreamPort;
    this.dataDir = opts.dataDir;
    this.enforce = opts.enforce;
    this.server = http.createServer((req, res) => {
      if (this.down) {
        req.socket.destroy();
        return;
      }
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) s3Error(res, 500, 'InternalError', String(error));
        else res.destroy();
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Flips one byte in the body of the next GetObject whose key matches (once). */
  corruptNextGet(match: (key: string) => boolean = () => true): void {
    this.corruptFaults.push({ match });
  }

  /** Cuts the connection of the next upload (PutObject or UploadPart) whose key matches after `afterBytes` bytes. */
  dropNextUpload(afterBytes: number, match: (key: string) => boolean = () => true): void {
    this.dropFaults.push({ afterBytes, match });
  }

  /**
   * Answers the next `count` conditional writes (a write with `If-Match` / `If-None-Match`) whose key matches with
   * 409 ConditionalRequestConflict, without forwarding them: what S3 answers when a conflicting operation on the
   * object was in progress.
   */
  conflictNext(count: number, match: (key: string) => boolean = () => true): void {
    for (let i = 0; i < count; i++) this.conflictFaults.push({ match: (r) => match(r.key), action: async () => {} });
  }

  /**
   * Runs `action` once, before the first request that matches is evaluated or forwarded (a third writer acting
   * between Kenv's read and its write).
   */
  beforeNext(match: (r: ProxyRequest) => boolean, action: () => Promise<void>): void {
    this.beforeHooks.push({ match, action });
  }

  /** Runs `action` once, after the server answered the first request that matches and before the client hears it. */
  afterNext(match: (r: ProxyRequest) => boolean, action: () => Promise<void>): void {
    this.afterHooks.push({ match, action });
  }

  /**
   * Answers the next `count` CompleteMultipartUpload requests whose key matches slowly (see SlowComplete): late and
   * silent, or with S3's whitespace keep-alive and then an error inside the 200.
   */
  slowNextComplete(slow: SlowComplete, count = 1, match: (key: string) => boolean = () => true): void {
    for (let i = 0; i < count; i++) this.slowCompletes.push({ ...slow, match });
  }

  /** Cuts every open connection and refuses new ones until `up()`: the server is unreachable, its data kept. */
  goDown(): void {
    this.down = true;
    this.server.closeAllConnections();
  }

  up(): void {
    this.down = false;
  }

  /**
   * Answers object writes that ask for SSE-KMS under `kmsKeyId` as S3 does when the caller may not use that key:
   * 403 AccessDenied, with `message` (by default S3's message naming kms:GenerateDataKey).
   */
  denySseKmsKey(kmsKeyId: string, message?: string): void {
    this.sseKmsDenials.set(
      kmsKeyId,
      message ??
        `User: arn:aws:iam::123456789012:user/S3RVER is not authorized to perform: kms:GenerateDataKey on resource: ${kmsKeyId} because no identity-based policy allows the kms:GenerateDataKey action`,
    );
  }

  /** Forgets faults and hooks that were armed but not triggered. */
  clearFaults(): void {
    this.corruptFaults = [];
    this.dropFaults = [];
    this.conflictFaults = [];
    this.beforeHooks = [];
    this.afterHooks = [];
    this.slowCompletes = [];
  }

  private refuse(res: http.ServerResponse, r: ProxyRequest, status: number, code: string, message: string): void {
    this.refusals.push({ method: r.method, key: r.key, status, code });
    if (status === 412) this.stats.preconditionFailures++;
    if (r.method === 'HEAD') {
      res.writeHead(status);
      res.end();
      return;
    }
    s3Error(res, status, code, message, r.key);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const request: ProxyRequest = { method, key, query: q, headers: req.headers };
    this.requests.push({ method, key });

    const before = this.takeHook(this.beforeHooks, request);
    if (before) await before.action();

    const slow = method === 'POST' && key && q.has('uploadId') ? this.takeFault(this.slowCompletes, key) : undefined;
    if (slow?.keepAliveMs !== undefined) return this.keepAliveThenError(req, res, slow, key);
    if (slow) await new Promise((resolve) => setTimeout(resolve, slow.delayMs));

    const isObjectCreate =
      key !== '' &&
      ((method === 'PUT' && !q.has('uploadId') && !q.has('partNumber') && !q.has('tagging') && !q.has('acl')) || (method === 'POST' && q.has('uploads')));
    if (isObjectCreate) {
      const sse = req.headers['x-amz-server-side-encryption'];
      const kmsKeyId = req.headers['x-amz-server-side-encryption-aws-kms-key-id'];
      this.sseWrites.push({ key, sse: typeof sse === 'string' ? sse : undefined, kmsKeyId: typeof kmsKeyId === 'string' ? kmsKeyId : undefined });
      const denial = sse === 'aws:kms' && typeof kmsKeyId === 'string' ? this.sseKmsDenials.get(kmsKeyId) : undefined;
      if (denial !== undefined) {
        req.resume();
        s3Error(res, 403, 'AccessDenied', denial, key);
        return;
      }
    }

    if (this.enforce && key && q.has('uploadId') && method === 'GET') return this.listParts(res, bucket, key, q);
    if (this.enforce && key && q.has('uploadId') && method === 'DELETE') return this.abortUpload(res, bucket, q.get('uploadId') ?? '');

    const plainObject = [...q.keys()].every((k) => k === 'x-id');
    const isWrite =
      key &&
      ((method === 'PUT' && !q.has('uploadId') && !q.has('tagging') && !q.has('acl')) ||
        (method === 'POST' && q.has('uploadId')) ||
        (method === 'DELETE' && plainObject));
    const isRead = key && (method === 'GET' || method === 'HEAD') && plainObject;
    const ifNoneMatch = req.headers['if-none-match'];
    const ifMatch = req.headers['if-match'];
    const conditional = ifNoneMatch !== undefined || ifMatch !== undefined;
    if (isWrite && conditional && this.takeHook(this.conflictFaults, request)) {
      req.resume();
      this.refuse(res, request, 409, 'ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource. Please try again.');
      return;
    }
    if (this.enforce && ((isWrite && conditional) || (isRead && ifMatch !== undefined))) {
      await this.withLock(`${bucket}/${key}`, async () => {
        const current = await this.headEtag(bucket, key);
        let failure: [number, string, string] | undefined;
        if (isWrite && ifNoneMatch !== undefined && ifNoneMatch.trim() === '*' && current !== undefined) {
          failure = [412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'];
        } else if (ifMatch !== undefined && current === undefined) {
          failure = [404, 'NoSuchKey', 'The specified key does not exist.'];
        } else if (ifMatch !== undefined && current !== undefined && stripQuotes(ifMatch) !== current) {
          failure = [412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'];
        }
        if (failure) {
          req.resume();
          if (failure[0] === 404) s3Error(res, 404, failure[1], failure[2], key);
          else this.refuse(res, request, failure[0], failure[1], failure[2]);
          return;
        }
        await this.forward(req, res, request);
      });
      return;
    }
    await this.forward(req, res, request);
  }

  /** S3's way of answering a long CompleteMultipartUpload that then fails: 200, whitespace, an error document. */
  private async keepAliveThenError(req: http.IncomingMessage, res: http.ServerResponse, slow: SlowComplete, key: string): Promise<void> {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.write('<?xml version="1.0" encoding="UTF-8"?>\n');
    const timer = setInterval(() => res.write(' '), slow.keepAliveMs);
    await new Promise((resolve) => setTimeout(resolve, slow.delayMs));
    clearInterval(timer);
    res.end(
      `<Error><Code>${xmlEscape(slow.errorCode ?? 'InternalError')}</Code><Message>We encountered an internal error. Please try again.</Message>` +
        `<Key>${xmlEscape(key)}</Key><RequestId>kenv-test-proxy</RequestId></Error>`,
    );
  }

  private takeHook(hooks: Hook[], r: ProxyRequest): Hook | undefined {
    const i = hooks.findIndex((h) => h.match(r));
    if (i < 0) return undefined;
    const [hook] = hooks.splice(i, 1);
    return hook;
  }

  private async withLock(name: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => mine);
    this.locks.set(name, chained);
    await previous;
    try {
      await fn();
    } finally {
      release();
      if (this.locks.get(name) === chained) this.locks.delete(name);
    }
  }

  /** The object's ETag without quotes, or undefined when there is no such object. */
  private headEtag(bucket: string, key: string): Promise<string | undefined> {
    const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    return new Promise((resolve, reject) => {
      const r = http.request(
        { host: '127.0.0.1', port: this.upstreamPort, method: 'HEAD', path, agent: this.agent },
        (up) => {
          up.resume();
          if (up.statusCode === 404) resolve(undefined);
          else if (up.statusCode === 200) resolve(stripQuotes(String(up.headers.etag ?? '')));
          else reject(new Error(`HEAD ${path} answered ${up.statusCode}`));
        },
      );
      r.on('error', reject);
      r.end();
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, request: ProxyRequest): Promise<void> {
    const { method, key, query: q } = request;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_HEADERS.has(name) && value !== undefined) headers[name] = value;
    }
    const isUpload = method === 'PUT' && key !== '';
    const isPart = isUpload && q.has('partNumber');
    const isGetObject = method === 'GET' && key !== '' && [...q.keys()].every((k) => k === 'x-id');
    const drop = isUpload ? this.takeFault(this.dropFaults, key) : undefined;
    const corrupt = isGetObject ? this.takeFault(this.corruptFaults, key) : undefined;
    const after = this.takeHook(this.afterHooks, request);
    if (isUpload) this.stats.puts++;
    if (isGetObject) this.stats.gets++;

    return new Promise<void>((resolve) => {
      let settled = false;
      const done = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      const upstream = http.request(
        { host: '127.0.0.1', port: this.upstreamPort, method, path: req.url, headers, agent: this.agent },
        (up) => {
          const status = up.statusCode ?? 502;
          if (status === 409 || status === 412) {
            this.refusals.push({ method, key, status, code: status === 409 ? 'ConditionalRequestConflict' : 'PreconditionFailed' });
            if (status === 412) this.stats.preconditionFailures++;
          }
          if (after) {
            // Hold the answer until the hook has run: the client hears it only afterwards.
            const chunks: Buffer[] = [];
            up.on('data', (c: Buffer) => chunks.push(c));
            up.on('end', () => {
              after.action().then(
                () => {
                  res.writeHead(status, up.headers);
                  res.end(Buffer.concat(chunks));
                },
                () => res.destroy(),
              );
            });
            up.on('error', () => res.destroy());
            res.on('close', done);
            return;
          }
          res.writeHead(status, up.headers);
          if (corrupt && up.statusCode === 200) {
            let flipped = false;
            up.on('data', (chunk: Buffer) => {
              if (!flipped && chunk.length > 0) {
                const copy = Buffer.from(chunk);
                const at = Math.floor(copy.length / 2);
                copy[at] = (copy[at] ?? 0) ^ 0xff;
                flipped = true;
                this.stats.corruptedGets++;
                res.write(copy);
              } else {
                res.write(chunk);
              }
            });
            up.on('end', () => res.end());
          } else {
            up.pipe(res);
          }
          up.on('error', () => res.destroy());
          res.on('close', () => {
            if (isPart && up.statusCode === 200) {
              this.stats.partUploads++;
              this.emit('part-uploaded', this.stats.partUploads, key);
            }
            done();
          });
        },
      );
      upstream.on('error', () => {
        // The server is down or died mid-request: the client sees a broken connection, as on a real network.
        req.socket.destroy();
        done();
      });
      res.on('close', done);
      if (drop) {
        let sent = 0;
        req.on('data', (chunk: Buffer) => {
          if (sent + chunk.length >= drop.afterBytes) {
            upstream.write(chunk.subarray(0, Math.max(0, drop.afterBytes - sent)));
            this.stats.droppedUploads++;
            upstream.destroy();
            req.socket.destroy();
            done();
            return;
          }
          sent += chunk.length;
          upstream.write(chunk);
        });
        req.on('end', () => upstream.end());
      } else {
        req.pipe(upstream);
      }
    });
  }

  private takeFault<F extends Fault>(faults: F[], key: string): F | undefined {
    const i = faults.findIndex((f) => f.match(key));
    if (i < 0) return undefined;
    const [fault] = faults.splice(i, 1);
    return fault;
  }

  private uploadDir(bucket: string, uploadId: string): string | undefined {
    if (!/^[0-9a-f]+$/.test(uploadId)) return undefined;
    return join(this.dataDir, bucket, '._S3rver_uploads', uploadId);
  }

  private async listParts(res: http.ServerResponse, bucket: string, key: string, q: URLSearchParams): Promise<void> {
    const uploadId = q.get('uploadId') ?? '';
    const dir = this.uploadDir(bucket, uploadId);
    const storedKey = dir ? await readFile(join(dir, 'key'), 'utf8').catch(() => undefined) : undefined;
    if (!dir || storedKey !== key) {
      s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.', key);
      return;
    }
    const marker = Number(q.get('part-number-marker') ?? 0);
    const maxParts = Math.min(1000, Number(q.get('max-parts') ?? 1000));
    // A part whose upload finished has its `.md5` file next to it; a killed upload leaves the part without one.
    const names = await readdir(dir);
    const numbers = names
      .filter((n) => /^\d+\.md5$/.test(n))
      .map((n) => Number(n.slice(0, -4)))
      .filter((n) => n > marker)
      .sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const truncated = numbers.length > page.length;
    let parts = '';
    for (const n of page) {
      const bytes = await readFile(join(dir, String(n)));
      const info = await stat(join(dir, String(n)));
      const md5 = createHash('md5').update(bytes).digest('hex');
      parts +=
        `<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified>` +
        `<ETag>"${md5}"</ETag><Size>${bytes.length}</Size></Part>`;
    }
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId>` +
      `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1) ?? marker}</NextPartNumberMarker>` +
      `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`;
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async abortUpload(res: http.ServerResponse, bucket: string, uploadId: string): Promise<void> {
    const dir = this.uploadDir(bucket, uploadId);
    if (!dir || !(await stat(dir).catch(() => undefined))) {
      s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      return;
    }
    await rm(dir, { recursive: true, force: true });
    res.writeHead(204);
    res.end();
  }
}
