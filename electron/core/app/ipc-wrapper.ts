import { IPC_DROP, IPC_INVOKE } from '../../../shared/ipc.js';
import { type Grants, grantDropped } from './grants.js';
import type { HandlerRegistry } from './registry.js';

/** The part of Electron's `WebFrameMain` the wrapper looks at. */
export interface SenderFrame {
  url: string;
  /** `null` for a top-level frame. */
  parent: unknown;
}

/** The part of an `IpcMainInvokeEvent` the wrapper looks at. */
export interface InvokeEvent {
  senderFrame: SenderFrame | null | undefined;
}

/** The part of Electron's `ipcMain` the wrapper uses; plain Node tests pass a fake. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/**
 * Registers the handler registry on ipcMain behind the sender check.
 *
 * Every call must come from the top frame of a page whose URL `isTrustedUrl` accepts (Electron's security checklist
 * #17, VS Code's ValidatedIpcMain): an iframe or a page that navigated elsewhere gets FORBIDDEN_SENDER and the
 * registry never sees the payload.
 *
 * The preload's drop message (`IPC_DROP`, paths of dropped files) is the one way a page's action grants a path; it
 * gets the same sender check and goes to `grantDropped`, never to the registry. Returns a function that unregisters.
 */
export function registerIpc(ipcMain: IpcMainLike, registry: HandlerRegistry, opts: { isTrustedUrl: (url: string) => boolean; grants: Grants }): () => void {
  const refuse = (event: InvokeEvent) => {
    const frame = event.senderFrame;
    return !frame || frame.parent !== null || !isTrusted(frame.url, opts.isTrustedUrl);
  };
  ipcMain.handle(IPC_INVOKE, async (event, channel, payload) => {
    if (refuse(event)) return FORBIDDEN;
    return registry.invoke(channel, payload);
  });
  ipcMain.handle(IPC_DROP, async (event, paths) => {
    if (refuse(event)) return FORBIDDEN;
    return grantDropped(opts.grants, paths);
  });
  return () => {
    ipcMain.removeHandler(IPC_INVOKE);
    ipcMain.removeHandler(IPC_DROP);
  };
}

const FORBIDDEN = { ok: false, error: { code: 'FORBIDDEN_SENDER', message: 'Kenv refused a request from a page it did not load. Restart Kenv; if it happens again, report it.' } } as const;

function isTrusted(url: string, isTrustedUrl: (url: string) => boolean): boolean {
  try {
    return isTrustedUrl(url);
  } catch {
    return false;
  }
}

/**
 * The trust rule for the packaged renderer: pages served from the app's own `app://kenv/` scheme only.
 *
 * Node's URL gives custom schemes an opaque origin, so the scheme and host are compared instead.
 */
export function isAppUrl(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'app:' && u.host === 'kenv' && u.username === '' && u.password === '';
}
