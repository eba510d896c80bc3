import type { SecretStore } from '../../electron/core/keychain/keychain.js';

/** An in-memory SecretStore for tests that are about something other than the OS keychain. */
export class MemorySecretStore implements SecretStore {
  readonly items = new Map<string, string>();
  async get(name: string): Promise<string | undefined> {
    return this.items.get(name);
  }
  async set(name: string, value: string): Promise<void> {
    this.items.set(name, value);
  }
  async delete(name: string): Promise<boolean> {
    return this.items.delete(name);
  }
}
