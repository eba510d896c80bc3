import { realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { Result } from '../../../shared/errors.js';
import { KenvError, toErrorInfo } from '../errors.js';

/**
 * How the user handed a path to the app. Only the main process (or core code it calls) grants; never a string the
 * page sends.
 */
export type GrantSource =
  /** Dropped on the window: the preload turned the `File` objects into paths with `webUtils.getPathForFile`. */
  | 'drop'
  /** Returned by an open dialog the main process showed. */
  | 'dialog'
  /** The OS asked the app to open it (open-file, a launch or second-instance command line). */
  | 'os-open'
  /** Written by a job that finished. */
  | 'job-output';

/**
 * What a handler wants to do with a path.
 *
 * - `read`: plan, inspect, encrypt or decrypt it, open it privately, show it in the file manager: any grant.
 * - `write-into`: a folder to save outputs in: a granted folder or a folder inside one.
 * - `vault-folder`: the vault folder (settings, vault panel): only a folder the user chose in a dialog.
 * - `open-with-os`: hand it to the OS default app, which can mean running it: only the output of a finished job.
 */
export type GrantPurpose = 'read' | 'write-into' | 'vault-folder' | 'open-with-os';

interface Grant {
  /** The real path (symbolic links resolved) of what was granted. */
  real: string;
  /** The absolute path as it was given, for error sentences about files that have gone since. */
  given: string;
  folder: boolean;
  source: GrantSource;
}

const ACCEPTS: Record<GrantPurpose, (g: Grant) => boolean> = {
  'read': () => true,
  'write-into': (g) => g.folder,
  'vault-folder': (g) => g.folder && g.source === 'dialog',
  'open-with-os': (g) => !g.folder && g.source === 'job-output',
};

/**
 * The paths the user handed to the app in this session, and the one check every path-taking handler makes.
 *
 * Everything is compared on real paths: a granted folder grants what is really inside it, so `..` and symbolic links
 * that lead out of it are refused, and a link to a granted file is the file. A granted file grants that file only
 * (not its folder). The set lives in memory: a new session starts with nothing granted.
 */
export class Grants {
  private readonly grants: Grant[] = [];

  /**
   * Records that the user handed over `path`. Returns its real path, or undefined when it does not exist (nothing is
   * granted then).
   */
  async grant(path: string, source: GrantSource): Promise<string | undefined> {
    if (!isAbsolute(path) || path.includes('\0')) return undefined;
    let real: string;
    let folder: boolean;
    try {
      real = await realpath(path);
      folder = (await stat(real)).isDirectory();
    } catch {
      return undefined;
    }
    if (!this.grants.some((g) => g.real === real && g.source === source && g.folder === folder)) {
      this.grants.push({ real, given: resolve(path), folder, source });
    }
    return real;
  }

  /**
   * The real path of `path` if a grant covers it for `purpose`; otherwise throws NOT_ALLOWED (or INPUT_NOT_FOUND for
   * a granted file that has gone since).
   */
  async require(path: string, purpose: GrantPurpose): Promise<string> {
    const accepted = this.grants.filter(ACCEPTS[purpose]);
    let real: string | undefined;
    if (isAbsolute(path) && !path.includes('\0')) real = await realpath(path).catch(() => undefined);
    if (real === undefined) {
      const given = isAbsolute(path) ? resolve(path) : undefined;
      if (given && accepted.some((g) => covers(g.given, g.folder, given))) {
        throw new KenvError('INPUT_NOT_FOUND', `${basename(given)} no longer exists at ${given}. Check the file and drop it again.`);
      }
      throw notAllowed(path, purpose);
    }
    if (!accepted.some((g) => covers(g.real, g.folder, real))) throw notAllowed(path, purpose);
    if (purpose === 'write-into' || purpose === 'vault-folder') {
      const isDir = await stat(real).then((s) => s.isDirectory(), () => false);
      if (!isDir) throw new KenvError('INVALID_ARGUMENT', `${path} is not a folder. Choose a folder to save files in.`);
    }
    return real;
  }

  /** Does a grant cover `path` for `purpose`? Like `require`, without the reason. */
  async allows(path: string, purpose: GrantPurpose): Promise<boolean> {
    return this.require(path, purpose).then(() => true, () => false);
  }
}

/** `target` is the granted path itself, or (for a granted folder) somewhere inside it. */
function covers(granted: string, folder: boolean, target: string): boolean {
  if (target === granted) return true;
  if (!folder) return false;
  const rel = relative(granted, target);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function notAllowed(path: string, purpose: GrantPurpose): KenvError {
  const name = basename(path) || path;
  switch (purpose) {
    case 'write-into':
      return new KenvError('NOT_ALLOWED', `Kenv saves files only in folders you chose, and ${path} is not one of them. Choose the folder with "Save to a folder…" or in Settings.`);
    case 'vault-folder':
      return new KenvError('NOT_ALLOWED', `The vault folder must be chosen with "Choose folder…", and ${path} was not. Choose the folder again.`);
    case 'open-with-os':
      return new KenvError('NOT_ALLOWED', `Kenv opens only files it decrypted in this session, and ${name} is not one of them. Open it from the file manager instead.`);
    default:
      return new KenvError('NOT_ALLOWED', `Kenv works only on files you dropped on its window, chose in its dialogs or opened with it, and ${name} is not one of them. Drop the file or folder on the window, or choose it with "Choose files…".`);
  }
}

/**
 * The drop route: grants the paths the preload got from `webUtils.getPathForFile` for dropped `File` objects.
 *
 * Electron's IPC wrapper calls this for the preload's drop message only (never for `invoke`, which the page controls),
 * and the test bridge calls the same function for its emulated drop. Empty strings (a `File` the page made itself has
 * no path) and relative paths are skipped. Returns the real paths that were granted, in order.
 */
export async function grantDropped(grants: Grants, payload: unknown): Promise<Result<string[]>> {
  if (!Array.isArray(payload) || payload.length > 10_000 || !payload.every((p) => typeof p === 'string' && p.length <= 4096)) {
    return { ok: false, error: { code: 'INVALID_REQUEST', message: 'The app refused a malformed drop. Drop the files again; if it happens again, report it.' } };
  }
  try {
    const granted: string[] = [];
    for (const path of payload as string[]) {
      if (path === '') continue;
      const real = await grants.grant(path, 'drop');
      if (real !== undefined && !granted.includes(real)) granted.push(real);
    }
    return { ok: true, value: granted };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}
