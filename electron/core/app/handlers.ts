import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Settings } from '../../../shared/ipc.js';
import { KenvError } from '../errors.js';
import type { JobQueue } from './jobs.js';
import type { OpenRequests } from './open-requests.js';
import type { PrivateOpens } from './private-open.js';
import { planFiles } from './plan.js';
import type { HandlerRegistry } from './registry.js';
import type { DesktopShell, EventSink, IdentityService, KeyCatalogue, VaultOps } from './services.js';
import type { SettingsStore } from './settings-store.js';
import { registerProofHandlers } from './proof.js';
import { registerVaultHandlers, withoutVaultBinding } from './vault-handlers.js';
import type { VaultSyncService } from './vault-sync-service.js';

/** Everything the handlers use, wired once by the Electron shell or the test bridge. */
export interface AppServices {
  vault: VaultOps;
  identity: IdentityService;
  keys: KeyCatalogue;
  shell: DesktopShell;
  settings: SettingsStore;
  jobs: JobQueue;
  openRequests: OpenRequests;
  privateOpens: PrivateOpens;
  events: EventSink;
  /** The vault panel's folder ↔ S3 binding (issue 5). */
  vaults: VaultSyncService;
}

/**
 * Registers every channel of the contract on `registry`.
 *
 * The same function serves Electron (through `registerIpc`) and the WebSocket bridge of the end-to-end tests, so the
 * browser tests exercise exactly the handlers the app ships.
 */
export function registerHandlers(registry: HandlerRegistry, s: AppServices): void {
  registry.handle('app:takeOpenedFiles', async () => s.openRequests.take(s.events));

  registry.handle('identity:get', () => s.identity.current());
  registry.handle('identity:useProfile', async ({ profile }) => {
    const identity = await s.identity.useProfile(profile);
    s.events.emit('identity:changed', identity);
    return identity;
  });
  registry.handle('identity:signIn', async () => {
    const identity = await s.identity.signIn();
    s.events.emit('identity:changed', identity);
    return identity;
  });

  registry.handle('keys:list', () => s.keys.list());

  registry.handle('files:plan', ({ paths }) => planFiles(paths));
  registry.handle('files:inspect', async ({ path }) => {
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new KenvError('INPUT_NOT_FOUND', `${basename(path)} no longer exists at ${path}. Check the file and open it again.`);
    }
    const info = await s.vault.inspectFile(path);
    return { ...info, path, name: basename(path), size };
  });

  registry.handle('jobs:start', async ({ files, keyIds, outDir }) => {
    const settings = await s.settings.get();
    const encrypting = files.some((f) => f.direction === 'encrypt');
    const keys = keyIds.length > 0 ? keyIds : settings.defaultKeyIds;
    if (encrypting && keys.length === 0) {
      throw new KenvError('INVALID_KEY', 'Choose a KMS key to encrypt with, then start again.');
    }
    if (encrypting && keyIds[0] && keyIds[0] !== settings.lastKeyId) await s.settings.update({ lastKeyId: keyIds[0] });
    const target = outDir ?? outputFolder(settings);
    const context = Object.fromEntries(settings.context.map((p) => [p.key, p.value]));
    return s.jobs.start(files.map((f) => ({
      path: f.path, direction: f.direction, keyIds: keys, context, outDir: target,
      deletePlaintext: f.direction === 'encrypt' && settings.deletePlaintextAfterEncrypt,
      fileId: settings.fileId !== false,
    })));
  });
  registry.handle('jobs:cancel', async (target) => {
    s.jobs.cancel(target);
    return null;
  });
  registry.handle('jobs:retry', async ({ jobId, replace }) => s.jobs.retry(jobId, { replace: replace === true }));
  registry.handle('jobs:list', async () => s.jobs.list());

  registry.handle('private:open', ({ path }) => s.privateOpens.open(path));
  registry.handle('private:reencrypt', ({ id }) => s.privateOpens.reencrypt(id));
  registry.handle('private:close', async ({ id }) => {
    s.privateOpens.close(id);
    return null;
  });
  registry.handle('private:list', async () => s.privateOpens.list());

  // A compromised renderer must not be able to open arbitrary paths (opening can mean executing), so the shell
  // actions accept only files that a job read or wrote.
  registry.handle('shell:showInFolder', async ({ path }) => {
    allowOnlyJobFiles(s, path);
    await s.shell.showInFolder(path);
    return null;
  });
  registry.handle('shell:openPath', async ({ path }) => {
    allowOnlyJobFiles(s, path);
    await s.shell.openPath(path);
    return null;
  });

  registry.handle('dialog:chooseFiles', () => s.shell.chooseFiles());
  registry.handle('dialog:chooseFolder', () => s.shell.chooseFolder());

  registry.handle('settings:get', () => s.settings.get());
  registry.handle('settings:update', (patch) => s.settings.update(withoutVaultBinding(patch)));

  registerVaultHandlers(registry, s.vaults);
  registerProofHandlers(registry, s.vault, s.vaults);
}

function outputFolder(settings: Settings): string | undefined {
  return settings.outputLocation === 'vault-folder' && settings.vaultFolder ? settings.vaultFolder : undefined;
}

function allowOnlyJobFiles(s: AppServices, path: string): void {
  if (!s.jobs.knows(path) && !s.privateOpens.knows(path)) {
    throw new KenvError('NOT_ALLOWED', `Kenv only opens files it encrypted or decrypted in this session, and ${basename(path)} is not one of them.`);
  }
}
