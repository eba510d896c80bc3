import { mkdtempSync } from 'node:fs';
import { mkdtemp, realpath, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { EventMap, EventName, Identity } from '../../shared/ipc.js';
import { KenvError } from '../../electron/core/errors.js';
import { type AppServices, registerHandlers } from '../../electron/core/app/handlers.js';
import { Grants } from '../../electron/core/app/grants.js';
import { JobQueue } from '../../electron/core/app/jobs.js';
import { OpenRequests } from '../../electron/core/app/open-requests.js';
import { PrivateOpens } from '../../electron/core/app/private-open.js';
import { HandlerRegistry } from '../../electron/core/app/registry.js';
import type { Confirmation, DesktopShell, VaultOps } from '../../electron/core/app/services.js';
import { SettingsStore } from '../../electron/core/app/settings-store.js';
import { VaultSyncService } from '../../electron/core/app/vault-sync-service.js';

/** Records every event, for assertions. */
export class RecordingSink {
  readonly events: { event: EventName; payload: unknown }[] = [];
  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    this.events.push({ event, payload });
  }
}

export const SIGNED_IN: Identity = {
  profile: 'dev', profiles: [{ name: 'dev', sso: false }], region: 'eu-west-1', account: '111122223333',
  arn: 'arn:aws:iam::111122223333:user/ada', role: null, sso: false, status: 'signed-in', error: null,
};

/**
 * A vault that records calls and writes `<input>.kenv` / strips `.kenv`, for handler tests that are about routing
 * and validation, not crypto (the core's own tests cover that).
 */
export function recordingVault(): VaultOps & { calls: { op: string; path: string; opts?: unknown }[] } {
  const calls: { op: string; path: string; opts?: unknown }[] = [];
  return {
    calls,
    async encryptFile(path, opts) {
      calls.push({ op: 'encrypt', path, opts: { keyIds: opts.keyIds, context: opts.context, outDir: opts.outDir } });
      opts.onProgress({ bytesDone: 1, bytesTotal: 1 });
      const outputPath = `${path}.kenv`;
      await writeFile(outputPath, 'sealed');
      return { outputPath, bytesIn: 1, bytesOut: 6 };
    },
    async decryptFile(path, opts) {
      calls.push({ op: 'decrypt', path, opts: { outDir: opts.outDir } });
      if (path.includes('tampered')) throw new KenvError('FRAME_TAMPERED', 'Frame 1 failed authentication: the file was changed after it was encrypted. Restore it from a backup.');
      return { outputPath: path.replace(/\.kenv$/i, ''), bytesOut: 1 };
    },
    async inspectFile(path) {
      calls.push({ op: 'inspect', path });
      return { suiteId: 0x0478, suiteName: 'AES-256-GCM, HKDF-SHA512, key commitment', signed: false, messageId: '00', encryptionContext: {}, keys: [], frameLength: 4096 };
    },
  };
}

/**
 * The desktop shell for tests: records what it opened and what it asked, answers confirmations with `answer`
 * (no, unless a test says yes), and "trashes" by moving the file into its own trash folder.
 */
export function recordingShell(opts: { trashDir?: string } = {}): DesktopShell & { opened: string[]; asked: Confirmation[]; answer: boolean; trashed: string[]; trashDir: () => string } {
  let trashDir = opts.trashDir;
  const shell = {
    opened: [] as string[],
    asked: [] as Confirmation[],
    answer: false,
    trashed: [] as string[],
    trashDir: () => (trashDir ??= mkdtempSync(join(tmpdir(), 'kenv-trash-'))),
    async showInFolder(path: string) { shell.opened.push(`show:${path}`); },
    async openPath(path: string) { shell.opened.push(`open:${path}`); },
    async chooseFiles(): Promise<string[]> { return []; },
    async chooseFolder(): Promise<string | null> { return null; },
    async confirm(question: Confirmation) {
      shell.asked.push(question);
      return shell.answer;
    },
    async trashItem(path: string) {
      await rename(path, join(shell.trashDir(), `${shell.trashed.length}-${basename(path)}`));
      shell.trashed.push(path);
    },
  };
  return shell;
}

export async function makeApp(overrides: Partial<AppServices> = {}) {
  // Real path: the handlers answer with real paths (grants resolve links), and on some systems tmpdir() is a link.
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'kenv-app-')));
  const events = new RecordingSink();
  const vault = recordingVault();
  const shell = recordingShell();
  const settings = overrides.settings ?? SettingsStore.inFolder(join(dir, 'user-data'));
  const grants = overrides.grants ?? new Grants();
  const services: AppServices = {
    vault,
    identity: { current: async () => SIGNED_IN, useProfile: async () => SIGNED_IN, signIn: async () => SIGNED_IN },
    keys: { list: async () => [] },
    shell,
    settings,
    jobs: new JobQueue(overrides.vault ?? vault, events, { grants, trash: (path) => (overrides.shell ?? shell).trashItem(path) }),
    openRequests: new OpenRequests(grants),
    privateOpens: new PrivateOpens(overrides.vault ?? vault, overrides.shell ?? shell, events, dir),
    events,
    vaults: new VaultSyncService({ settings, events: overrides.events ?? events }),
    grants,
    ...overrides,
  };
  const registry = new HandlerRegistry();
  registerHandlers(registry, services);
  return { dir, registry, services, vault, shell, events, grants };
}
