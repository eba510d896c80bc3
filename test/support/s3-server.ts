/**
 * A real S3-compatible server for tests, on one of two backends (`KENV_TEST_S3`, see vitest.config.ts):
 * - `s3rver`: s3rver 3.7.1 behind an enforcing proxy of ours;
 * - `moto`: moto 5 (./moto.ts), an S3 emulator written by others, behind the same proxy with enforcement off, so
 *   S3's rules come from a peer and not from our own reimplementation of them.
 *
 * moto enforces `If-None-Match: *` and `If-Match` on PutObject, `If-Match` on DeleteObject and GetObject and
 * `If-None-Match` on CompleteMultipartUpload, keeps versions and implements ListParts; it does NOT enforce `If-Match`
 * on CompleteMultipartUpload (the gap Kenv's endpoint probe must find). Its state lives in memory: `kill()` on moto
 * makes the proxy unreachable (connections cut, data kept) instead of killing the process.
 *
 * s3rver 3.7.1:
 *
 * What s3rver 3.7.1 lacks, and how this harness covers it (see S3Proxy in ./s3-proxy.ts):
 * - Conditional writes: it ignores `If-None-Match: *` and `If-Match` on PutObject and CompleteMultipartUpload
 *   (the object is overwritten) and on DeleteObject. The proxy evaluates them itself, atomically per key (a per-key
 *   lock held from its HEAD of the object until the upstream write has answered), and answers 412
 *   PreconditionFailed / 404 NoSuchKey in S3's XML error shape. test/integration/sync/s3-harness.test.ts proves it.
 * - ListParts and AbortMultipartUpload are not implemented (405 / NotImplemented). The proxy answers them from
 *   s3rver's upload folder on disk (only parts whose upload finished, with their MD5 recomputed from the bytes).
 * - Checksums (`x-amz-checksum-*`) are never verified nor returned, and multipart ETags are not S3's `md5-N` shape.
 *   Kenv does not rely on either: it verifies its own SHA-256 kept in object metadata, and treats ETags as opaque.
 *   The proxy can corrupt a GET body once so tests prove that verification.
 * - Versioning: not used by Kenv.
 * Network faults: the proxy can drop a connection in the middle of an upload, and the s3rver process can be
 * killed (SIGKILL) and restarted on the same data folder (on a new port the proxy follows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { startMoto, type MotoServer } from './moto.js';
import { S3Proxy } from './s3-proxy.js';

const require = createRequire(import.meta.url);

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export type S3Backend = 's3rver' | 'moto';

/** The backend this test run uses: `KENV_TEST_S3` (set per vitest project), s3rver by default. */
export function testBackend(): S3Backend {
  return process.env.KENV_TEST_S3 === 'moto' ? 'moto' : 's3rver';
}

export interface S3TestServer {
  readonly backend: S3Backend;
  /** The endpoint clients use: our proxy, in front of the server. */
  readonly endpoint: string;
  readonly proxy: S3Proxy;
  /** s3rver's data folder (empty on moto). */
  readonly dataDir: string;
  /** Environment for the SDK under test: endpoint, credentials, Region. */
  env(): Record<string, string>;
  /** A client that talks to the server directly through the proxy, for test setup and assertions. */
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** SIGKILLs s3rver (in-flight requests die with it); on moto, cuts every connection and refuses new ones. */
  kill(): Promise<void>;
  /** Starts s3rver again on the same data folder (on a new port behind the same proxy endpoint); on moto, lets requests through again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts s3rver on port 0 (the OS picks a free port, and s3rver keeps it) and returns it with the port it got. */
export async function runS3rver(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const bin = join(require.resolve('s3rver/package.json'), '..', 'bin', 's3rver.js');
  const child = spawn(process.execPath, [bin, '-d', dataDir, '-a', '127.0.0.1', '-p', '0', '--silent'], {
    // Without the legacy provider s3rver's paginated ListObjectsV2 answers 500 on Node 17+.
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const listening = /S3rver listening on [^:\s]+:(\d+)/.exec(out);
      if (listening) resolve(Number(listening[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening: ${out}`)));
  });
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => {
    if (process.env.KENV_DEBUG_S3RVER) process.stderr.write(chunk);
  });
  // Never outlive the test process, even when it dies without closing the harness.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.on('exit', (code, sig) => {
    process.off('exit', killChild);
    if (process.env.KENV_DEBUG_S3RVER) process.stderr.write(`s3rver exited ${code} ${sig}\n`);
  });
  return { child, port };
}

/** Starts the backend (default: `testBackend()`) on 127.0.0.1, and our proxy in front of it. */
export async function startS3Server(backend: S3Backend = testBackend()): Promise<S3TestServer> {
  return backend === 'moto' ? startMotoServer() : startS3rverServer();
}

function clientFor(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  // The tests read objects' bytes raw and compare them whole. The SDK's own check of a checksum the server sends is
  // off: moto sends a multipart object's checksum of part checksums without its "-<parts>" suffix, and the SDK
  // would then fail every read of an object Kenv uploaded in parts.
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, responseChecksumValidation: 'WHEN_REQUIRED' });
}

async function startMotoServer(): Promise<S3TestServer> {
  const moto: MotoServer = await startMoto();
  const proxy = new S3Proxy({ upstreamPort: moto.port, dataDir: '', enforce: false });
  await proxy.listen();
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const clients: S3Client[] = [];
  const client = () => {
    const c = clientFor(endpoint, credentials);
    clients.push(c);
    return c;
  };
  return {
    backend: 'moto',
    endpoint,
    proxy,
    dataDir: '',
    env: () => ({
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }),
    client,
    async createBucket(name) {
      await client().send(new CreateBucketCommand({ Bucket: name }));
    },
    async kill() {
      proxy.goDown();
    },
    async restart() {
      proxy.up();
    },
    async close() {
      for (const c of clients) c.destroy();
      await proxy.close();
      await moto.close();
    },
  };
}

async function startS3rverServer(): Promise<S3TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kenv-s3rver-'));
  const first = await runS3rver(dataDir);
  let child: ChildProcess | undefined = first.child;
  const proxy = new S3Proxy({ upstreamPort: first.port, dataDir, enforce: true });
  await proxy.listen();
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const clients: S3Client[] = [];

  function client(): S3Client {
    const c = clientFor(endpoint, S3RVER_CREDENTIALS);
    clients.push(c);
    return c;
  }

  async function kill(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  }

  return {
    backend: 's3rver',
    endpoint,
    proxy,
    dataDir,
    env() {
      return {
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      };
    },
    client,
    async createBucket(name) {
      await client().send(new CreateBucketCommand({ Bucket: name }));
    },
    kill,
    async restart() {
      await kill();
      // A new port (reusing the old one could race with another test): the proxy, whose port clients know, follows.
      const again = await runS3rver(dataDir);
      child = again.child;
      proxy.upstreamPort = again.port;
    },
    async close() {
      for (const c of clients) c.destroy();
      await proxy.close();
      await kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
