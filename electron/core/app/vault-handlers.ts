import { basename } from 'node:path';
import type { Job, Settings } from '../../../shared/ipc.js';
import type { VaultState } from '../../../shared/vault.js';
import { KenvError } from '../errors.js';
import type { AppServices } from './handlers.js';
import type { HandlerRegistry } from './registry.js';

/**
 * Registers the vault panel's channels (`vault:*`) on `registry`.
 *
 * Choosing the folder is not here: the panel uses `dialog:chooseFolder` like the rest of the app, then sends the
 * path with `vault:bind`, whose schema validates the S3 location, profile and Region. Only a folder that dialog
 * returned is accepted (`grants`): the page cannot bind, and so sync or fill, a folder of its choosing.
 *
 * The channels that name a file of the vault (`vault:reveal`, `vault:resolveConflict`) take a path relative to the
 * bound folder and are checked against it (no climbing out, no following links out); resolving a conflict also
 * only acts on a conflict the service itself kept. Unbinding, resolving a conflict and encrypting the plaintext
 * found in the folder ask the person natively first.
 */
export function registerVaultHandlers(registry: HandlerRegistry, s: AppServices): void {
  const { vaults, grants, shell } = s;
  registry.handle('vault:get', () => vaults.current());
  registry.handle('vault:bind', async (request) => vaults.bind({ ...request, folder: await grants.require(request.folder, 'vault-folder') }));
  registry.handle('vault:unbind', async () => {
    const binding = (await vaults.current()).binding;
    if (!binding) return vaults.unbind();
    const yes = await shell.confirm({
      title: 'Unbind vault',
      message: `Stop syncing ${basename(binding.folder)} with ${binding.remote}?`,
      detail: `${binding.folder} and ${binding.remote} are left as they are; nothing is deleted. Kenv stops syncing them until you bind a folder again.`,
      confirmLabel: 'Unbind',
    });
    return yes ? vaults.unbind() : vaults.current();
  });
  registry.handle('vault:syncNow', () => vaults.syncNow());
  registry.handle('vault:pause', () => vaults.pause());
  registry.handle('vault:resume', () => vaults.resume());
  registry.handle('vault:allowDeletions', () => vaults.allowDeletions());
  registry.handle('vault:reveal', async ({ path }) => {
    await shell.showInFolder(await vaults.locate(path));
    return null;
  });
  registry.handle('vault:resolveConflict', async ({ path, keep }): Promise<VaultState> => {
    const conflict = vaults.conflict(path);
    const [kept, gone] = keep === 'this' ? [conflict.path, conflict.conflictCopy] : [conflict.conflictCopy, conflict.path];
    const yes = await shell.confirm({
      title: 'Resolve conflict',
      message: keep === 'this' ? `Keep the version of ${conflict.path} on this computer?` : `Keep the other version of ${conflict.path}?`,
      detail: `${kept} is kept${keep === 'other' ? ` as ${conflict.path}` : ''}; ${gone} goes to the trash, and the bucket follows at the next sync.`,
      confirmLabel: 'Keep this version',
    });
    if (!yes) return vaults.current();
    return vaults.resolveConflict(path, keep);
  });
  registry.handle('vault:encryptPlaintext', async ({ keyIds }): Promise<Job[]> => {
    const plain = await vaults.plaintextFiles();
    if (plain.length === 0) throw new KenvError('INVALID_ARGUMENT', 'The vault folder holds no plaintext files to encrypt.');
    const yes = await shell.confirm({
      title: 'Encrypt plaintext in the vault',
      message: plain.length === 1 ? `Encrypt ${basename(plain[0]!)} in the vault folder?` : `Encrypt ${plain.length} plaintext files in the vault folder?`,
      detail: `Each is encrypted to a .kenv beside it, which then syncs. Once a .kenv reads back, its original goes to the trash.\n\n${plain.slice(0, 10).join('\n')}${plain.length > 10 ? `\nand ${plain.length - 10} more` : ''}`,
      confirmLabel: 'Encrypt',
    });
    if (!yes) return [];
    const settings = await s.settings.get();
    const context = Object.fromEntries(settings.context.map((p) => [p.key, p.value]));
    const started = s.jobs.start(plain.map((path) => ({
      path, direction: 'encrypt' as const, keyIds, context, outDir: undefined, deletePlaintext: true, fileId: settings.fileId !== false,
    })));
    // The new .kenv files sync (or, paused, show as waiting) once the batch is done.
    void s.jobs.whenIdle().then(() => vaults.refresh());
    return started;
  });
}

/**
 * A settings patch without the vault binding.
 *
 * Only the `vault:*` channels change the binding: the settings dialog sends back every field it loaded, and a stale
 * copy must neither undo a bind nor bind a folder without the service starting its sync.
 */
export function withoutVaultBinding(patch: Partial<Settings>): Partial<Settings> {
  const rest = { ...patch };
  delete rest.vaultBinding;
  return rest;
}
