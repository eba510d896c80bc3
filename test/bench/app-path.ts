/**
 * The app's path against the CLI (issue 11, goal 4): a large encrypt and decrypt started through the handler registry
 * (`jobs:start`, as the renderer asks for it) and run by the JobQueue on the core vault the shell wires, against
 * `kenv encrypt|decrypt` of the same file, both with the same KMS key on a local KMS server. The app's time runs
 * from the request to the job's end; the CLI's from spawn to exit (start-up included, as a user times it). While
 * the app works, the main loop's delay is sampled (perf_hooks.monitorEventLoopDelay): target p99 < 50 ms.
 *
 * Run: npm run build && node out/test/bench/app-path.js [size, default 1GiB] [runs, default 3] [dir]
 * Prints a report; `--json` prints one JSON line instead (what run.ts reads).
 */
import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { KMSClient } from '@aws-sdk/client-kms';
import { coreVault } from '../../electron/core/app/vault.js';
import { startLocalKms } from '../../electron/core/local-kms/server.js';
import { makeApp } from '../support/app-services.js';
import { formatSize, parseSize } from './jobs.js';
import { median } from './measure.js';

const BIN = new URL('../../../bin/kenv.js', import.meta.url).pathname;
const args = process.argv.slice(2).filter((a) => a !== '--json');
const json = process.argv.includes('--json');
const size = parseSize(args[0] ?? '1GiB');
const runs = Number(args[1] ?? '3');
const dir = await mkdtemp(join(args[2] ?? tmpdir(), 'perf-app-'));
const kms = await startLocalKms({ stateDir: join(dir, 'kms') });
const credentials = { accessKeyId: 'AKIAAPPBENCH00000000', secretAccessKey: 'x' };
const client = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials });
const keyArn = kms.keys()[0]!.arn;

export interface AppPathResult {
  size: number;
  runs: number;
  /** MiB/s, median over the runs. */
  app: { encrypt: number; decrypt: number };
  cli: { encrypt: number; decrypt: number };
  /** Main-loop delay during the app's jobs, ms: the worst p99 and max over the runs. */
  loop: { encrypt: { p99: number; max: number }; decrypt: { p99: number; max: number } };
}

try {
  const input = join(dir, 'input.bin');
  await writeRandomFile(input, size);
  const app = await makeApp({ vault: coreVault(() => () => client) });
  await app.grants.grant(input, 'drop');
  const samples = { app: { encrypt: [] as number[], decrypt: [] as number[] }, cli: { encrypt: [] as number[], decrypt: [] as number[] } };
  const loop = { encrypt: { p99: 0, max: 0 }, decrypt: { p99: 0, max: 0 } };
  for (let run = 0; run < runs; run++) {
    // Alternate which goes first, so drift on a shared machine does not always hit the same one.
    const order = run % 2 === 0 ? (['app', 'cli'] as const) : (['cli', 'app'] as const);
    for (const who of order) {
      const out = join(dir, `${who}-${run}`);
      const opened = join(out, 'opened');
      await mkdir(opened, { recursive: true });
      const sealed = join(out, 'input.bin.kenv');
      if (who === 'app') {
        await app.grants.grant(out, 'dialog');
        const enc = await appJob(app, input, 'encrypt', out);
        const dec = await appJob(app, sealed, 'decrypt', opened);
        samples.app.encrypt.push(enc.seconds);
        samples.app.decrypt.push(dec.seconds);
        for (const [op, r] of [['encrypt', enc], ['decrypt', dec]] as const) {
          loop[op].p99 = Math.max(loop[op].p99, r.p99);
          loop[op].max = Math.max(loop[op].max, r.max);
        }
      } else {
        samples.cli.encrypt.push(await cli(['encrypt', input, '--key', keyArn, '--out', out]));
        samples.cli.decrypt.push(await cli(['decrypt', sealed, '--out', opened]));
      }
      if (!json) process.stderr.write(`run ${run + 1}/${runs} ${who}: encrypt ${mibps(samples[who].encrypt.at(-1)!).toFixed(0)} MiB/s, decrypt ${mibps(samples[who].decrypt.at(-1)!).toFixed(0)} MiB/s\n`);
      await rm(out, { recursive: true, force: true });
    }
  }
  const result: AppPathResult = {
    size,
    runs,
    app: { encrypt: median(samples.app.encrypt.map(mibps)), decrypt: median(samples.app.decrypt.map(mibps)) },
    cli: { encrypt: median(samples.cli.encrypt.map(mibps)), decrypt: median(samples.cli.decrypt.map(mibps)) },
    loop,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const op of ['encrypt', 'decrypt'] as const) {
      const ratio = result.app[op] / result.cli[op];
      console.log(`${op} ${formatSize(size)}: app ${result.app[op].toFixed(0)} MiB/s, CLI ${result.cli[op].toFixed(0)} MiB/s = ${(ratio * 100).toFixed(0)} % (${ratio >= 0.9 ? 'PASS' : 'MISS'} ≥ 90 %); main-loop delay p99 ${loop[op].p99.toFixed(1)} ms, max ${loop[op].max.toFixed(1)} ms (${loop[op].p99 < 50 ? 'PASS' : 'MISS'} p99 < 50 ms)`);
    }
  }
} finally {
  client.destroy();
  await kms.close();
  await rm(dir, { recursive: true, force: true });
}

function mibps(seconds: number): number {
  return size / 1024 / 1024 / seconds;
}

/** One job through `jobs:start`, as the renderer starts it; resolves when the queue is idle again. */
async function appJob(app: Awaited<ReturnType<typeof makeApp>>, path: string, direction: 'encrypt' | 'decrypt', outDir: string): Promise<{ seconds: number; p99: number; max: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = process.hrtime.bigint();
  const answer = await app.registry.invoke('jobs:start', { files: [{ path, direction }], keyIds: direction === 'encrypt' ? [keyArn] : [], outDir });
  if (!answer.ok) throw new Error(`jobs:start refused: ${answer.error.message}`);
  await app.services.jobs.whenIdle();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  delay.disable();
  const failed = app.services.jobs.list().find((j) => j.state !== 'done');
  if (failed) throw new Error(`The ${direction} job did not finish: ${failed.error?.message ?? failed.state}`);
  await app.registry.invoke('jobs:clearFinished', {});
  return { seconds, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
}

/** `kenv …` against the local KMS server; seconds from spawn to exit. */
function cli(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, ...argv], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_KMS: kms.url,
        AWS_ENDPOINT_URL_STS: kms.url,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`kenv ${argv[0]} exited with ${code}: ${stderr}`));
      resolve(Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  const handle = await open(path, 'w');
  try {
    for (let at = 0; at < bytes; at += zeros.length) await handle.write(cipher.update(zeros.subarray(0, Math.min(zeros.length, bytes - at))));
    await handle.sync();
  } finally {
    await handle.close();
  }
}
