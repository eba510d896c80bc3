import type { Writable } from 'node:stream';
import { errnoCode, errnoText } from '../core/atomic-output.js';

/**
 * The exit status of a command whose reader closed standard output: 128 + SIGPIPE, what a shell reports for
 * `cat`, `yes` or `git log` cut short by `| head` (Node ignores SIGPIPE, so kenv exits with that status itself).
 */
export const EXIT_STDOUT_CLOSED = 141;

/**
 * Standard output as a Unix tool treats it: the data channel, which can fail under a running command.
 *
 * A reader that goes away (`| head`, EPIPE) or a full disk (ENOSPC) arrives as an 'error' event, which unhandled
 * would end the process with a stack trace. Here the first such error is kept, `signal` aborts so that the command
 * stops at its next safe point (cancelling file work, which removes its temporary files), and later lines are
 * dropped. Lines written in one turn of the event loop leave in one write, so short output reaches a reader whole.
 */
export class StandardOutput {
  private readonly controller = new AbortController();

  constructor(readonly stream: Writable) {
    // Only the system's word that a write failed (EPIPE, ENOSPC, EIO…) is a failure of standard output. A stream
    // pipeline that stops on the command's own error (a bad signature) destroys its destination with that error too;
    // that error is the command's to report, with its own code.
    stream.on('error', (e: unknown) => {
      if (typeof (e as { syscall?: unknown } | null)?.syscall === 'string') this.controller.abort(e);
    });
  }

  /** Aborted, with the write error as its reason, once standard output has failed. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The write error, once standard output has failed. */
  get failure(): unknown {
    return this.controller.signal.aborted ? (this.controller.signal.reason as unknown) : undefined;
  }

  /** True when the reader closed the pipe: the command then ends quietly. */
  get readerClosed(): boolean {
    return errnoCode(this.failure) === 'EPIPE';
  }

  /** Writes one line, unless standard output has already failed. */
  line(text: string): void {
    if (this.signal.aborted) return;
    if (!this.stream.writableCorked) {
      this.stream.cork();
      process.nextTick(() => this.stream.uncork());
    }
    this.stream.write(`${text}\n`);
  }

  /**
   * Resolves once what was written has left or failed, so that `failure` is final.
   *
   * A failed write is reported on a later tick, so a command that wrote its last line and returned would otherwise
   * be judged before its output failed.
   */
  async settle(): Promise<void> {
    if (!this.signal.aborted && this.stream.writableCorked) this.stream.uncork();
    if (!this.signal.aborted && this.stream.writableLength > 0) {
      await new Promise<void>((done) => {
        const finish = (): void => {
          this.stream.off('drain', finish);
          this.signal.removeEventListener('abort', finish);
          done();
        };
        this.stream.on('drain', finish);
        this.signal.addEventListener('abort', finish);
      });
    }
    await new Promise<void>((done) => setImmediate(done));
  }

  /** The sentence for a failure other than a closed pipe. */
  describeFailure(): string {
    return `Cannot write to standard output: ${errnoText(this.failure)}. What reached it is incomplete: make room on that disk, or send the output elsewhere.`;
  }
}
