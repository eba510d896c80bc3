/** Running one command in a child process and measuring its time and peak RSS. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from './jobs.js';

const CHILD = new URL('./child.js', import.meta.url).pathname;

export interface Sample {
  ms: number;
  /** From spawn to exit (plus the output's fsync for programs that do not make one): start-up included. */
  wallMs: number;
  /** Peak resident set size of the process, KiB (GNU time's %M: the kernel's ru_maxrss). */
  rssKiB: number;
}

/** A contender that exited non-zero or produced wrong output. */
export class ContenderCrash extends Error {
  override name = 'ContenderCrash';
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, collecting its output. */
export function runProgram(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Runs `cmd` under /usr/bin/time in a process of its own.
 *
 * Node contenders time themselves (read to fsync, without Node's start-up); other programs are timed here from
 * spawn to exit plus an fsync of their output, so every contender pays for getting its output onto the disk.
 */
export async function measure(cmd: Command, outputPath: string, scratchDir: string): Promise<Sample> {
  const rssFile = join(scratchDir, 'peak-rss.txt');
  await rm(rssFile, { force: true });
  const argv = cmd.kind === 'node' ? [process.execPath, CHILD, JSON.stringify(cmd.job)] : cmd.argv;
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const start = process.hrtime.bigint();
  const result = await runProgram(['/usr/bin/time', '-f', '%M', '-o', rssFile, '--', ...argv], env);
  let ms: number;
  if (result.code !== 0) {
    const why = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    throw new ContenderCrash(`${argv.slice(0, 3).join(' ')} … ${why}:\n${tail(result.stderr)}`);
  }
  if (cmd.kind === 'node') {
    const line = result.stdout.trim().split('\n').pop() ?? '';
    ms = (JSON.parse(line) as { ms: number }).ms;
  } else {
    await fsyncFile(outputPath);
    ms = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const rssText = (await readFile(rssFile, 'utf8')).trim().split('\n').pop() ?? '';
  const rssKiB = Number(rssText);
  if (!Number.isFinite(rssKiB)) throw new ContenderCrash(`/usr/bin/time reported no peak RSS: ${rssText}`);
  return { ms, wallMs, rssKiB };
}

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }), hash);
  return hash.digest('hex');
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function tail(text: string): string {
  const lines = text.trim().split('\n');
  return lines.slice(-15).join('\n');
}
