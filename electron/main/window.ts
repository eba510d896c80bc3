import { BrowserWindow, type Session, shell, type WebContents } from 'electron';
import { isDocumentationUrl } from '../core/app/external-links.js';
import { isAppUrl } from '../core/app/ipc-wrapper.js';

export const APP_URL = 'app://kenv/index.html';

/**
 * The strict CSP sent with every renderer response. index.html carries a slightly looser one (connect-src 'self', for
 * the test bridge's WebSocket); a page gets the intersection of both.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "font-src 'self'",
  // The page never fetches: everything goes through window.kenv.
  "connect-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'",
].join('; ');

/**
 * The one window, hardened per Electron's security checklist: context isolation, sandbox, no Node in the page,
 * no navigation away from the app, no new windows, no webviews.
 */
export function createMainWindow(opts: { preload: string }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1120, height: 760, minWidth: 720, minHeight: 520, show: false, title: 'Kenv',
    backgroundColor: '#00000000',
    webPreferences: {
      // The preload is the app's own bundled file (out/electron-app/preload.cjs), sandboxed, exposing only window.kenv
      // through contextBridge; the main process still checks every call it forwards.
      preload: opts.preload, /* eng-disable PRELOAD_JS_CHECK */
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      safeDialogs: true,
      // A middle click would otherwise open a link in a new window without going through setWindowOpenHandler's
      // intent; there are no such links, and none should open.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  harden(win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_URL);
  return win;
}

/** Applied to every WebContents the app creates. */
export function harden(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Nothing opens inside the app. Only the documentation pages listed in the main process open in the browser: any
    // other URL would be a channel out of the page (data in the URL, or an OS handler such as file: or smb:).
    if (isDocumentationUrl(url)) void shell.openExternal(url); /* eng-disable OPEN_EXTERNAL_JS_CHECK: only exact URLs of the main process's list */
    return { action: 'deny' };
  });
}

/** No permission (camera, notifications, clipboard-read, …) is ever granted to the page. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
