/**
 * The Electron shell's wiring, with the 'electron' module replaced by a recording fake (the binary cannot be
 * downloaded here). The real-binary checks live in test/electron/shell.electron.ts.
 */
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC_DROP, IPC_EVENT, IPC_INVOKE } from '../../../../shared/ipc.js';
import { DOCUMENTATION_URLS } from '../../../../electron/core/app/external-links.js';
import { timeLimit } from '../../../support/timeouts.js';

type Listener = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => {
  const state = {
    appListeners: new Map<string, Listener[]>(),
    readyResolved: false,
    resolveReady: (() => undefined) as () => void,
    ipcHandlers: new Map<string, Listener>(),
    schemes: [] as unknown[],
    protocolHandlers: new Map<string, (req: { url: string }) => Promise<Response>>(),
    permissionRequest: undefined as undefined | Listener,
    permissionCheck: undefined as undefined | Listener,
    windows: [] as { options: Record<string, unknown>; url?: string; contents: FakeContents }[],
    sent: [] as { channel: string; message: unknown }[],
    sandboxEnabled: false,
    menu: [] as unknown[],
    userData: '',
    externalOpened: [] as string[],
    trashed: [] as string[],
    messageBoxes: [] as Record<string, unknown>[],
    messageBoxResponse: 0,
  };
  class FakeContents {
    listeners = new Map<string, Listener[]>();
    openHandler: Listener | undefined;
    on(event: string, fn: Listener) { this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]); return this; }
    setWindowOpenHandler(fn: Listener) { this.openHandler = fn; }
    send(channel: string, message: unknown) { state.sent.push({ channel, message }); }
    emit(event: string, ...args: unknown[]) { for (const fn of this.listeners.get(event) ?? []) fn(...args); }
  }
  class BrowserWindow {
    webContents = new FakeContents();
    record: { options: Record<string, unknown>; url?: string; contents: FakeContents };
    constructor(options: Record<string, unknown>) {
      this.record = { options, contents: this.webContents };
      state.windows.push(this.record);
    }
    loadURL(url: string) { this.record.url = url; return Promise.resolve(); }
    once() { return this; }
    on() { return this; }
    isDestroyed() { return false; }
    isMinimized() { return false; }
    restore() {}
    focus() {}
  }
  const app = {
    on(event: string, fn: Listener) { state.appListeners.set(event, [...(state.appListeners.get(event) ?? []), fn]); return app; },
    emit(event: string, ...args: unknown[]) { for (const fn of state.appListeners.get(event) ?? []) fn(...args); },
    requestSingleInstanceLock: () => true,
    quit: () => undefined,
    isPackaged: false,
    enableSandbox: () => { state.sandboxEnabled = true; },
    whenReady: () => new Promise<void>((resolve) => { state.resolveReady = () => { state.readyResolved = true; resolve(); }; }),
    getPath: () => state.userData,
  };
  const session = {
    defaultSession: {
      setPermissionRequestHandler: (fn: Listener) => { state.permissionRequest = fn; },
      setPermissionCheckHandler: (fn: Listener) => { state.permissionCheck = fn; },
      setDevicePermissionHandler: () => undefined,
    },
  };
  return { state, module: {
    app, BrowserWindow, session,
    Menu: { buildFromTemplate: (t: unknown[]) => { state.menu = t; return t; }, setApplicationMenu: () => undefined },
    ipcMain: { handle: (c: string, fn: Listener) => state.ipcHandlers.set(c, fn), removeHandler: (c: string) => state.ipcHandlers.delete(c) },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => state.schemes.push(...s),
      handle: (scheme: string, fn: (req: { url: string }) => Promise<Response>) => state.protocolHandlers.set(scheme, fn),
    },
    shell: {
      openExternal: async (url: string) => { state.externalOpened.push(url); },
      showItemInFolder: () => undefined, openPath: async () => '',
      trashItem: async (path: string) => { state.trashed.push(path); },
    },
    dialog: {
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
      showMessageBox: async (...args: unknown[]) => { state.messageBoxes.push(args.at(-1) as Record<string, unknown>); return { response: state.messageBoxResponse }; },
    },
  } };
});

