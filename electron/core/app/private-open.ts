import { randomUUID } from 'node:crypto';
import { type FSWatcher, rmSync, watch } from 'node:fs';
import { chmod, lstat, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { PrivateFile } from '../../../shared/ipc.js';
import { KenvError } from '../errors.js';
import type { DesktopShell, EventSink, VaultOps } from './services.js';

const PUBLIC_KEY_CONTEXT = 'aws-crypto-public-key';
const FOLDER_PREFIX = 'kenv-open-';

interface Session {
  file: PrivateFile;
  dir: string;
  keyIds: string[];
  context: Record<string, string>;
  seen: { mtimeMs: number; size: number };
  watcher: FSWatcher | undefined;
}

/**
 * "Open": a .kenv decrypted into a private temporary folder (0700), opened with the OS default app, watched so the
 * app can offer to re-encrypt it when it is saved, and wiped when closed or when Kenv quits.
 *
 * Re-encrypting uses the same KMS keys and encryption context as the original and replaces the .kenv atomically.
 */
export class PrivateOpens {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly vault: VaultOps,
    private readonly shell: DesktopShell,
    private readonly events: EventSink,
    private readonly tempRoot: string = tmpdir(),
  ) {}

  async open(kenvPath: string): Promise<PrivateFile> {
    const info = await this.vault.inspectFile(kenvPath);
    const keyIds = info.keys.filter((k) => k.providerId === 'aws-kms' && k.keyArn).map((k) => k.keyArn!);
    const context = Object.fromEntries(Object.entries(info.encryptionContext).filter(([k]) => k !== PUBLIC_KEY_CONTEXT));
    const dir = await mkdtemp(join(this.tempRoot, FOLDER_PREFIX));
    await chmod(dir, 0o700);
    let session: Session | undefined;
    try {
      const result = await this.vault.decryptFile(kenvPath, { outDir: dir, onProgress: () => undefined, signal: new AbortController().signal });
      const s = await stat(result.outputPath);
      const file: PrivateFile = { id: randomUUID(), kenvPath, name: basename(result.outputPath), plainPath: result.outputPath, edited: false, canReencrypt: keyIds.length > 0 };
      session = { file, dir, keyIds, context, seen: { mtimeMs: s.mtimeMs, size: s.size }, watcher: undefined };
      this.sessions.set(file.id, session);
      session.watcher = watch(dir, () => void this.checkEdited(file.id));
      await this.shell.openPath(result.outputPath);
      return { ...file };
    } catch (error) {
      if (session) this.close(session.file.id);
      else rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Wipes the private folders a previous run left behind (it crashed or was killed before `closeAll`).
   *
   * Runs at start, before anything is opened: the app holds a single-instance lock, so every `kenv-open-*` folder of
   * this user in the temporary folder is a leftover. Links and other users' folders are left alone. Returns how many
   * folders were removed.
   */
  async sweepLeftovers(): Promise<number> {
    const names = await readdir(this.tempRoot).catch(() => [] as string[]);
    const uid = process.getuid?.();
    let removed = 0;
    for (const name of names) {
      if (!name.startsWith(FOLDER_PREFIX)) continue;
      const path = join(this.tempRoot, name);
      const info = await lstat(path).catch(() => undefined);
      if (!info?.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
      if ([...this.sessions.values()].some((session) => session.dir === path)) continue;
      await rm(path, { recursive: true, force: true }).then(() => removed++, () => undefined);
    }
    return removed;
  }

  list(): PrivateFile[] {
    return [...this.sessions.values()].map((s) => ({ ...s.file }));
  }

  /** Is `path` the plaintext of an open private file? (The shell may open it again.) */
  knows(path: string): boolean {
    for (const s of this.sessions.values()) if (s.file.plainPath === path) return true;
    return false;
  }

  /** Encrypts the edited plaintext back over the original .kenv, under the same keys and context. */
  async reencrypt(id: string): Promise<PrivateFile> {
    const session = this.get(id);
    if (!session.file.canReencrypt) {
      throw new KenvError('INVALID_KEY', `${basename(session.file.kenvPath)} is not encrypted under a KMS key Kenv can use again, so it cannot be re-encrypted in place. Encrypt ${session.file.name} as a new file instead.`);
    }
    await this.vault.encryptFile(session.file.plainPath, {
      // The same context as before: it carries the file's kenv:file-id when the original had one.
      keyIds: session.keyIds, context: session.context, replacePath: session.file.kenvPath, fileId: false,
      onProgress: () => undefined, signal: new AbortController().signal,
    });
    const s = await stat(session.file.plainPath);
    session.seen = { mtimeMs: s.mtimeMs, size: s.size };
    session.file.edited = false;
    this.events.emit('private:changed', { ...session.file });
    return { ...session.file };
  }

  /** Stops watching and wipes the private folder. */
  close(id: string): void {
    const session = this.get(id);
    session.watcher?.close();
    rmSync(session.dir, { recursive: true, force: true });
    this.sessions.delete(id);
    this.events.emit('private:changed', { ...session.file, closed: true });
  }

  /** Wipes every private folder (on quit). Synchronous so it completes inside `before-quit`. */
  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  private get(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) throw new KenvError('INVALID_ARGUMENT', 'That file is no longer open in Kenv. Open the .kenv again.');
    return session;
  }

  private async checkEdited(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    try {
      const s = await stat(session.file.plainPath);
      if (s.mtimeMs === session.seen.mtimeMs && s.size === session.seen.size) return;
      session.seen = { mtimeMs: s.mtimeMs, size: s.size };
      if (!session.file.edited) {
        session.file.edited = true;
        this.events.emit('private:changed', { ...session.file });
      }
    } catch {
      // Editors save by writing a new file and renaming it; the next event sees the finished file.
    }
  }
}
