/**
 * Sync benchmarks (issue 5 "Speed"): a no-op sync of 10,000 files, and upload throughput of many small files and
 * of one large file against a plain `@aws-sdk/lib-storage` Upload of the same bytes to the same server, in one run.
 *
 * Both sides go through the test harness (s3rver behind our proxy). The proxy HEADs the object before every
 * conditional write, which real S3 does not need: that cost lands on Kenv's side only, so the ratio is a floor.
 *
 * Run: `npm run build && node out/test/bench/sync.js` (prints one JSON line per measurement).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { randomFillSync } from 'node:crypto';
import { Upload } from '@aws-sdk/lib-storage';
import { VaultSync } from '../../electron/core/sync/engine.js';
import { listRemote } from '../../electron/core/sync/remote.js';
import { createS3Client } from '../../electron/core/sync/s3-client.js';
import { kenvMessage } from '../support/kenv-fixtures.js';
import { startS3Server } from '../support/s3-server.js';

const MiB = 1024 * 1024;

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, (performance.now() - start) / 1000];
}

/** Runs every sync benchmark and returns the measurements. */
export async function benchSync(log: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const report = (r: BenchResult) => {
    results.push(r);
    log(r);
  };
  const server = await startS3Server();
  const home = await mkdtemp(join(tmpdir(), 'kenv-bench-home-'));
  const work = await mkdtemp(join(tmpdir(), 'kenv-bench-'));
  Object.assign(process.env, server.env(), { HOME: home, AWS_CONFIG_FILE: join(home, 'config') });
  const bucket = 'bench';
  await server.createBucket(bucket);
  const s3 = await createS3Client();
  try {
    // 1. No-op sync of 10,000 files: one listing pass plus local stats.
    {
      const vault = join(work, 'noop');
      const bytes = await kenvMessage('small');
      for (let d = 0; d < 100; d++) {
        await mkdir(join(vault, `d${d}`), { recursive: true });
        await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(vault, `d${d}`, `f${f}.kenv`), bytes)));
      }
      const sync = new VaultSync({ vaultDir: vault, remote: `s3://${bucket}/noop`, s3, concurrency: 16 });
      await sync.sync();
      const [second, seconds] = await timed(() => sync.sync());
      if (second.unchanged !== 10_000) throw new Error(`no-op sync saw ${second.unchanged} unchanged files`);
      // s3rver lists slowly (it walks its data folder for every page): show what the listing alone costs.
      const [, listing] = await timed(() => listRemote(s3, bucket, 'noop/'));
      report({ name: 'sync no-op, 10,000 files', value: seconds, unit: 's', target: '< 2 s', pass: seconds < 2 });
      report({ name: 'bare ListObjectsV2 of the same 10,000 keys (server cost)', value: listing, unit: 's' });
      report({ name: 'sync no-op overhead over the bare listing', value: seconds - listing, unit: 's' });
    }

    // 2. Many files: 500 files of 256 KiB, Kenv sync vs lib-storage Upload per file, both 4 at a time.
    {
      const vault = join(work, 'many');
      await mkdir(vault, { recursive: true });
      const head = await kenvMessage('h');
      const files: string[] = [];
      for (let i = 0; i < 500; i++) {
        const body = Buffer.concat([head, randomFillSync(Buffer.alloc(256 * 1024))]);
        await writeFile(join(vault, `f${i}.kenv`), body);
        files.push(`f${i}.kenv`);
      }
      const total = files.length * (head.length + 256 * 1024);
      const [, plain] = await timed(async () => {
        const queue = [...files];
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            for (let f = queue.shift(); f; f = queue.shift()) {
              await new Upload({ client: s3, params: { Bucket: bucket, Key: `plain-many/${f}`, Body: await readFile(join(vault, f)) } }).done();
            }
          }),
        );
      });
      const sync = new VaultSync({ vaultDir: vault, remote: `s3://${bucket}/kenv-many`, s3 });
      const [, kenv] = await timed(() => sync.sync());
      const ratio = plain / kenv;
      report({ name: 'upload 500 x 256 KiB, lib-storage', value: total / MiB / plain, unit: 'MiB/s' });
      report({ name: 'upload 500 x 256 KiB, kenv sync', value: total / MiB / kenv, unit: 'MiB/s' });
      report({ name: 'upload many files, kenv / lib-storage', value: ratio, unit: 'x', target: '>= 0.8', pass: ratio >= 0.8 });
    }

    // 3. One large file: 512 MiB, multipart with 8 MiB parts, 4 in flight on both sides.
    {
      const vault = join(work, 'large');
      await mkdir(vault, { recursive: true });
      const path = join(vault, 'large.kenv');
      const head = await kenvMessage('h');
      const chunk = Buffer.alloc(16 * MiB);
      await writeFile(path, head);
      for (let i = 0; i < 32; i++) await writeFile(path, randomFillSync(chunk), { flag: 'a' });
      const size = head.length + 32 * chunk.length;
      const body = await readFile(path);
      const [, plain] = await timed(() =>
        new Upload({ client: s3, params: { Bucket: bucket, Key: 'plain-large/large.kenv', Body: body }, partSize: 8 * MiB, queueSize: 4 }).done(),
      );
      const sync = new VaultSync({ vaultDir: vault, remote: `s3://${bucket}/kenv-large`, s3 });
      // Kenv hashes the file before it uploads (the SHA-256 goes in the metadata): that pass is timed too.
      const [, kenv] = await timed(() => sync.sync());
      const ratio = plain / kenv;
      report({ name: 'upload 512 MiB, lib-storage', value: size / MiB / plain, unit: 'MiB/s' });
      report({ name: 'upload 512 MiB, kenv sync', value: size / MiB / kenv, unit: 'MiB/s' });
      report({ name: 'upload one large file, kenv / lib-storage', value: ratio, unit: 'x', target: '>= 0.8', pass: ratio >= 0.8 });
    }
  } finally {
    s3.destroy();
    await server.close();
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  benchSync((r) => console.log(JSON.stringify(r)))
    .then((results) => {
      if (results.some((r) => r.pass === false)) process.exitCode = 1;
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