vi.mock('electron', () => ({ ...fake.module, default: fake.module }));

const { state } = fake;
const argv = process.argv;
const trusted = { senderFrame: { url: 'app://kenv/index.html', parent: null } };
const invoke = (event: unknown, channel: string, payload: unknown) => state.ipcHandlers.get(IPC_INVOKE)!(event, channel, payload);

// Files the OS hands over must exist: the main process grants their real paths, and drops the rest.
const home = realpathSync(mkdtempSync(join(tmpdir(), 'kenv-main-home-')));
const launched = join(home, 'launched.kenv');
const early = join(home, 'early.kenv');
const second = join(home, 'second copy.kenv');
for (const f of [launched, early, second]) writeFileSync(f, 'sealed');

// The import transforms the main process's whole module graph (the AWS SDK clients among it): 15-43 s at a load of
// 12-18 on 2 cores, and once past the 60 s hook default.
beforeAll(async () => {
  state.userData = mkdtempSync(join(tmpdir(), 'kenv-main-'));
  process.argv = ['/usr/bin/electron', '.', launched, '--some-chromium-flag'];
  await import('../../../../electron/main/index.js');
}, timeLimit(180_000));

afterAll(() => {
  process.argv = argv;
});

// The steps of one app launch, against one imported module: before ready, then once ready. They keep their order
// when npm test shuffles (the file itself is shuffled with the rest).
describe('electron/main, one launch', { shuffle: false }, () => {
describe('electron/main before ready', () => {
  it('listens for open-file (macOS double-click) and second-instance before the app is ready', () => {
    expect(state.readyResolved).toBe(false);
    expect(state.appListeners.has('open-file')).toBe(true);
    expect(state.appListeners.has('second-instance')).toBe(true);
    expect(state.schemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(state.sandboxEnabled).toBe(true);
  });

  it('queues a file opened before ready', () => {
    let prevented = false;
    fake.module.app.emit('open-file', { preventDefault: () => { prevented = true; } }, early);
    expect(prevented).toBe(true);
  });
});

describe('electron/main once ready', () => {
  beforeAll(async () => {
    state.resolveReady();
    // vi.waitFor's own limit is 1 s, a fixed wait for work (loading the app's modules, its settings) that a loaded
    // machine takes longer over; the same 30 s as expect.poll's (vitest.config.ts).
    await vi.waitFor(() => expect(state.windows).toHaveLength(1), { timeout: 30_000 });
  });

  it('opens one hardened window on the app scheme with the bundled preload', () => {
    const [win] = state.windows;
    expect(win!.url).toBe('app://kenv/index.html');
    expect(win!.options.webPreferences).toMatchObject({
      contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
      preload: expect.stringMatching(/out[\\/]electron-app[\\/]preload\.cjs$/),
    });
  });

  it('blocks navigation away from the app, new windows and webviews', () => {
    const contents = state.windows[0]!.contents;
    let prevented = 0;
    contents.emit('will-navigate', { preventDefault: () => prevented++ }, 'https://evil.example/');
    contents.emit('will-navigate', { preventDefault: () => prevented++ }, 'file:///etc/passwd');
    contents.emit('will-attach-webview', { preventDefault: () => prevented++ });
    expect(prevented).toBe(3);
    contents.emit('will-navigate', { preventDefault: () => prevented++ }, 'app://kenv/index.html');
    expect(prevented).toBe(3);
    expect(contents.openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });

  it('sets the application menu: Edit, and View because this runs from source', () => {
    expect(state.menu).toContainEqual({ role: 'editMenu' });
    expect(state.menu).toContainEqual({ role: 'viewMenu' });
  });

  it('denies every permission request and check, whatever the permission', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'fullscreen', 'openExternal', 'unknown']) {
      let granted: boolean | undefined;
      state.permissionRequest!(null, permission, (ok: boolean) => { granted = ok; });
      expect(granted, permission).toBe(false);
      expect(state.permissionCheck!(null, permission), permission).toBe(false);
    }
  });

  it('serves only the renderer folder on app://kenv/', async () => {
    const handler = state.protocolHandlers.get('app')!;
    expect((await handler({ url: 'app://kenv/..%2F..%2Fpackage.json' })).status).toBe(404);
    expect((await handler({ url: 'app://other/index.html' })).status).toBe(404);
  });

  it('registers IPC behind the sender check', async () => {
    expect(await invoke({ senderFrame: { url: 'https://evil.example/', parent: null } }, 'settings:get', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(await invoke(trusted, 'settings:get', { extra: true })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await invoke(trusted, 'settings:get', {})).toMatchObject({ ok: true, value: { deletePlaintextAfterEncrypt: false } });
  });

  it('hands the renderer the files of the first launch and of open-file, then forwards second-instance launches', async () => {
    expect(await invoke(trusted, 'app:takeOpenedFiles', {})).toEqual({ ok: true, value: [launched, early] });
    fake.module.app.emit('second-instance', {}, ['/opt/Kenv/kenv', '.', `file://${home}/second%20copy.kenv`, join(home, 'gone.kenv')], home);
    await vi.waitFor(() => expect(state.sent).toContainEqual({ channel: IPC_EVENT, message: { event: 'files:opened', payload: [second] } }), { timeout: 30_000 });
    // What the OS handed over is granted; its neighbours are not.
    expect(await invoke(trusted, 'files:plan', { paths: [second] })).toMatchObject({ ok: true, value: [{ path: second, direction: 'decrypt' }] });
    expect(await invoke(trusted, 'files:plan', { paths: [home] })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });

  it("grants dropped paths only through the preload's drop message, from the app's top frame", async () => {
    const dropped = join(home, 'dropped');
    mkdirSync(dropped);
    writeFileSync(join(dropped, 'a.txt'), 'a');
    const drop = state.ipcHandlers.get(IPC_DROP)!;
    expect(await drop({ senderFrame: { url: 'https://evil.example/', parent: null } }, [dropped])).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(await invoke(trusted, 'files:plan', { paths: [dropped] })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    expect(await drop(trusted, [dropped])).toEqual({ ok: true, value: [dropped] });
    expect(await invoke(trusted, 'files:plan', { paths: [dropped] })).toMatchObject({ ok: true, value: [{ path: join(dropped, 'a.txt') }] });
  });

  it('opens in the browser only the documentation pages listed in the main process', () => {
    const contents = state.windows[0]!.contents;
    for (const url of ['https://evil.example/?k=1', 'smb://attacker/share', 'file:///etc/passwd', `${DOCUMENTATION_URLS[0]}?x`]) {
      expect(contents.openHandler!({ url })).toEqual({ action: 'deny' });
    }
    expect(state.externalOpened).toEqual([]);
    expect(contents.openHandler!({ url: DOCUMENTATION_URLS[0] })).toEqual({ action: 'deny' });
    expect(state.externalOpened).toEqual([DOCUMENTATION_URLS[0]]);
  });
});

describe('electronShell', () => {
  it('confirms with a native dialog whose default and Escape answer is Cancel', async () => {
    const { electronShell } = await import('../../../../electron/main/shell.js');
    const shell = electronShell(() => undefined);
    const question = { title: 'Replace file', message: 'Replace report.txt?', detail: '/home/ada/report.txt already exists.', confirmLabel: 'Replace' };
    state.messageBoxResponse = 0;
    expect(await shell.confirm(question)).toBe(false);
    state.messageBoxResponse = 1;
    expect(await shell.confirm(question)).toBe(true);
    expect(state.messageBoxes[0]).toMatchObject({ message: 'Replace report.txt?', detail: '/home/ada/report.txt already exists.', buttons: ['Cancel', 'Replace'], defaultId: 0, cancelId: 0 });
  });

  it('moves files to the OS trash', async () => {
    const { electronShell } = await import('../../../../electron/main/shell.js');
    await electronShell(() => undefined).trashItem('/home/ada/plain.txt');
    expect(state.trashed).toEqual(['/home/ada/plain.txt']);
  });
});
});
