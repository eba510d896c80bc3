import { fstatSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CommanderError } from 'commander';
import { KenvError, toErrorInfo } from '../core/errors.js';
import { withThrottleScope } from '../core/kms/throttle.js';
import { throttleLine } from './progress.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Io, buildProgram } from './program.js';
import { removePartialsOnSignals } from './signals.js';
import { EXIT_STDOUT_CLOSED, StandardOutput } from './stdout.js';

/**
 * Runs the CLI with `argv` (without node and script) and resolves with the exit code.
 *
 * When `io.output` reports that standard output failed, that decides the ending: a closed pipe ends quietly with
 * status 141, like `cat` or `git` cut short by `| head`; any other failure (a full disk) is one OUTPUT_FAILED line
 * and status 1. What the command said after the failure is a consequence of it and is not printed.
 */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const output = io.output;
  const guarded: Io = output ? { ...io, err: (line) => (output.signal.aborted ? undefined : io.err(line)) } : io;
  const code = await runProgram(argv, guarded);
  if (!output) return code;
  await output.settle();
  if (!output.signal.aborted) return code;
  if (output.readerClosed) return EXIT_STDOUT_CLOSED;
  io.err(`kenv: ${output.describeFailure()} [OUTPUT_FAILED]`);
  return Math.max(code, EXIT_FAILED);
}

async function runProgram(argv: string[], io: Io): Promise<number> {
  let exit = EXIT_OK;
  const cleanups: (() => Promise<void>)[] = [];
  const program = buildProgram(io, (code) => (exit = Math.max(exit, code)), (cleanup) => cleanups.push(cleanup));
  try {
    // Every KMS call of the command reports its throttling waits here (see kms/throttle.ts).
    await withThrottleScope({ onThrottle: (notice) => io.err(throttleLine(notice)) }, () => program.parseAsync(argv, { from: 'user' }));
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help or the version asked for exits 0; help shown because the command line was incomplete is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const info = toErrorInfo(e);
    io.err(`kenv: ${info.message} [${info.code}]`);
    return info.code === 'INVALID_ARGUMENT' || info.code === 'INVALID_KEY' ? EXIT_USAGE : EXIT_FAILED;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/**
 * Standard input as commands read it. Node reads a folder redirected into it (`kenv encrypt - < DIR`) as an empty
 * stream, which would encrypt an empty message and exit 0; `cat` says "Is a directory", and so does kenv: the read
 * fails, as an unreadable input.
 */
function standardInput(): NodeJS.ReadableStream {
  let folder = false;
  try {
    folder = fstatSync(0).isDirectory();
  } catch {
    // No standard input at all (closed): Node's own stream reports it when it is read.
  }
  if (!folder) return process.stdin;
  return new Readable({
    read() {
      this.destroy(new KenvError('INPUT_UNREADABLE', 'Standard input is a folder, not data: redirect a file into it (< FILE) or pipe data to it.'));
    },
  });
}

/** The process entry point: real stdio, real exit code. */
export async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  removePartialsOnSignals();
  const output = new StandardOutput(process.stdout);
  // A closed stderr loses the messages, not the work: the exit code still tells.
  process.stderr.on('error', () => undefined);
  const code = await runCli(process.argv.slice(2), {
    stdin: standardInput(),
    stdout: process.stdout,
    out: (line) => output.line(line),
    err: (line) => process.stderr.write(`${line}\n`),
    output,
  });
  // Standard output failed: the command has stopped and cleaned up, and nothing more can reach the reader, so
  // nothing (an unread stdin, an idle connection) should keep the process alive.
  if (output.signal.aborted) process.exit(code);
  process.exitCode = code;
}
