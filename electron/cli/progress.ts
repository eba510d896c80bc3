import type { SingleBar as Bar } from 'cli-progress';
import { createRequire } from 'node:module';
import type { Progress } from '../core/files.js';
import { type ThrottleNotice, describeThrottle } from '../core/kms/throttle.js';

/** Files smaller than this finish before a bar would be worth drawing. */
const BAR_THRESHOLD = 16 * 1024 * 1024;

/** A progress bar on stderr for one large file, only when stderr is a terminal; otherwise nothing. */
export function progressFor(label: string, size: number, stream: NodeJS.WriteStream = process.stderr): {
  onProgress?: (p: Progress) => void;
  stop: () => void;
} {
  if (!stream.isTTY || size < BAR_THRESHOLD) return { stop: () => undefined };
  // Loaded only when a bar is drawn: most runs (small files, no terminal) never need it.
  const { SingleBar } = createRequire(import.meta.url)('cli-progress') as { SingleBar: typeof Bar };
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% | {doneMib}/{totalMib} MiB | {speed} MiB/s | ETA {eta_formatted}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  const started = Date.now();
  const mib = (n: number): string => (n / 1048576).toFixed(0);
  bar.start(size, 0, { doneMib: '0', totalMib: mib(size), speed: '0' });
  return {
    onProgress: (p) => {
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      bar.update(p.bytesDone, { doneMib: mib(p.bytesDone), totalMib: mib(size), speed: (p.bytesDone / 1048576 / seconds).toFixed(0) });
    },
    stop: () => bar.stop(),
  };
}

/**
 * The stderr line for one throttling wait of a KMS call: "kenv: KMS is throttling; retrying in N s (GenerateDataKey)".
 *
 * Printed for every command (the CLI runs each in a throttle scope), so a long batch that is waiting out a burst of
 * throttling says so instead of looking stuck.
 */
export function throttleLine(notice: ThrottleNotice): string {
  return `kenv: ${describeThrottle(notice)} (${notice.operation})`;
}
