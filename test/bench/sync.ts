/**
 * Sync benchmarks (issue 11, goal 5): `kenv sync` against `aws s3 sync` (AWS CLI v1) and `rclone sync`, each a
 * process of its own from spawn to exit, on the same S3 endpoint and the same folder, in one run.
 *
 * - upload of many small files: 1,000 `.kenv` files of 100 KiB into an empty prefix;
 * - upload of one large file: a 500 MiB `.kenv` file into an empty prefix;
 * - no-op: 10,000 `.kenv` files already in the bucket, nothing changed (rclone with `--size-only --fast-list`).
 *
 * Fair comparison: a vault holds `.kenv` files, already encrypted, and sync sends them as they are; all three
 * tools upload the very same folder of real messages (byte for byte), at their default concurrency. Kenv's own
 * work per new file is timed with it: the header check, the SHA-256 kept in the object's metadata, the
 * conditional write (`If-None-Match: *`) and the durable index. Kenv's state folder `.kenv-sync/` is excluded
 * from the peers. The vault is bound to its prefix already (the one-time endpoint probe of a new binding is
 * measured on its own line), as it is when new files appear in a vault in use. Each round runs the contenders in
 * a rotating order and empties the prefixes between uploads (untimed); medians of BENCH_SYNC_RUNS.
 *
 * Endpoint (BENCH_SYNC_ENDPOINT): `moto` (default; moto_server, in memory, enforces conditional writes as S3 does)
 * or `s3rver` (s3rver on disk; it ignores conditional writes, so Kenv checks each write itself with extra HEADs).
 *
 * Run: `npm run bench:sync` (prints one JSON line per measurement, then the table).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { probeEndpoint } from '../../electron/core/sync/endpoint-probe.js';
import { saveIndex } from '../../electron/core/sync/index-store.js';
import type { EndpointTraits } from '../../electron/core/sync/endpoint-probe.js';
import { kenvMessage } from '../support/kenv-fixtures.js';
import { startMoto } from '../support/moto.js';
import { runS3rver, S3RVER_CREDENTIALS } from '../support/s3-server.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const here = fileURLToPath(new URL('.', import.meta.url));
/** bin/kenv.js from out/test/bench/. */
const KENV = resolve(here, '..', '..', '..', 'bin', 'kenv.js');

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v ? Number(v) : fallback;
}

const RUNS = envNumber('BENCH_SYNC_RUNS', 3);
const SMALL_COUNT = envNumber('BENCH_SYNC_SMALL_COUNT', 1000);
const SMALL_SIZE = envNumber('BENCH_SYNC_SMALL_KIB', 100) * KiB;
const LARGE_SIZE = envNumber('BENCH_SYNC_LARGE_MIB', 500) * MiB;
const NOOP_COUNT = envNumber('BENCH_SYNC_NOOP_COUNT', 10_000);
const ONLY = (process.env.BENCH_SYNC_ONLY ?? 'small,large,noop').split(',');
const ENDPOINT_KIND = process.env.BENCH_SYNC_ENDPOINT === 's3rver' ? 's3rver' : 'moto';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

