import { CommanderError } from 'commander';
import { toErrorInfo } from '../core/errors.js';
import { withThrottleScope } from '../core/kms/throttle.js';
import { throttleLine } from './progress.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Io, buildProgram } from './program.js';
import { removePartialsOnSignals } from './signals.js';

/** Runs the CLI with `argv` (without node and script) and resolves with the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let exit = EXIT_OK;
  const program = buildProgram(io, (code) => (exit = Math.max(exit, code)));
  try {
    // Every KMS call of the command reports its throttling waits here (see kms/throttle.ts).
    await withThrottleScope({ onThrottle: (notice) => io.err(throttleLine(notice)) }, () => program.parseAsync(argv, { from: 'user' }));
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE;
    }
    const info = toErrorInfo(e);
    io.err(`kenv: ${info.message} [${info.code}]`);
    return info.code === 'INVALID_ARGUMENT' || info.code === 'INVALID_KEY' ? EXIT_USAGE : EXIT_FAILED;
  }
}

/** The process entry point: real stdio, real exit code. */
export async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  removePartialsOnSignals();
  const code = await runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  process.exitCode = code;
}
