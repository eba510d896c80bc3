import { lstat, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Settings } from '../../../shared/ipc.js';
import { KenvError } from '../errors.js';
import { errnoText } from '../atomic-output.js';
import type { Grants } from './grants.js';
import type { JobQueue } from './jobs.js';
import type { OpenRequests } from './open-requests.js';
import type { PrivateOpens } from './private-open.js';
import { planFiles } from './plan.js';
import type { HandlerRegistry } from './registry.js';
import type { DesktopShell, EventSink, IdentityService, KeyCatalogue, VaultOps } from './services.js';
import type { SettingsStore } from './settings-store.js';
import { registerProofHandlers } from './proof.js';
import { registerRecipientHandlers } from './recipient-handlers.js';
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
  /** What the user handed over in this session; every path from the page is checked against it first. */
  grants: Grants;
}

/**
 * Registers every channel of the contract on `registry`.
 *
 * The same function serves Electron (through `registerIpc`) and the WebSocket bridge of the end-to-end tests, so the
 * browser tests exercise exactly the handlers the app ships.
 *
 * The page is treated as compromised: every path it sends must be covered by `s.grants` (drops, dialogs, OS opens,
 * finished jobs), replacing a file and turning on "delete originals" need a native confirmation, and the vault
 * folder can only come from a folder dialog.
 */
export function registerHandlers(registry: HandlerRegistry, s: AppServices): void {
  registry.handle('app:takeOpenedFiles', async () => s.openRequests.take(s.events));

  registry.handle('identity:get', () => s.identity.current());
  registry.handle('identity:useProfile', async ({ profile }) => {
    const identity = await s.identity.useProfile(profile);
    s.events.emit('identity:changed', identity);
    // A vault binding without a profile of its own follows the identity bar.
    void s.vaults.followIdentity().catch(() => undefined);
    return identity;
  });
  registry.handle('identity:signIn', async () => {
    const identity = await s.identity.signIn();
    s.events.emit('identity:changed', identity);
    void s.vaults.followIdentity().catch(() => undefined);
    return identity;
  });

  registry.handle('keys:list', () => s.keys.list());
  registry.handle('keys:exportRecipient', async ({ keyArn }) => {
    if (!s.keys.recipientFile || !s.shell.chooseSaveFile) throw new KenvError('NOT_ALLOWED', 'This build cannot export recipient files.');
    // Fetch first: a symmetric or signing key fails here, before a save dialog is shown for nothing.
    const text = await s.keys.recipientFile(keyArn);
    const path = await s.shell.chooseSaveFile('Save the recipient file', `${keyArn.slice(keyArn.lastIndexOf('/') + 1)}.recipient`);
    if (!path) return null;
    try {
      await writeFile(path, text, { mode: 0o644 });
    } catch (e) {
      throw new KenvError('OUTPUT_FAILED', `Cannot write the recipient file ${path}: ${errnoText(e)}.`, { cause: e });
    }
    return { path };
  });

  registry.handle('files:plan', async ({ paths }) => planFiles(await requireAll(s.grants, paths, 'read')));
  registry.handle('files:inspect', async (request) => {
    const path = await s.grants.require(request.path, 'read');
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
    const inputs = await requireAll(s.grants, files.map((f) => f.path), 'read');
    const chosenOutDir = outDir === null ? undefined : await s.grants.require(outDir, 'write-into');
    const settings = await s.settings.get();
    const encrypting = files.some((f) => f.direction === 'encrypt');
    const keys = keyIds.length > 0 ? keyIds : settings.defaultKeyIds;
    if (encrypting && keys.length === 0) {
      throw new KenvError('INVALID_KEY', 'Choose a KMS key to encrypt with, then start again.');
    }
    if (encrypting && keyIds[0] && keyIds[0] !== settings.lastKeyId) await s.settings.update({ lastKeyId: keyIds[0] });
    // The vault folder comes from the settings file, which only a folder dialog (or the user's own editor) sets.
    const target = chosenOutDir ?? outputFolder(settings);
    const context = Object.fromEntries(settings.context.map((p) => [p.key, p.value]));
    return s.jobs.start(files.map((f, i) => ({
      path: inputs[i]!, direction: f.direction, keyIds: keys, context, outDir: target,
      deletePlaintext: f.direction === 'encrypt' && settings.deletePlaintextAfterEncrypt,
      fileId: settings.fileId !== false,
    })));
  });
  registry.handle('jobs:cancel', async (target) => {
    s.jobs.cancel(target);
    return null;
  });
  registry.handle('jobs:retry', async ({ jobId, replace, keepBoth, chooseFolder }) => {
    if (keepBoth === true || chooseFolder === true) {
      const target = s.jobs.replaceTarget(jobId);
      if (target === undefined) throw new KenvError('INVALID_ARGUMENT', 'That file did not stop at an existing file; choose Retry instead.');
      if (keepBoth === true) return s.jobs.retry(jobId, { outputName: await freeName(target) });
      const folder = await s.shell.chooseFolder();
      if (folder === null) throw new KenvError('CANCELLED', 'No folder was chosen; nothing was written.');
      const granted = await s.grants.grant(folder, 'dialog');
      if (granted === undefined) throw new KenvError('NOT_ALLOWED', 'Kenv cannot write into that folder. Choose another one.');
      return s.jobs.retry(jobId, { outDir: granted });
    }
    if (replace === true) {
      const target = s.jobs.replaceTarget(jobId);
      if (target === undefined) return s.jobs.retry(jobId, { replace: true });
      const yes = await s.shell.confirm({
        title: 'Replace file',
        message: `Replace ${basename(target)}?`,
        detail: `${target} already exists. Replacing it overwrites it with the file Kenv is about to write; the current contents are lost.`,
        confirmLabel: 'Replace',
      });
      if (!yes) throw new KenvError('NOT_ALLOWED', `${basename(target)} was not replaced: the replacement was not confirmed. Nothing was changed.`);
    }
    return s.jobs.retry(jobId, { replace: replace === true });
  });
  registry.handle('jobs:list', async () => s.jobs.list());
  registry.handle('jobs:clearFinished', async () => s.jobs.clearFinished());

  registry.handle('private:open', async ({ path }) => s.privateOpens.open(await s.grants.require(path, 'read')));
  registry.handle('private:reencrypt', ({ id }) => s.privateOpens.reencrypt(id));
  registry.handle('private:close', async ({ id }) => {
    s.privateOpens.close(id);
    return null;
  });
  registry.handle('private:list', async () => s.privateOpens.list());

  // Opening can mean executing, so the OS default app gets only what a job wrote in this session or a file opened
  // privately; showing in the file manager works for anything the user handed over.
  registry.handle('shell:showInFolder', async ({ path }) => {
    await s.shell.showInFolder(s.privateOpens.knows(path) ? path : await s.grants.require(path, 'read'));
    return null;
  });
  registry.handle('shell:openPath', async ({ path }) => {
    await s.shell.openPath(s.privateOpens.knows(path) ? path : await s.grants.require(path, 'open-with-os'));
    return null;
  });

  registry.handle('dialog:chooseFiles', async () => {
    const granted: string[] = [];
    for (const path of await s.shell.chooseFiles()) {
      const real = await s.grants.grant(path, 'dialog');
      if (real !== undefined) granted.push(real);
    }
    return granted;
  });
  registry.handle('dialog:chooseFolder', async () => {
    const folder = await s.shell.chooseFolder();
    return folder === null ? null : (await s.grants.grant(folder, 'dialog')) ?? null;
  });

  registry.handle('settings:get', () => s.settings.get());
  registry.handle('settings:update', async (request) => s.settings.update(await checkSettings(s, withoutVaultBinding(request))));

  registerVaultHandlers(registry, s);
  registerProofHandlers(registry, s.vault, s.vaults, s.grants);
  registerRecipientHandlers(registry, s, outputFolder);
}

