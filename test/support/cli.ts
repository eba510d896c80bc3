import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const KENV_BIN = join(import.meta.dirname, '../../bin/kenv.js');

/**
 * What a `kenv` process the tests start needs from `npm run coverage`: NODE_V8_COVERAGE when it measures them
 * (KENV_CHILD_V8_COVERAGE, see test/support/coverage.mjs), nothing otherwise.
 */
export function childCoverageEnv(): Record<string, string> {
  const dir = process.env.KENV_CHILD_V8_COVERAGE;
  return dir ? { NODE_V8_COVERAGE: dir } : {};
}

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs the built `kenv` command (npm test builds before the tests run) with a clean AWS environment plus `env`.
 */
export function runKenv(args: string[], opts: { env?: Record<string, string>; input?: Buffer; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KENV_BIN, ...args], {
      cwd: opts.cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...childCoverageEnv(),
        ...opts.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

/**
 * The error and warning lines of stderr: those of the CLI's one form, `kenv: …`. Status lines ("encrypted A -> B",
 * "imported …", "wrote …") go to stderr too, since stdout carries data only, and are left out.
 */
export function problems(stderr: string | Buffer): string[] {
  return stderr
    .toString()
    .split('\n')
    .filter((line) => line.startsWith('kenv:'));
}
