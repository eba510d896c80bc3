/**
 * `npm run bench`: Kenv against the official JS ESDK, age and openssl, file to file.
 *
 * Environment:
 *   BENCH_SIZE=1GiB       plaintext size for the throughput table (e.g. 64MiB for a quick run)
 *   BENCH_RUNS=3          runs per contender and direction; the table shows medians
 *   BENCH_RSS_CHECK=1     0 skips the large-file peak RSS check of Kenv
 *   BENCH_RSS_SIZE=4GiB   file size for that check
 *   BENCH_DIR=<tmpdir>    where the temporary files go (the same disk as the output you care about)
 *   BENCH_ONLY=kenv,age   run only contenders whose id contains one of these words
 *   BENCH_COLD=1          0 skips the start-up timings (node -e 0, kenv --help, inspect, a 1-byte encrypt, age)
 *   BENCH_APP=1           0 skips the app's path (jobs:start through the JobQueue) against the CLI
 *   BENCH_APP_SIZE=1GiB   file size for the app's path
 *
 * Each measurement runs in a child process of its own, so its peak RSS is its own. A MISS never fails the run
 * (shared machines are noisy); a contender that crashes or returns the wrong bytes does.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FRAME_LENGTH } from '../../electron/core/crypto/frame-length.js';
import type { AppPathResult } from './app-path.js';
import {
  type Contender,
  KIB,
  MIB,
  type Op,
  type Setup,
  KENV_BIN,
  ageContender,
  copyContender,
  nodeCopyContenders,
  esdkContenders,
  esdkSignedContenders,
  kenvCliContender,
  formatSize,
  kenvContenders,
  kenvSignedContender,
  kenvStreamContender,
  opensslCtrContender,
  parseSize,
} from './jobs.js';
import { ContenderCrash, type Sample, measure, median, runProgram, sha256File } from './measure.js';

const KENV_FRAMES = [64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB];
/** The ESDK's default frame length is 4 KiB; the rest of the sweep looks for its best. */
const ESDK_FRAMES = [4 * KIB, 64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB];
/** The ESDK's signed suite at the frame lengths where its unsigned one was fastest. */
const ESDK_SIGNED_FRAMES = [1 * MIB, 4 * MIB];
const RSS_LIMIT_MIB = 200;

interface Config {
  size: number;
  runs: number;
  rssCheck: boolean;
  rssSize: number;
  dir: string;
  only: string[];
  cold: boolean;
  app: boolean;
  appSize: number;
}

interface Row {
  contender: Contender;
  samples: Record<Op, Sample[]>;
  crashed?: string;
}

