import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_SETTINGS, Settings } from '../../../shared/ipc.js';
import { KenvError } from '../errors.js';

/**
 * The app's settings as one JSON file in the user-data folder.
 *
 * Writes go to a temporary file in the same folder, are fsynced, then renamed over the old file, so a crash leaves
 * either the old settings or the new ones. A file that does not parse (hand-edited, from a future version) falls
 * back to the defaults for the fields that are wrong rather than refusing to start.
 */
export class SettingsStore {
  private current: Settings | undefined;
  /**
   * The one read of the file, which every caller waits for. A second read that finished after an update would put
   * the file's old settings back (the window's first `settings:get` racing a save).
   */
  private loading: Promise<void> | undefined;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  static inFolder(userDataDir: string): SettingsStore {
    return new SettingsStore(join(userDataDir, 'settings.json'));
  }

  async get(): Promise<Settings> {
    return structuredClone(await this.ready());
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    await this.ready();
    // Read and replaced with no wait between, so two updates at once both count (a job start saving its key while
    // the user saves the settings dialog).
    const next = Settings.parse({ ...this.current, ...patch });
    this.current = next;
    const write = this.writing.then(() => this.write(next));
    this.writing = write.catch(() => undefined);
    await write;
    return structuredClone(next);
  }

  private async ready(): Promise<Settings> {
    if (!this.current) {
      await (this.loading ??= this.load().then((loaded) => {
        this.current ??= loaded;
      }));
    }
    return this.current!;
  }

  private async load(): Promise<Settings> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(this.file, 'utf8'));
    } catch {
      return structuredClone(DEFAULT_SETTINGS);
    }
    const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    if (raw && typeof raw === 'object') {
      for (const [key, schema] of Object.entries(Settings.shape)) {
        const field = (schema as { safeParse(v: unknown): { success: boolean; data?: unknown } }).safeParse((raw as Record<string, unknown>)[key]);
        if (field.success) merged[key] = field.data;
      }
    }
    return Settings.parse(merged);
  }

  private async write(settings: Settings): Promise<void> {
    const dir = dirname(this.file);
    const temp = join(dir, `.settings.json.${process.pid}.${Date.now()}.tmp`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(settings, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw new KenvError('OUTPUT_FAILED', `Kenv could not save its settings to ${this.file}. Check that the folder is writable and has free space.`, { cause: error });
    }
  }
}
