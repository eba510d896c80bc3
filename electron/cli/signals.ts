import { removeLivePartialsSync } from '../core/partials.js';

/**
 * On SIGINT and SIGTERM, removes the partial outputs this process is writing (they may hold plaintext decrypted so
 * far), then exits 130 or 143 (128 + the signal's number, as shells report it).
 *
 * A command that handles the signal itself (`local-kms`, `sync --watch`) stops its own way, its outputs aborted by
 * its own code: this handler then does nothing.
 */
export function removePartialsOnSignals(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      removeLivePartialsSync();
      process.exit(code);
    });
  }
}
