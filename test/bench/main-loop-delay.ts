/**
 * How responsive the Electron main process stays while it encrypts: the event-loop delay (p50/p99/max, via
 * perf_hooks.monitorEventLoopDelay) during a 1 GiB encrypt through the same JobQueue and vault the shell wires,
 * against the local KMS server. Target (issue 4): p99 under 50 ms.
 *
 * Run: npm run build && node out/test/bench/main-loop-delay.js [MiB]
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { KMSClient } from '@aws-sdk/client-kms';
import { JobQueue } from '../../electron/core/app/jobs.js';
import { coreVault } from '../../electron/core/app/vault.js';
import { startLocalKms } from '../../electron/core/local-kms/server.js';

const mib = Number(process.argv[2] ?? 1024);
const dir = await mkdtemp(join(tmpdir(), 'kenv-loop-'));
const kms = await startLocalKms({ stateDir: join(dir, 'kms') });
const client = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: { accessKeyId: 'AKIALOOPBENCH0000000', secretAccessKey: 'x' } });
try {
  const input = join(dir, 'input.bin');
  const handle = await open(input, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 0x42);
  for (let i = 0; i < mib; i++) await handle.write(chunk);
  await handle.close();

  let events = 0;
  const jobs = new JobQueue(coreVault(() => () => client), { emit: () => { events++; } });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = process.hrtime.bigint();
  jobs.start([{ path: input, direction: 'encrypt', keyIds: [kms.keys()[0]!.arn], context: {}, outDir: undefined, deletePlaintext: false }]);
  await jobs.whenIdle();
  delay.disable();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const failed = jobs.list().find((j) => j.state !== 'done');
  if (failed) throw new Error(`The encrypt did not finish: ${failed.error?.message ?? failed.state}`);
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  const p99 = delay.percentile(99) / 1e6;
  console.log(`main-loop delay during a ${mib} MiB encrypt (${seconds.toFixed(2)} s, ${events} job events): ` +
    `p50 ${ms(delay.percentile(50))} ms, p99 ${p99.toFixed(1)} ms, max ${ms(delay.max)} ms (sampling resolution 5 ms)`);
  console.log(`${p99 < 50 ? 'PASS' : 'MISS'} p99 < 50 ms`);
} finally {
  client.destroy();
  await kms.close();
  await rm(dir, { recursive: true, force: true });
}
