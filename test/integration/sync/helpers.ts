// Shared set-up for the sync integration tests: a real S3-compatible server and throwaway vault folders.
import { mkdtemp, readFile, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { VaultSync, type VaultSyncOptions } from '../../../electron/core/sync/engine.js';
import { createS3Client } from '../../../electron/core/sync/s3-client.js';
import { writeKenv } from '../../support/kenv-fixtures.js';
import { startS3Server, type S3TestServer } from '../../support/s3-server.js';

export interface SyncWorld {
  server: S3TestServer;
  s3: S3Client;
  bucket: string;
  /** A fresh, empty prefix for one test. */
  newRemote(): string;
  newVault(): Promise<string>;
  /** A VaultSync built the way the CLI builds it: the client comes from the environment. */
  syncer(vaultDir: string, remote: string, opts?: Partial<VaultSyncOptions>): Promise<VaultSync>;
  close(): Promise<void>;
}

export async function startSyncWorld(): Promise<SyncWorld> {
  const server = await startS3Server();
  const home = await mkdtemp(join(tmpdir(), 'kenv-home-'));
  Object.assign(process.env, server.env(), { HOME: home, AWS_CONFIG_FILE: join(home, 'config') });
  const bucket = 'vaults';
  await server.createBucket(bucket);
  const s3 = server.client();
  const dirs: string[] = [home];
  const clients: S3Client[] = [];
  let n = 0;
  return {
    server,
    s3,
    bucket,
    newRemote: () => `s3://${bucket}/team-${++n}/vault`,
    async newVault() {
      const dir = await mkdtemp(join(tmpdir(), 'kenv-vault-'));
      dirs.push(dir);
      return dir;
    },
    async syncer(vaultDir, remote, opts = {}) {
      const client = await createS3Client();
      clients.push(client);
      return new VaultSync({ vaultDir, remote, s3: client, ...opts });
    },
    async close() {
      for (const c of clients) c.destroy();
      await server.close();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/**
 * The sync world of one test file: started in beforeAll, closed in afterAll. Read it inside a test or hook (before
 * beforeAll there is none, and reading it says so).
 */
export function useSyncWorld(): SyncWorld {
  let world: SyncWorld | undefined;
  beforeAll(async () => {
    world = await startSyncWorld();
  });
  afterAll(async () => {
    await world?.close();
  });
  const started = (): SyncWorld => {
    if (!world) throw new Error('the sync world is read before beforeAll started it');
    return world;
  };
  return {
    get server() { return started().server; },
    get s3() { return started().s3; },
    get bucket() { return started().bucket; },
    newRemote: () => started().newRemote(),
    newVault: () => started().newVault(),
    syncer: (vaultDir, remote, opts) => started().syncer(vaultDir, remote, opts),
    close: () => started().close(),
  };
}

/**
 * Sets the times of `paths` in `vault` an hour back: files last changed long before a sync, whose size and time the
 * index vouches for. A file changed just before a scan is recorded smudged and read again by the next sync (see
 * racy.test.ts), which then rewrites the index once.
 */
export async function settle(vault: string, paths: string[]): Promise<void> {
  const past = (Date.now() - 3_600_000) / 1000;
  await Promise.all(paths.map((p) => utimes(join(vault, p), past, past)));
}

/** A vault of `n` files `f0.kenv`… (settled: see `settle`) synced to a fresh prefix (all uploaded), with its syncer. */
export async function syncedVault(world: SyncWorld, n: number): Promise<{ remote: string; vault: string; sync: VaultSync }> {
  const remote = world.newRemote();
  const vault = await world.newVault();
  for (let i = 0; i < n; i++) await writeKenv(vault, `f${i}.kenv`, `file ${i}`);
  await settle(vault, Array.from({ length: n }, (_, i) => `f${i}.kenv`));
  const sync = await world.syncer(vault, remote);
  expect((await sync.sync()).uploaded).toHaveLength(n);
  return { remote, vault, sync };
}

/**
 * The stderr lines `kenv sync` starts with on this backend: moto ignores If-Match on CompleteMultipartUpload, which
 * the endpoint probe finds and the CLI says once.
 */
export function endpointWarningLines(world: SyncWorld): unknown[] {
  return world.server.backend === 'moto' ? [expect.stringMatching(/^kenv sync: warning: This S3 endpoint ignores If-Match on multipart uploads,/)] : [];
}

/** Keys under `s3://bucket/prefix`, relative to the prefix, sorted. */
export async function remoteKeys(s3: S3Client, remote: string): Promise<string[]> {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(p.length));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function remoteBytes(s3: S3Client, remote: string, path: string): Promise<Buffer> {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix.replace(/\/?$/, '/')}${path}` }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** The object key of `path` in the vault at `remote`. */
export function remoteKey(remote: string, path: string): { Bucket: string; Key: string } {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  return { Bucket: bucket, Key: `${prefix.replace(/\/?$/, '/')}${path}` };
}

/** Writes `bytes` at `path` as another Kenv would (SHA-256 in metadata), unconditionally: a third writer. */
export async function putRemote(s3: S3Client, remote: string, path: string, bytes: Buffer): Promise<string> {
  const out = await s3.send(
    new PutObjectCommand({ ...remoteKey(remote, path), Body: bytes, Metadata: { 'kenv-sha256': createHash('sha256').update(bytes).digest('hex') } }),
  );
  return (out.ETag ?? '').replace(/"/g, '');
}

export async function remoteMetadata(s3: S3Client, remote: string, path: string): Promise<Record<string, string>> {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix.replace(/\/?$/, '/')}${path}` }));
  return out.Metadata ?? {};
}

/** Files under `dir` (relative, '/'-separated, sorted), optionally including Kenv's own folders. */
export async function localFiles(dir: string, withState = false): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).replace(/\\/g, '/'))
    .filter((p) => withState || !(p.startsWith('.kenv-sync/') || p.startsWith('.kenv-trash/')))
    .sort();
}

export function readLocal(dir: string, path: string): Promise<Buffer> {
  return readFile(join(dir, path));
}
