/**
 * moto (https://github.com/getmoto/moto), an S3 emulator written by others, as a local server for tests.
 *
 * `moto_server -H 127.0.0.1 -p 0` lets the OS choose the port and prints `Running on http://127.0.0.1:PORT`, so
 * there is no window in which another process can take a port we picked. State lives in memory and dies with the
 * process. build/install-test-deps.sh checks that moto_server is installed; `KENV_MOTO_SERVER` names another binary.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface MotoServer {
  readonly port: number;
  readonly endpoint: string;
  /** The server's process id (the bench reads its CPU time). */
  readonly pid: number | undefined;
  close(): Promise<void>;
}

const NOT_INSTALLED =
  'moto_server was not found. The sync integration tests run against moto as well as s3rver: run ' +
  'build/install-test-deps.sh, or set KENV_MOTO_SERVER to the moto_server binary.';

/** Starts moto_server on a port the OS chooses and resolves once it answers. */
export async function startMoto(): Promise<MotoServer> {
  const bin = process.env.KENV_MOTO_SERVER || 'moto_server';
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  // Never outlive the test process, even when it dies without closing the server.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.once('exit', () => process.off('exit', killChild));

  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error(NOT_INSTALLED) : e));
    child.once('exit', (code) => reject(new Error(`moto_server exited with ${code} before listening: ${out}`)));
  });
  // Keep draining its request log so the pipe never fills and blocks it.
  child.stdout?.on('data', (chunk: Buffer) => {
    if (process.env.KENV_DEBUG_MOTO) process.stderr.write(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (process.env.KENV_DEBUG_MOTO) process.stderr.write(chunk);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  // "Running on" is printed just before the socket accepts: wait until a request is answered.
  for (;;) {
    const ok = await fetch(`${endpoint}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    endpoint,
    pid: child.pid,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