function config(): Config {
  const env = process.env;
  const runs = Number(env.BENCH_RUNS ?? '3');
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_RUNS must be a whole number ≥ 1; got ${env.BENCH_RUNS}.`);
  return {
    size: parseSize(env.BENCH_SIZE ?? '1GiB'),
    runs,
    rssCheck: !['0', 'off', 'false', 'no'].includes((env.BENCH_RSS_CHECK ?? '1').toLowerCase()),
    rssSize: parseSize(env.BENCH_RSS_SIZE ?? '4GiB'),
    dir: env.BENCH_DIR ?? tmpdir(),
    only: (env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    cold: !['0', 'off', 'false', 'no'].includes((env.BENCH_COLD ?? '1').toLowerCase()),
    app: !['0', 'off', 'false', 'no'].includes((env.BENCH_APP ?? '1').toLowerCase()),
    appSize: parseSize(env.BENCH_APP_SIZE ?? '1GiB'),
  };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<number> {
  const cfg = config();
  for (const tool of ['age', 'age-keygen', 'openssl', '/usr/bin/time']) {
    const found = await runProgram(['sh', '-c', `command -v ${tool}`]);
    if (found.code !== 0) throw new Error(`${tool} is not installed; the bench needs it (apt-get install -y age time openssl).`);
  }
  // Not "kenv-…": test runs sharing the machine sweep their own kenv-* temp folders away.
  const dir = await mkdtemp(join(cfg.dir, 'perf-bench-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    return await bench(cfg, dir);
  } finally {
    await cleanup();
  }
}

async function bench(cfg: Config, dir: string): Promise<number> {
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(`Writing a ${formatSize(cfg.size)} plaintext in ${dir} …`);
  const setup = await makeSetup(dir, cfg.size);
  const plaintextHash = await sha256File(setup.plaintext);

  let contenders: Contender[] = [
    ...kenvContenders(KENV_FRAMES),
    kenvCliContender(),
    kenvSignedContender(DEFAULT_FRAME_LENGTH),
    kenvStreamContender(DEFAULT_FRAME_LENGTH),
    ...esdkContenders(ESDK_FRAMES),
    ...esdkSignedContenders(ESDK_SIGNED_FRAMES),
    ageContender(),
    opensslCtrContender(),
    copyContender(),
    ...nodeCopyContenders(),
  ];
  const kenvDefaultId = kenvContenders([DEFAULT_FRAME_LENGTH])[0]!.id;
  if (cfg.only.length) contenders = contenders.filter((c) => c.id === kenvDefaultId || cfg.only.some((w) => c.id.includes(w)));
  const rows: Row[] = contenders.map((contender) => ({ contender, samples: { encrypt: [], decrypt: [] } }));

  const sealed = join(dir, 'sealed');
  const opened = join(dir, 'opened');
  for (let run = 0; run < cfg.runs; run++) {
    // Rotate the order each run so that drift on a shared machine does not always hit the same contender.
    const order = rows.map((_, i) => rows[(i + run) % rows.length]!);
    for (const row of order) {
      if (row.crashed) continue;
      const commands = row.contender.commands(setup, sealed, opened);
      try {
        for (const op of ['encrypt', 'decrypt'] as const) {
          const output = op === 'encrypt' ? sealed : opened;
          const sample = await measure(commands[op], output, dir);
          row.samples[op].push(sample);
          log(`run ${run + 1}/${cfg.runs}  ${row.contender.id.padEnd(22)} ${op.padEnd(7)} ${mibps(cfg.size, sample.ms).toFixed(0).padStart(6)} MiB/s  peak RSS ${(sample.rssKiB / 1024).toFixed(0)} MiB`);
        }
        if (run === 0 && (await sha256File(opened)) !== plaintextHash) {
          throw new ContenderCrash(`${row.contender.id}: the decrypted file differs from the plaintext.`);
        }
      } catch (e) {
        if (!(e instanceof ContenderCrash)) throw e;
        row.crashed = e.message;
        log(`CRASH ${row.contender.id}: ${e.message}`);
      } finally {
        await rm(sealed, { force: true });
        await rm(opened, { force: true });
      }
    }
  }

  const cold = cfg.cold ? await coldStart(setup, cfg.runs) : undefined;
  const app = cfg.app ? await appPath(cfg, dir) : undefined;

  log('openssl speed -evp aes-256-gcm …');
  const speedOne = await opensslSpeed(false);
  const speedAll = await opensslSpeed(true);

  let rssCheck: RssCheck | undefined;
  if (cfg.rssCheck) {
    await rm(setup.plaintext, { force: true });
    rssCheck = await runRssCheck(cfg, dir, setup);
  }

  const report = new Report(cfg, rows, kenvDefaultId, speedOne, speedAll, rssCheck, cold, app);
  process.stdout.write(report.render(startedAt, loadBefore, loadavg()));
  const crashed = rows.filter((r) => r.crashed);
  if (rssCheck?.crashed) crashed.push({ contender: kenvContenders([DEFAULT_FRAME_LENGTH])[0]!, samples: { encrypt: [], decrypt: [] }, crashed: rssCheck.crashed });
  if (crashed.length) {
    process.stdout.write(`\n${crashed.length} contender(s) crashed:\n${crashed.map((r) => `  ${r.contender.id}: ${r.crashed}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

async function makeSetup(dir: string, size: number): Promise<Setup> {
  const plaintext = join(dir, 'plaintext.bin');
  await writeRandomFile(plaintext, size);
  const rawKeyFile = join(dir, 'raw-aes.key');
  const keyHex = randomBytes(32).toString('hex');
  await writeFile(rawKeyFile, Buffer.from(keyHex, 'hex'), { mode: 0o600 });
  await mkdir(join(dir, 'cli'));
  const ageIdentityFile = join(dir, 'age-identity.txt');
  const keygen = await runProgram(['age-keygen', '-o', ageIdentityFile]);
  if (keygen.code !== 0) throw new Error(`age-keygen failed: ${keygen.stderr}`);
  const recipient = /age1[0-9a-z]+/.exec(await readFile(ageIdentityFile, 'utf8'))?.[0];
  if (!recipient) throw new Error('age-keygen wrote no public key.');
  return {
    dir,
    plaintext,
    keyHex,
    rawKeyFile,
    ctrKeyHex: randomBytes(32).toString('hex'),
    ctrIvHex: randomBytes(16).toString('hex'),
    ageIdentityFile,
    ageRecipient: recipient,
  };
}

/** Incompressible bytes, fast: AES-CTR keystream. */
async function writeRandomFile(path: string, size: number): Promise<void> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(8 * MIB);
  const handle = await open(path, 'w');
  try {
    for (let at = 0; at < size; at += zeros.length) {
      const n = Math.min(zeros.length, size - at);
      await handle.write(cipher.update(zeros.subarray(0, n)));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** AES-256-GCM in memory on 1 MiB blocks, bytes per second: on one core, and on every core (`-multi`). */
async function opensslSpeed(allCores: boolean): Promise<number> {
  const argv = ['openssl', 'speed', '-mr', ...(allCores ? ['-multi', String(availableParallelism())] : []), '-evp', 'aes-256-gcm', '-seconds', '3', '-bytes', String(MIB)];
  const result = await runProgram(argv);
  const matches = [...result.stdout.matchAll(/^\+F:\d+:[^:]+:([\d.]+)/gm)];
  const last = matches.at(-1);
  if (result.code !== 0 || !last) throw new Error(`${argv.join(' ')} failed: ${result.stderr}`);
  return Number(last[1]);
}

interface RssCheck {
  size: number;
  /** Kenv at its default frame length, unsigned and signed (0x0578). */
  samples: Partial<Record<Op, Sample>>;
  signed: Partial<Record<Op, Sample>>;
  crashed?: string;
}

async function runRssCheck(cfg: Config, dir: string, setup: Setup): Promise<RssCheck> {
  log(`Peak RSS check: writing a ${formatSize(cfg.rssSize)} plaintext …`);
  const plaintext = join(dir, 'large.bin');
  await writeRandomFile(plaintext, cfg.rssSize);
  const hash = await sha256File(plaintext);
  const sealed = join(dir, 'large.sealed');
  const opened = join(dir, 'large.opened');
  const check: RssCheck = { size: cfg.rssSize, samples: {}, signed: {} };
  try {
    for (const [name, contender, into] of [
      ['kenv', kenvContenders([DEFAULT_FRAME_LENGTH])[0]!, check.samples],
      ['kenv signed', kenvSignedContender(DEFAULT_FRAME_LENGTH), check.signed],
    ] as const) {
      const commands = contender.commands({ ...setup, plaintext }, sealed, opened);
      for (const op of ['encrypt', 'decrypt'] as const) {
        const sample = await measure(commands[op], op === 'encrypt' ? sealed : opened, dir);
        into[op] = sample;
        log(`${formatSize(cfg.rssSize)} ${name} ${op}: ${mibps(cfg.rssSize, sample.ms).toFixed(0)} MiB/s, peak RSS ${(sample.rssKiB / 1024).toFixed(0)} MiB`);
      }
      if ((await sha256File(opened)) !== hash) throw new ContenderCrash(`${name}: the decrypted ${formatSize(cfg.rssSize)} file differs from the plaintext.`);
      await Promise.all([sealed, opened].map((p) => rm(p, { force: true })));
    }
  } catch (e) {
    if (!(e instanceof ContenderCrash)) throw e;
    check.crashed = e.message;
  } finally {
    await Promise.all([plaintext, sealed, opened].map((p) => rm(p, { force: true })));
  }
  return check;
}

/** Start-up as a user meets it: medians of wall time from spawn to exit, the programs alternated. */
interface ColdStart {
  rows: { name: string; ms: number }[];
  baseline: number;
}

async function coldStart(setup: Setup, runs: number): Promise<ColdStart> {
  const one = join(setup.dir, 'one-byte.txt');
  await writeFile(one, 'x');
  const raw = ['--raw-aes-key', setup.rawKeyFile, '--raw-aes-namespace', 'kenv-bench', '--raw-aes-name', 'raw-aes-256'];
  const kenv = [process.execPath, KENV_BIN];
  const sealed = `${one}.kenv`;
  const prepare = await runProgram([...kenv, 'encrypt', one, ...raw, '--force']);
  if (prepare.code !== 0) throw new Error(`kenv encrypt of a 1-byte file failed: ${prepare.stderr}`);
  const esdkJob = JSON.stringify({ tool: 'esdk', op: 'encrypt', input: one, output: join(setup.dir, 'one-byte.esdk'), keyHex: setup.keyHex, sign: false });
  const programs: { name: string; argv: string[] }[] = [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { name: 'kenv --help', argv: [...kenv, '--help'] },
    { name: 'kenv inspect FILE', argv: [...kenv, 'inspect', sealed] },
    { name: 'kenv encrypt (1 byte, raw AES)', argv: [...kenv, 'encrypt', one, ...raw, '--force', '--out', join(setup.dir, 'cold')] },
    { name: 'kenv decrypt (1 byte, raw AES)', argv: [...kenv, 'decrypt', sealed, ...raw, '--force', '--out', join(setup.dir, 'cold')] },
    { name: 'age -r (1 byte)', argv: ['age', '-r', setup.ageRecipient, '-o', join(setup.dir, 'one-byte.age'), one] },
    // No ESDK command-line tool is installed here (aws-encryption-cli is Python, not on this machine): its path is the
    // JS ESDK in a Node process, loading @aws-crypto/client-node and encrypting the byte (child.ts, no fsync wait).
    { name: 'ESDK (node + @aws-crypto/client-node, 1 byte)', argv: [process.execPath, new URL('./child.js', import.meta.url).pathname, esdkJob] },
  ];
  const times = new Map<string, number[]>(programs.map((p) => [p.name, []]));
  const rounds = Math.max(7, runs * 3);
  log(`Start-up: ${rounds} rounds …`);
  for (let round = 0; round < rounds; round++) {
    for (const p of programs) {
      const started = process.hrtime.bigint();
      const result = await runProgram(p.argv);
      if (result.code !== 0) throw new Error(`${p.name} failed: ${result.stderr}`);
      times.get(p.name)!.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  const rows = programs.map((p) => ({ name: p.name, ms: median(times.get(p.name)!) }));
  return { rows, baseline: rows[0]!.ms };
}

/** The app's path (test/bench/app-path.ts) in a process of its own; undefined if it failed (the reason is logged). */
async function appPath(cfg: Config, dir: string): Promise<AppPathResult | undefined> {
  log(`The app's path: ${formatSize(cfg.appSize)} through jobs:start and the JobQueue, against the CLI …`);
  const script = new URL('./app-path.js', import.meta.url).pathname;
  const result = await runProgram([process.execPath, script, String(cfg.appSize), String(cfg.runs), dir, '--json'], {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !line.startsWith('{')) {
    log(`The app's path failed: ${result.stderr}`);
    return undefined;
  }
  return JSON.parse(line) as AppPathResult;
}

function mibps(bytes: number, ms: number): number {
  return bytes / MIB / (ms / 1000);
}

class Report {
  private readonly lines: string[] = [];

  constructor(
    private readonly cfg: Config,
    private readonly rows: Row[],
    private readonly kenvDefaultId: string,
    private readonly speedOne: number,
    private readonly speedAll: number,
    private readonly rssCheck: RssCheck | undefined,
    private readonly cold: ColdStart | undefined,
    private readonly app: AppPathResult | undefined,
  ) {}

  render(startedAt: Date, loadBefore: number[], loadAfter: number[]): string {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    this.say(`Kenv bench, ${startedAt.toISOString()}: ${formatSize(this.cfg.size)} file to file, median of ${this.cfg.runs} run(s)`);
    this.say(`Node ${process.version}, ${availableParallelism()} CPU(s) (${cpu}), load average ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after`);
    this.say('Every contender runs in its own process; its time covers reading the input to fsync of its output (Kenv and the');
    this.say('ESDK time themselves, without Node start-up). Kenv and the ESDK use a raw AES keyring and suite 0x0478 (no KMS: a');
    this.say('KMS call is one round trip per file, not part of the throughput). The input is in the page cache. MiB/s counts');
    this.say('plaintext bytes in both directions. "× kenv" is the contender\'s speed divided by Kenv\'s at its default frame length.');
    this.say('The machine is shared with other jobs: expect ±20 % between runs.');
    this.say('');
    this.table();
    this.say('');
    this.frameLengths();
    this.say('');
    this.endToEnd();
    this.say('');
    this.coldStart();
    this.say('');
    this.appPath();
    this.say('');
    this.targets();
    return `${this.lines.join('\n')}\n`;
  }

  private say(line: string): void {
    this.lines.push(line);
  }

  private speed(row: Row | undefined, op: Op): number | undefined {
    if (!row || row.samples[op].length === 0) return undefined;
    return median(row.samples[op].map((s) => mibps(this.cfg.size, s.ms)));
  }

  /** MiB/s from spawn to exit: start-up, module loading, the work and the fsync, as a user times a command. */
  private wallSpeed(row: Row | undefined, op: Op): number | undefined {
    if (!row || row.samples[op].length === 0) return undefined;
    return median(row.samples[op].map((s) => mibps(this.cfg.size, s.wallMs)));
  }

  private best(group: Contender['group'], op: Op, speed: (r: Row, op: Op) => number | undefined): Row | undefined {
    const rows = this.rows.filter((r) => r.contender.group === group && !r.crashed);
    if (rows.length === 0) return undefined;
    return rows.reduce((a, b) => ((speed(a, op) ?? 0) >= (speed(b, op) ?? 0) ? a : b));
  }

  private endToEnd(): void {
    const wall = (r: Row, op: Op): number | undefined => this.wallSpeed(r, op);
    const picks: [string, Row | undefined, Row | undefined][] = [
      ['kenv CLI (kenv encrypt|decrypt FILE --out DIR)', this.rows.find((r) => r.contender.group === 'kenv-cli'), undefined],
      ['kenv signed (0x0578, file path, in a node process)', this.rows.find((r) => r.contender.group === 'kenv-signed'), undefined],
      ['esdk at its best frame length', this.best('esdk', 'encrypt', wall), this.best('esdk', 'decrypt', wall)],
      ['esdk signed at its best frame length', this.best('esdk-signed', 'encrypt', wall), this.best('esdk-signed', 'decrypt', wall)],
      ['age X25519', this.rows.find((r) => r.contender.group === 'age'), undefined],
      ['cp + fsync', this.rows.find((r) => r.contender.group === 'cp'), undefined],
      ...this.rows
        .filter((r) => r.contender.group === 'node-copy')
        .map((r): [string, Row | undefined, Row | undefined] => [`${r.contender.id.replace(' (no crypto)', '')} + fsync (no crypto)`, r, undefined]),
    ];
    this.say(`End to end as users time it: ${formatSize(this.cfg.size)}, MiB/s from spawn to exit (Node start-up and module loading included), medians`);
    for (const [name, enc, dec] of picks) {
      const e = enc ? wall(enc, 'encrypt') : undefined;
      const d = (dec ?? enc) ? wall((dec ?? enc)!, 'decrypt') : undefined;
      const frames = [enc, dec].filter((r): r is Row => !!r?.contender.frameLength).map((r) => formatSize(r.contender.frameLength!));
      this.say(`  ${name.padEnd(52)} enc ${fmt(e, 0).padStart(6)}  dec ${fmt(d, 0).padStart(6)}${frames.length ? `  (${[...new Set(frames)].join(' / ')})` : ''}`);
    }
  }

  private coldStart(): void {
    const c = this.cold;
    if (!c) {
      this.say('Start-up: not measured (BENCH_COLD=0)');
      return;
    }
    this.say('Start-up: median wall time from spawn to exit, alternated with node -e 0');
    for (const r of c.rows) this.say(`  ${r.name.padEnd(48)} ${r.ms.toFixed(0).padStart(6)} ms  ${(r.ms / c.baseline).toFixed(2)}× node -e 0`);
  }

  private appPath(): void {
    const a = this.app;
    if (!a) {
      this.say("The app's path: not measured (BENCH_APP=0, or it failed: see the log)");
      return;
    }
    this.say(`The app's path: ${formatSize(a.size)} through jobs:start, the HandlerRegistry and the JobQueue (local KMS), against the CLI with the same key, medians of ${a.runs}`);
    for (const op of ['encrypt', 'decrypt'] as const) {
      this.say(`  ${op}  app ${a.app[op].toFixed(0).padStart(6)} MiB/s  CLI ${a.cli[op].toFixed(0).padStart(6)} MiB/s  app/CLI ${((a.app[op] / a.cli[op]) * 100).toFixed(0)} %  main-loop p99 ${a.loop[op].p99.toFixed(1)} ms (max ${a.loop[op].max.toFixed(1)} ms)`);
    }
  }

  private peakMiB(row: Row, op: Op): number | undefined {
    if (row.samples[op].length === 0) return undefined;
    return Math.max(...row.samples[op].map((s) => s.rssKiB)) / 1024;
  }

  private kenv(): Row | undefined {
    return this.rows.find((r) => r.contender.id === this.kenvDefaultId);
  }

  private table(): void {
    const kenv = this.kenv();
    const header = ['contender', 'frame', 'enc MiB/s', 'dec MiB/s', 'enc × kenv', 'dec × kenv', 'enc RSS MiB', 'dec RSS MiB'];
    const body: string[][] = [];
    for (const row of this.rows) {
      const enc = this.speed(row, 'encrypt');
      const dec = this.speed(row, 'decrypt');
      const name = row.contender.id.replace(/ \d+ [KMG]iB$/, '') + (row.contender.id === this.kenvDefaultId ? ' (default)' : '');
      body.push([
        row.crashed ? `${name} CRASHED` : name,
        row.contender.frameLength ? formatSize(row.contender.frameLength) : '',
        fmt(enc, 0),
        fmt(dec, 0),
        ratio(enc, this.speed(kenv, 'encrypt')),
        ratio(dec, this.speed(kenv, 'decrypt')),
        fmt(this.peakMiB(row, 'encrypt'), 0),
        fmt(this.peakMiB(row, 'decrypt'), 0),
      ]);
    }
    for (const [name, bytesPerSecond] of [
      ['openssl speed aes-256-gcm, 1 core', this.speedOne],
      [`openssl speed aes-256-gcm, ${availableParallelism()} cores`, this.speedAll],
    ] as const) {
      const v = bytesPerSecond / MIB;
      body.push([name, 'in memory', fmt(v, 0), fmt(v, 0), ratio(v, this.speed(kenv, 'encrypt')), ratio(v, this.speed(kenv, 'decrypt')), '', '']);
    }
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    this.say(line(header));
    this.say(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of body) this.say(line(r));
  }

  private frameLengths(): void {
    const sweep = this.rows.filter((r) => r.contender.group === 'kenv' && !r.crashed);
    if (sweep.length < 2) return;
    this.say(`Kenv frame length (default ${formatSize(DEFAULT_FRAME_LENGTH)}): enc+dec MiB/s (geometric mean), relative to the best`);
    const score = (r: Row): number => Math.sqrt((this.speed(r, 'encrypt') ?? 0) * (this.speed(r, 'decrypt') ?? 0));
    const best = Math.max(...sweep.map(score));
    for (const r of sweep) {
      const s = score(r);
      this.say(`  ${formatSize(r.contender.frameLength!).padEnd(8)} ${s.toFixed(0).padStart(6)} MiB/s  ${((s / best) * 100).toFixed(0).padStart(3)} %${r.contender.frameLength === DEFAULT_FRAME_LENGTH ? '  ← default' : ''}`);
    }
  }

  private targets(): void {
    const kenv = this.kenv();
    this.say('Targets (a MISS does not fail the run)');
    const esdk = this.rows.filter((r) => r.contender.group === 'esdk' && !r.crashed);
    const age = this.rows.find((r) => r.contender.group === 'age' && !r.crashed);
    for (const op of ['encrypt', 'decrypt'] as const) {
      const k = this.speed(kenv, op);
      if (esdk.length) {
        const best = esdk.reduce((a, b) => ((this.speed(a, op) ?? 0) >= (this.speed(b, op) ?? 0) ? a : b));
        const e = this.speed(best, op);
        this.verdict(k !== undefined && e !== undefined && k >= 2 * e, `kenv ${op} ≥ 2 × ESDK at its best (${formatSize(best.contender.frameLength!)}): ${fmt(k, 0)} vs ${fmt(e, 0)} MiB/s = ${ratio(k, e)}`);
      }
      if (age) {
        const a = this.speed(age, op);
        this.verdict(k !== undefined && a !== undefined && k > a, `kenv ${op} ahead of age: ${fmt(k, 0)} vs ${fmt(a, 0)} MiB/s = ${ratio(k, a)}`);
      }
    }
    const wall = (r: Row, op: Op): number | undefined => this.wallSpeed(r, op);
    const cli = this.rows.find((r) => r.contender.group === 'kenv-cli' && !r.crashed);
    const cp = this.rows.find((r) => r.contender.group === 'cp' && !r.crashed);
    const signed = this.rows.find((r) => r.contender.group === 'kenv-signed' && !r.crashed);
    for (const op of ['encrypt', 'decrypt'] as const) {
      const k = cli ? wall(cli, op) : undefined;
      const best = this.best('esdk', op, wall);
      const e = best ? wall(best, op) : undefined;
      if (best) this.verdict(k !== undefined && e !== undefined && k >= 2 * e, `kenv CLI ${op}, start-up included, ≥ 2 × ESDK at its best (${formatSize(best.contender.frameLength!)}), start-up included: ${fmt(k, 0)} vs ${fmt(e, 0)} MiB/s = ${ratio(k, e)}`);
      const c = cp ? wall(cp, op) : undefined;
      if (cp) this.verdict(k !== undefined && c !== undefined && k >= 0.85 * c, `kenv CLI ${op} ≥ 85 % of cp + fsync: ${fmt(k, 0)} vs ${fmt(c, 0)} MiB/s = ${c && k ? ((k / c) * 100).toFixed(0) : '—'} %`);
      // Not a target: what a Node program reaches with no crypto at all, against the same cp + fsync.
      for (const n of this.rows.filter((r) => r.contender.group === 'node-copy' && !r.crashed)) {
        const v = wall(n, op);
        if (c !== undefined && v !== undefined) this.say(`  ····  for scale, ${n.contender.id} ${op === 'encrypt' ? 'of the plaintext' : 'of the message'}: ${fmt(v, 0)} MiB/s = ${((v / c) * 100).toFixed(0)} % of cp + fsync`);
      }
      const s = signed ? wall(signed, op) : undefined;
      const bestSigned = this.best('esdk-signed', op, wall);
      const es = bestSigned ? wall(bestSigned, op) : undefined;
      if (bestSigned) this.verdict(s !== undefined && es !== undefined && s >= 1.5 * es, `kenv signed ${op} ≥ 1.5 × ESDK signed at its best (${formatSize(bestSigned.contender.frameLength!)}), start-up included: ${fmt(s, 0)} vs ${fmt(es, 0)} MiB/s = ${ratio(s, es)}`);
    }
    if (this.cold) {
      for (const r of this.cold.rows.filter((row) => /^kenv (--help|inspect|encrypt)/.test(row.name))) {
        this.verdict(r.ms <= 2 * this.cold.baseline, `${r.name} within 2 × node -e 0: ${r.ms.toFixed(0)} vs ${this.cold.baseline.toFixed(0)} ms = ${(r.ms / this.cold.baseline).toFixed(2)}×`);
      }
    }
    if (this.app) {
      for (const op of ['encrypt', 'decrypt'] as const) {
        const a = this.app;
        this.verdict(a.app[op] >= 0.9 * a.cli[op], `the app's ${op} ≥ 90 % of the CLI's: ${a.app[op].toFixed(0)} vs ${a.cli[op].toFixed(0)} MiB/s = ${((a.app[op] / a.cli[op]) * 100).toFixed(0)} %`);
        this.verdict(a.loop[op].p99 < 50, `main-loop p99 < 50 ms during the app's ${op}: ${a.loop[op].p99.toFixed(1)} ms`);
      }
    }
    const check = this.rssCheck;
    if (!check) {
      this.say(`  ----  peak RSS < ${RSS_LIMIT_MIB} MiB on a 4 GiB file: not measured (BENCH_RSS_CHECK=0)`);
      return;
    }
    for (const op of ['encrypt', 'decrypt'] as const) {
      const s = check.samples[op];
      const mib = s ? s.rssKiB / 1024 : undefined;
      const speed = s ? `, ${mibps(check.size, s.ms).toFixed(0)} MiB/s` : '';
      this.verdict(mib !== undefined && mib < RSS_LIMIT_MIB, `kenv ${op} peak RSS < ${RSS_LIMIT_MIB} MiB on a ${formatSize(check.size)} file: ${fmt(mib, 0)} MiB${speed}`);
      const signedSample = check.signed[op];
      const signedMib = signedSample ? signedSample.rssKiB / 1024 : undefined;
      const signedSpeed = signedSample ? `, ${mibps(check.size, signedSample.ms).toFixed(0)} MiB/s` : '';
      this.verdict(signedMib !== undefined && signedMib < RSS_LIMIT_MIB, `kenv signed ${op} peak RSS < ${RSS_LIMIT_MIB} MiB on a ${formatSize(check.size)} file: ${fmt(signedMib, 0)} MiB${signedSpeed}`);
    }
  }

  private verdict(pass: boolean, text: string): void {
    this.say(`  ${pass ? 'PASS' : 'MISS'}  ${text}`);
  }
}

function fmt(v: number | undefined, digits: number): string {
  return v === undefined ? '—' : v.toFixed(digits);
}

function ratio(v: number | undefined, of: number | undefined): string {
  return v === undefined || of === undefined || of === 0 ? '—' : `${(v / of).toFixed(2)}×`;
}

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' ');
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
