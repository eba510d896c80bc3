/**
 * The Electron main process: app lifecycle, the one window, file association, IPC registration. Thin: everything
 * else lives in electron/core/app and is wired here once.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, Menu, type MenuItemConstructorOptions, session, shell as electronShellApi } from 'electron';
import { IPC_EVENT } from '../../shared/ipc.js';
import { DataKeyCache } from '../core/kms/data-key-cache.js';
import { Grants } from '../core/app/grants.js';
import { registerHandlers } from '../core/app/handlers.js';
import { awsIdentityService } from '../core/app/aws-identity.js';
import { OsKeychain } from '../core/keychain/keychain.js';
import { isAppUrl, registerIpc } from '../core/app/ipc-wrapper.js';
import { JobQueue } from '../core/app/jobs.js';
import { kmsKeyCatalogue } from '../core/app/key-catalogue.js';
import { filesFromArgv, OpenRequests } from '../core/app/open-requests.js';
import { PrivateOpens } from '../core/app/private-open.js';
import { HandlerRegistry } from '../core/app/registry.js';
import type { EventSink } from '../core/app/services.js';
import { SettingsStore } from '../core/app/settings-store.js';
import { coreVault } from '../core/app/vault.js';
import { VaultSyncService } from '../core/app/vault-sync-service.js';
import { defaultKmsClientFactory, type KmsClientFactory } from '../core/kms/client.js';
import { startPartialJournal } from '../core/partials.js';
import { registerAppScheme, serveRenderer } from './protocol.js';
import { electronShell } from './shell.js';
import { createMainWindow, denyAllPermissions, harden } from './window.js';
import { trustedAccountsOf } from '../core/kms/trust.js';

// out/electron/main/index.js → the repository (or app.asar) root.
const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// What the user handed over in this session (drops, dialogs, OS opens, finished jobs): the page may touch nothing else.
const grants = new Grants();
const openRequests = new OpenRequests(grants);
let mainWindow: BrowserWindow | undefined;

function focusWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

// macOS delivers double-clicked files through open-file, possibly before `ready`: listen from the first tick.
app.on('open-file', (event, path) => {
  event.preventDefault();
  void openRequests.add([path]);
  focusWindow();
});
app.on('open-url', (event, url) => {
  event.preventDefault();
  void openRequests.add([url]);
  focusWindow();
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // A second launch (double-click while running on Windows and Linux) hands its files to this instance.
  app.on('second-instance', (_event, argv, cwd) => {
    void openRequests.add(filesFromArgv(argv, { packaged: app.isPackaged, cwd }));
    focusWindow();
  });
  void openRequests.add(filesFromArgv(process.argv, { packaged: app.isPackaged, cwd: process.cwd() }));
  registerAppScheme();
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => harden(contents));
  void app.whenReady().then(start);
}

/** File, Edit and Window menus; the View menu (reload, developer tools) only when running from source. */
function appMenu(): Menu {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' } as const] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    ...(app.isPackaged ? [] : [{ role: 'viewMenu' } as const]),
    { role: 'windowMenu' },
  ];
  return Menu.buildFromTemplate(template);
}

async function start(): Promise<void> {
  // Partials (possibly plaintext) a crash or power loss of an earlier run left in the folders it wrote to.
  await startPartialJournal(join(app.getPath('userData'), 'partial-folders.jsonl'));
  Menu.setApplicationMenu(appMenu());
  denyAllPermissions(session.defaultSession);
  serveRenderer(join(appRoot, 'renderer-dist'));

  // undefined: the AWS CLI's choice (AWS_PROFILE, the default profile, or the environment's keys).
  let profile: string | undefined;
  let clients: KmsClientFactory = defaultKmsClientFactory();
  const events: EventSink = {
    emit(event, payload) {
      if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT, { event, payload });
    },
  };
  const settings = SettingsStore.inFolder(app.getPath('userData'));
  const cache = new DataKeyCache(async () => (await settings.get()).cache);
  const vault = coreVault(() => clients, {
    cache,
    maxDataKeys: async () => (await settings.get()).maxDataKeys,
    trust: async () => trustedAccountsOf({ profile, listed: (await settings.get()).trustedAccounts ?? [] }),
  });
  const shell = electronShell(() => mainWindow);
  const jobs = new JobQueue(vault, events, { grants, trash: (path) => shell.trashItem(path) });
  const privateOpens = new PrivateOpens(vault, shell, events, app.getPath('temp'));
  // Plaintext of "Open without saving" from a run that crashed or was killed: wiped before anything else opens.
  await privateOpens.sweepLeftovers();
  const vaults = new VaultSyncService({
    settings,
    events,
    // The mass-deletion guard's override is confirmed here, outside the page.
    confirmDeletions: (message) => shell.confirm({
      title: 'Allow these deletions once?', message: 'Sync stopped before deleting many files.', detail: message, confirmLabel: 'Delete them',
    }),
    // A binding without its own profile uses the identity bar's, and follows it (see identity:useProfile).
    identityProfile: async () => profile ?? null,
    trash: (path) => shell.trashItem(path),
  });
  const registry = new HandlerRegistry();
  registerHandlers(registry, {
    vault,
    identity: awsIdentityService({
      profile: () => profile,
      setProfile: (name) => {
        profile = name;
        clients = defaultKmsClientFactory(profile ? { profile } : {});
        cache.clear();
      },
      // The sign-in URL is built here in the main process from the AWS config, never taken from the page.
      openBrowser: (url) => electronShellApi.openExternal(url), /* eng-disable OPEN_EXTERNAL_JS_CHECK */
      // The same keychain item the CLI's `kenv login` uses: one RegisterClient, reused until it nears expiry.
      registrations: new OsKeychain(),
    }),
    keys: kmsKeyCatalogue(() => clients),
    shell,
    settings,
    jobs,
    openRequests,
    privateOpens,
    events,
    vaults,
    grants,
  });
  registerIpc(ipcMain, registry, { isTrustedUrl: isAppUrl, grants });

  mainWindow = createMainWindow({ preload: join(appRoot, 'out', 'electron-app', 'preload.cjs') });
  mainWindow.on('closed', () => {
    mainWindow = undefined;
  });
  // A saved binding resumes in the background; one that cannot start shows its error in the vault panel.
  void vaults.start().catch(() => undefined);
  app.on('before-quit', () => {
    jobs.cancelAll();
    privateOpens.closeAll();
    cache.clear();
    void vaults.dispose();
  });
  app.on('window-all-closed', () => app.quit());
}
