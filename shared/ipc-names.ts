/**
 * The names the preload needs, without the schemas (the sandboxed preload bundle stays free of zod).
 */
export const IPC_INVOKE = 'kenv:invoke';
export const IPC_EVENT = 'kenv:event';
export const EVENT_NAMES = ['jobs:changed', 'files:opened', 'identity:changed', 'private:changed',
  // The vault panel (issue 5).
  'vault:status'] as const;
