import type { EventMap, EventName, FileDetails, Identity, KeySummary, OpenCheck, VerifiedFile } from '../../../shared/ipc.js';

/** Progress of one file, as the core reports it. */
export interface Progress {
  bytesDone: number;
  bytesTotal: number | undefined;
}

/**
 * The vault operations the handlers need, by key id rather than by keyring.
 *
 * Key ids (not a Keyring object) cross this line so that an implementation can run the crypto in a worker or a
 * utility process and build the keyring there. `coreVault` (vault.ts) is the in-process implementation over the core.
 */
export interface VaultOps {
  encryptFile(inputPath: string, opts: { keyIds: string[]; context: Record<string, string>; outDir?: string | undefined;
    /** Write exactly here, replacing what is there (re-encrypting a file opened privately). */
    replacePath?: string | undefined;
    /** Replace an existing output file. */
    force?: boolean | undefined;
    /** Add a `kenv:file-id` audit id to the context (default true; the settings may turn it off). */
    fileId?: boolean | undefined;
    onProgress: (p: Progress) => void; signal: AbortSignal }): Promise<{ outputPath: string; bytesIn: number; bytesOut: number }>;
  decryptFile(inputPath: string, opts: { outDir?: string | undefined; force?: boolean | undefined; onProgress: (p: Progress) => void; signal: AbortSignal }):
    Promise<{ outputPath: string; bytesOut: number }>;
  /** Header only, no KMS call. Throws KenvError on a file that is not a valid .kenv. */
  inspectFile(path: string): Promise<Omit<FileDetails, 'path' | 'name' | 'size'>>;
  /** Whether this identity could open the file: KMS Decrypt with DryRun on its data keys (no key is returned). */
  canOpen?(path: string): Promise<OpenCheck>;
  /** Authenticates every .kenv under `folder` without writing plaintext (Check vault). */
  verifyFolder?(folder: string): Promise<VerifiedFile[]>;
}

/** Who the app acts as, and the ways to change it (the identity service provides the real one). */
export interface IdentityService {
  current(): Promise<Identity>;
  useProfile(profile: string): Promise<Identity>;
  /** Runs the AWS SSO sign-in for the current profile (opens the browser) and resolves when it completes. */
  signIn(): Promise<Identity>;
}

/** The KMS keys the current identity can use. */
export interface KeyCatalogue {
  list(): Promise<KeySummary[]>;
}

/** What only the desktop shell can do: OS dialogs and the file manager. The test bridge passes its own. */
export interface DesktopShell {
  showInFolder(path: string): Promise<void>;
  openPath(path: string): Promise<void>;
  chooseFiles(): Promise<string[]>;
  chooseFolder(): Promise<string | null>;
}

/** Where events for the renderer go (webContents.send in Electron, the socket in the bridge). */
export interface EventSink {
  emit<E extends EventName>(event: E, payload: EventMap[E]): void;
}
