/**
 * The names the preload needs, without the schemas (the sandboxed preload bundle stays free of zod).
 */
export const IPC_INVOKE = 'kenv:invoke';
export const IPC_EVENT = 'kenv:event';
/** The preload's drop message: paths of dropped `File`s, from `webUtils.getPathForFile`. Not reachable via `invoke`. */
export const IPC_DROP = 'kenv:drop';
export const EVENT_NAMES = ['jobs:changed', 'files:opened', 'identity:changed', 'private:changed',
  // The vault panel (issue 5).
  'vault:status',
  // The vault's live per-file progress (issue 14).
  'vault:progress'] as const;