/** "report.pdf.kenv" taken → "report (2).pdf.kenv", the first name free in the same folder (as Finder does). */
async function freeName(target: string): Promise<string> {
  const name = basename(target);
  const kenv = name.toLowerCase().endsWith('.kenv') ? name.slice(-5) : '';
  const stem = name.slice(0, name.length - kenv.length);
  const ext = extname(stem);
  const base = stem.slice(0, stem.length - ext.length);
  for (let n = 2; n < 1000; n++) {
    const candidate = `${base} (${n})${ext}${kenv}`;
    // Checked again when the output is created (it never replaces), so a race only fails the job.
    if (!(await lstat(join(dirname(target), candidate)).then(() => true, () => false))) return candidate;
  }
  throw new KenvError('OUTPUT_EXISTS', `Every name like ${name} is taken in that folder. Choose another folder.`);
}

function outputFolder(settings: Settings): string | undefined {
  return settings.outputLocation === 'vault-folder' && settings.vaultFolder ? settings.vaultFolder : undefined;
}

async function requireAll(grants: Grants, paths: string[], purpose: 'read'): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) out.push(await grants.require(path, purpose));
  return out;
}

/**
 * The settings a page may change on its own are the harmless ones. A new vault folder must be a folder the user
 * chose in a dialog, and turning on "delete originals after encrypting" needs the user's native confirmation.
 */
async function checkSettings(s: AppServices, patch: Partial<Settings>): Promise<Partial<Settings>> {
  const current = await s.settings.get();
  const checked = { ...patch };
  if (checked.vaultFolder !== undefined && checked.vaultFolder !== null && checked.vaultFolder !== current.vaultFolder) {
    checked.vaultFolder = await s.grants.require(checked.vaultFolder, 'vault-folder');
  }
  if (checked.deletePlaintextAfterEncrypt === true && !current.deletePlaintextAfterEncrypt) {
    const yes = await s.shell.confirm({
      title: 'Move originals to the trash',
      message: 'Move each original file to the trash after encrypting it?',
      detail: 'Once a file\'s .kenv is written and reads back, Kenv moves the original to the trash. Without access to the KMS key, nobody can open the .kenv, not even you.',
      confirmLabel: 'Move originals to the trash',
    });
    if (!yes) throw new KenvError('NOT_ALLOWED', 'Moving originals to the trash stays off: it was not confirmed. The settings were not saved.');
  }
  return checked;
}