interface Endpoint {
  url: string;
  /** The server's process, whose CPU time each run is charged with. */
  pid: number | undefined;
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

async function startEndpoint(): Promise<Endpoint> {
  if (ENDPOINT_KIND === 'moto') {
    const moto = await startMoto();
    return { url: moto.endpoint, pid: moto.pid, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, close: () => moto.close() };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'kenv-bench-s3rver-'));
  const { child, port } = await runS3rver(dataDir);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    credentials: { ...S3RVER_CREDENTIALS },
    async close() {
      await new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces) start at the 3rd; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

interface RunResult {
  seconds: number;
  /** CPU seconds of the tool itself (user + system, its children included), from GNU time. */
  cpu: number;
  /** CPU seconds the S3 server spent meanwhile. */
  serverCpu: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its exit under GNU time; resolves with its wall and CPU seconds, the server's CPU seconds over the
 * same span, and its output; rejects on a non-zero exit. CPU seconds barely change with the machine's load, so they
 * compare the tools even when the wall times are noisy, and the server's share shows what each tool costs it.
 */
async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, serverPid?: number): Promise<RunResult> {
  const timing = join(tmpdir(), `kenv-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const serverBefore = await cpuSeconds(serverPid);
  const result = await new Promise<Omit<RunResult, 'cpu' | 'serverCpu'>>((done, fail) => {
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timing, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code === 0) done({ seconds, stdout, stderr });
      else fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
    });
  });
  const serverCpu = (await cpuSeconds(serverPid)) - serverBefore;
  const [user = NaN, system = NaN] = (await readFile(timing, 'utf8').catch(() => '')).trim().split('\n').pop()!.split(' ').map(Number);
  await rm(timing, { force: true });
  return { ...result, cpu: user + system, serverCpu };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

type Tool = 'kenv' | 'aws' | 'rclone';
const TOOLS: Tool[] = ['kenv', 'aws', 'rclone'];

/** Runs every sync benchmark and returns the measurements. */
export async function benchSync(log: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const report = (r: BenchResult) => {
    results.push(r);
    log(r);
  };
  const endpoint = await startEndpoint();
  const home = await mkdtemp(join(tmpdir(), 'kenv-bench-home-'));
  const work = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'kenv-bench-sync-'));
  const bucket = 'bench';
  const region = 'us-east-1';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL_S3: endpoint.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    RCLONE_CONFIG: join(home, 'rclone.conf'),
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENDPOINT: endpoint.url,
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
    RCLONE_CONFIG_BENCH_REGION: region,
  };
  await writeFile(join(home, 'rclone.conf'), '');
  const s3 = new S3Client({ endpoint: endpoint.url, region, forcePathStyle: true, credentials: endpoint.credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  const count = async (prefix: string) => {
    let n = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      n += page.KeyCount ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return n;
  };
  const empty = async (prefix: string) => {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (!keys.length) return;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
  };
  // What a vault learns once per binding; written into the index so each timed run is a sync of a bound vault.
  const [traits, probeSeconds] = await (async (): Promise<[EndpointTraits, number]> => {
    const client = new S3Client({ endpoint: endpoint.url, region, forcePathStyle: true, credentials: endpoint.credentials });
    const start = performance.now();
    const t = await probeEndpoint(client, bucket, 'probe/', new Date());
    if (!t) throw new Error('the endpoint probe found nothing');
    const seconds = (performance.now() - start) / 1000;
    client.destroy();
    return [t, seconds];
  })();
  report({ name: `endpoint probe (once per binding), ${ENDPOINT_KIND}`, value: probeSeconds, unit: 's' });
  const bind = (vault: string, prefix: string) =>
    saveIndex(vault, { version: 1, remote: `s3://${bucket}/${prefix}`, entries: {}, uploads: {}, endpoint: traits });

  const syncArgs = (tool: Tool, vault: string, prefix: string): [string, string[]] => {
    switch (tool) {
      case 'kenv':
        return [process.execPath, [KENV, 'sync', vault, `s3://${bucket}/${prefix}`, '--json']];
      case 'aws':
        return ['aws', ['--endpoint-url', endpoint.url, 's3', 'sync', vault, `s3://${bucket}/${prefix}`, '--exclude', '.kenv-sync/*', '--no-progress']];
      case 'rclone':
        return ['rclone', ['sync', vault, `bench:${bucket}/${prefix}`, '--exclude', '/.kenv-sync/**', '--size-only', '--fast-list', '-v']];
    }
  };
  /** Files a run sent, from its own output: every contender must do exactly the work asked. */
  const sent = (tool: Tool, out: { stdout: string; stderr: string }): number => {
    switch (tool) {
      case 'kenv': {
        const summary = out.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; uploaded?: number; failed?: number }).find((e) => e.event === 'summary');
        if (!summary || summary.failed) throw new Error(`kenv sync failed:\n${out.stdout.slice(-2000)}\n${out.stderr.slice(-2000)}`);
        return summary.uploaded ?? 0;
      }
      case 'aws':
        return out.stdout.split('\n').filter((l) => l.startsWith('upload:')).length;
      case 'rclone':
        return out.stderr.split('\n').filter((l) => /: Copied \(/.test(l)).length;
    }
  };

  const table: { scenario: string; tool: Tool; seconds: number[]; cpu: number[]; serverCpu: number[] }[] = [];
  const time = async (scenario: string, tool: Tool, vault: string, prefix: string, expectSent: number) => {
    const [cmd, args] = syncArgs(tool, vault, prefix);
    const out = await run(cmd, args, env, endpoint.pid);
    const n = sent(tool, out);
    if (n !== expectSent) throw new Error(`${tool} sent ${n} files in "${scenario}", expected ${expectSent}`);
    let row = table.find((r) => r.scenario === scenario && r.tool === tool);
    if (!row) table.push((row = { scenario, tool, seconds: [], cpu: [], serverCpu: [] }));
    row.seconds.push(out.seconds);
    row.cpu.push(out.cpu);
    row.serverCpu.push(out.serverCpu);
    return out.seconds;
  };

  /** Upload rounds: every contender from an empty prefix, in a rotating order; the prefix is emptied after. */
  const uploads = async (scenario: string, vault: string, files: number) => {
    for (let round = 0; round < RUNS; round++) {
      for (let i = 0; i < TOOLS.length; i++) {
        const tool = TOOLS[(round + i) % TOOLS.length]!;
        const prefix = `${scenario.split(' ')[0]}-${tool}/`;
        await empty(prefix);
        if (tool === 'kenv') await bind(vault, prefix);
        try {
          const seconds = await time(scenario, tool, vault, prefix, files);
          const landed = await count(prefix);
          if (landed !== files) throw new Error(`${tool} left ${landed} objects in "${scenario}", expected ${files}`);
          console.error(`  ${scenario}: ${tool} ${seconds.toFixed(2)} s`);
        } catch (e) {
          // A failed run is reported, not timed; the other contenders still run.
          const lines = e instanceof Error ? e.message.split('\n').filter((l) => l.trim()) : [String(e)];
          const message = [...lines.filter((l) => /"failure"|exited/.test(l)), lines.at(-1) ?? ''].join(' ').slice(0, 600);
          report({ name: `${scenario}, ${tool}: run ${round + 1} FAILED: ${message}`, value: NaN, unit: 's', pass: false });
        }
        await empty(prefix);
      }
    }
  };

  try {
    if (ONLY.includes('noop')) {
      const vault = join(work, 'noop');
      const bytes = await kenvMessage('small');
      for (let d = 0; d < NOOP_COUNT / 100; d++) {
        await mkdir(join(vault, `d${d}`), { recursive: true });
        await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(vault, `d${d}`, `f${f}.kenv`), bytes)));
      }
      // One prefix for all: Kenv fills it (untimed), the peers find nothing to do there either.
      await bind(vault, 'noop/');
      await run(process.execPath, [KENV, 'sync', vault, `s3://${bucket}/noop/`], env);
      if ((await count('noop/')) !== NOOP_COUNT) throw new Error('the no-op prefix was not filled');
      const scenario = `no-op ${NOOP_COUNT} files`;
      for (let round = 0; round < RUNS; round++) {
        for (let i = 0; i < TOOLS.length; i++) {
          const tool = TOOLS[(round + i) % TOOLS.length]!;
          const seconds = await time(scenario, tool, vault, 'noop/', 0);
          console.error(`  ${scenario}: ${tool} ${seconds.toFixed(2)} s`);
        }
      }
    }
    if (ONLY.includes('small')) {
      const vault = join(work, 'small');
      await mkdir(vault, { recursive: true });
      for (let i = 0; i < SMALL_COUNT; i++) {
        await writeFile(join(vault, `f${String(i).padStart(4, '0')}.kenv`), await kenvMessage(randomBytes(SMALL_SIZE)));
      }
      await uploads(`small upload ${SMALL_COUNT} x ${SMALL_SIZE / KiB} KiB`, vault, SMALL_COUNT);
    }
    if (ONLY.includes('large')) {
      const vault = join(work, 'large');
      await mkdir(vault, { recursive: true });
      // A real message header (sync checks it) and random bytes up to the size: sync never decrypts.
      const fh = await open(join(vault, 'large.kenv'), 'w');
      const head = await kenvMessage('header');
      await fh.write(head);
      const chunk = Buffer.alloc(16 * MiB);
      for (let done = head.length; done < LARGE_SIZE; done += chunk.length) {
        await fh.write(randomBytes(Math.min(chunk.length, LARGE_SIZE - done)));
      }
      await fh.close();
      await uploads(`large upload 1 x ${LARGE_SIZE / MiB} MiB`, vault, 1);
    }
  } finally {
    s3.destroy();
    await endpoint.close();
    await rm(work, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }

  const med = (scenario: string, tool: Tool) => median(table.find((r) => r.scenario.startsWith(scenario) && r.tool === tool)?.seconds ?? [NaN]);
  for (const row of table) {
    if (!row.seconds.length) continue;
    const cpu = `CPU ${median(row.cpu).toFixed(2)} s, server CPU ${median(row.serverCpu).toFixed(2)} s`;
    report({ name: `${row.scenario}, ${row.tool}${row.tool === 'rclone' ? ' --size-only --fast-list' : ''} (median of ${row.seconds.length}: ${row.seconds.map((s) => s.toFixed(2)).join(', ')}; ${cpu})`, value: median(row.seconds), unit: 's' });
  }
  if (ONLY.includes('small')) {
    const r = med('small', 'aws') / med('small', 'kenv');
    report({ name: 'small files: aws s3 sync time / kenv time', value: r, unit: 'x', target: '>= 1', pass: r >= 1 });
  }
  if (ONLY.includes('large')) {
    const r = med('large', 'aws') / med('large', 'kenv');
    report({ name: 'large file: aws s3 sync time / kenv time', value: r, unit: 'x', target: '>= 1', pass: r >= 1 });
  }
  if (ONLY.includes('noop')) {
    const a = med('no-op', 'aws') / med('no-op', 'kenv');
    const r = med('no-op', 'rclone') / med('no-op', 'kenv');
    report({ name: 'no-op: aws s3 sync time / kenv time', value: a, unit: 'x', target: '>= 2', pass: a >= 2 });
    report({ name: 'no-op: rclone --size-only --fast-list time / kenv time', value: r, unit: 'x', target: '> 1', pass: r > 1 });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.error(`sync bench on ${ENDPOINT_KIND}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  benchSync((r) => console.log(JSON.stringify(r)))
    .then((results) => {
      if (results.some((r) => r.pass === false)) process.exitCode = 1;
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
