import type { Settings } from '../../../shared/ipc.js';
import type { Grants } from './grants.js';
import type { HandlerRegistry } from './registry.js';
import type { VaultSyncService } from './vault-sync-service.js';

/**
 * Registers the vault panel's channels (`vault:*`) on `registry`.
 *
 * Choosing the folder is not here: the panel uses `dialog:chooseFolder` like the rest of the app, then sends the
 * path with `vault:bind`, whose schema validates the S3 location, profile and Region. Only a folder that dialog
 * returned is accepted (`grants`): the page cannot bind, and so sync or fill, a folder of its choosing.
 */
export function registerVaultHandlers(registry: HandlerRegistry, vaults: VaultSyncService, grants: Grants): void {
  registry.handle('vault:get', () => vaults.current());
  registry.handle('vault:bind', async (request) => vaults.bind({ ...request, folder: await grants.require(request.folder, 'vault-folder') }));
  registry.handle('vault:unbind', () => vaults.unbind());
  registry.handle('vault:syncNow', () => vaults.syncNow());
  registry.handle('vault:pause', () => vaults.pause());
  registry.handle('vault:resume', () => vaults.resume());
  registry.handle('vault:allowDeletions', () => vaults.allowDeletions());
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
