import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Grants } from './grants.js';
import type { EventSink } from './services.js';

/**
 * Files the OS asked Kenv to open: a double-click, "Open with", a second launch.
 *
 * Requests that arrive before the window is ready are queued and handed over once (`take`); later ones are also sent
 * as `files:opened` events. Both paths and `file://` URLs are accepted. Each file is granted (`os-open`) before the
 * page hears of it, so the page may then plan, inspect and decrypt it; files that do not exist are dropped.
 */
export class OpenRequests {
  private queued: string[] = [];
  private sink: EventSink | undefined;
  /** The adds in arrival order: granting awaits the file system, and a later request must not overtake an earlier. */
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly grants: Grants) {}

  /** Adds paths or file URLs; anything that is neither is ignored. Resolves once they are granted and handed on. */
  add(items: string[]): Promise<void> {
    const added = this.pending.then(() => this.grantAndHandOn(items));
    this.pending = added.catch(() => undefined);
    return added;
  }

  private async grantAndHandOn(items: string[]): Promise<void> {
    const paths: string[] = [];
    for (const item of items) {
      const path = toPath(item);
      const real = path === undefined ? undefined : await this.grants.grant(path, 'os-open');
      if (real !== undefined) paths.push(real);
    }
    if (paths.length === 0) return;
    if (this.sink) this.sink.emit('files:opened', paths);
    else this.queued.push(...paths);
  }

  /** Hands over what arrived before the renderer listened, and from then on forwards to `sink`. */
  take(sink: EventSink): string[] {
    this.sink = sink;
    const out = this.queued;
    this.queued = [];
    return out;
  }
}

/** A path or a `file://` URL as an absolute path; undefined for flags, other URLs and empty strings. */
export function toPath(item: string, cwd = process.cwd()): string | undefined {
  if (item.startsWith('file:')) {
    try {
      return fileURLToPath(item);
    } catch {
      return undefined;
    }
  }
  if (item === '' || item.startsWith('-') || /^[a-z][a-z0-9+.-]*:\/\//i.test(item)) return undefined;
  return isAbsolute(item) ? item : resolve(cwd, item);
}

/**
 * The files in a launch command line.
 *
 * Skips the executable and, in development (`electron .`), the app folder; keeps only `.kenv` paths, since
 * the OS passes those for a double-click and anything else is Chromium's or a developer's flag.
 */
export function filesFromArgv(argv: string[], opts: { packaged: boolean; cwd: string }): string[] {
  const args = argv.slice(opts.packaged ? 1 : 2);
  return args.map((a) => toPath(a, opts.cwd)).filter((p): p is string => p !== undefined && p.toLowerCase().endsWith('.kenv'));
}
