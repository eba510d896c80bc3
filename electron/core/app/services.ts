import type { EventMap, EventName, FileDetails, Identity, KeySummary, OpenCheck, VerifiedFile } from '../../../shared/ipc.js';

/** Progress of one file, as the core reports it. */
export interface Progress {
  bytesDone: number;
  bytesTotal: number | undefined;
}

/** An RSA KMS key's public half, from a recipient file: enough to encrypt for its holder offline. */
export interface RecipientKey {
  keyArn: string;
  algorithm: 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1';
  /** The SPKI public key, PEM. */
  publicKeyPem: string;
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
    /** Write under this name in the output folder ("Keep both"); never replaces. */
    outputName?: string | undefined;
    /** Encrypt for this recipient (the AWS KMS RSA keyring) instead of `keyIds`: no KMS call, no credentials. */
    recipient?: RecipientKey | undefined;
    onProgress: (p: Progress) => void; signal: AbortSignal }): Promise<{ outputPath: string; bytesIn: number; bytesOut: number }>;
  decryptFile(inputPath: string, opts: { outDir?: string | undefined; force?: boolean | undefined; outputName?: string | undefined; onProgress: (p: Progress) => void; signal: AbortSignal }):
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
  /** The recipient file text of an RSA key (KMS GetPublicKey): what people without AWS encrypt for. */
  recipientFile?(keyArn: string): Promise<string>;
}

/** A question the main process asks with a native dialog, naming what is at stake. */
export interface Confirmation {
  title: string;
  /** One sentence naming the file or the setting. */
  message: string;
  detail: string;
  /** The label of the button that goes ahead; the other one cancels and is the default. */
  confirmLabel: string;
}

/** What only the desktop shell can do: OS dialogs, the file manager, the trash. The test bridge passes its own. */
export interface DesktopShell {
  showInFolder(path: string): Promise<void>;
  openPath(path: string): Promise<void>;
  chooseFiles(): Promise<string[]>;
  chooseFolder(): Promise<string | null>;
  /** A native yes/no dialog the page cannot answer or dismiss for the user. Resolves true only for the go-ahead. */
  confirm(question: Confirmation): Promise<boolean>;
  /** Moves a file to the OS trash (never deletes it outright). */
  trashItem(path: string): Promise<void>;
  /** A native open dialog for one recipient file; null when cancelled. */
  chooseRecipientFile?(): Promise<string | null>;
  /** A native save dialog; null when cancelled. */
  chooseSaveFile?(title: string, defaultName: string): Promise<string | null>;
}

/** Where events for the renderer go (webContents.send in Electron, the socket in the bridge). */
export interface EventSink {
  emit<E extends EventName>(event: E, payload: EventMap[E]): void;
}
