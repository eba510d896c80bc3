import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring';
import { KenvError } from '../errors.js';

/** A place for small secrets Kenv keeps for itself (SSO client registrations, a local raw-AES key). */
export interface SecretStore {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  /** True when there was a secret to delete. */
  delete(name: string): Promise<boolean>;
}

/** The keychain service name Kenv's items are stored under. */
export const KEYCHAIN_SERVICE = 'dev.kenv';

/**
 * The OS keychain through @napi-rs/keyring: macOS Keychain, Windows Credential Manager, the Secret Service on Linux.
 *
 * On Linux the store is pinned to the Secret Service (gnome-keyring, KWallet): without the pin the library falls
 * back to the kernel keyring, which forgets everything at logout and fails with a vague AccessDenied. Every failure
 * is a KenvError KEYCHAIN_UNAVAILABLE naming what to install or unlock.
 */
export class OsKeychain implements SecretStore {
  constructor(readonly service: string = KEYCHAIN_SERVICE) {}

  async get(name: string): Promise<string | undefined> {
    try {
      return (await this.entry(name).getPassword()) ?? undefined;
    } catch (e) {
      throw unavailable(e, 'read');
    }
  }

  async set(name: string, value: string): Promise<void> {
    try {
      await this.entry(name).setPassword(value);
    } catch (e) {
      throw unavailable(e, 'write');
    }
  }

  async delete(name: string): Promise<boolean> {
    try {
      return await this.entry(name).deletePassword();
    } catch (e) {
      if (/no (matching )?entry|not found/i.test(String((e as Error)?.message))) return false;
      throw unavailable(e, 'delete');
    }
  }

  /** The names of every item under this service. */
  async list(): Promise<string[]> {
    try {
      return (await findCredentialsAsync(this.service)).map((c) => c.account).sort();
    } catch (e) {
      throw unavailable(e, 'list');
    }
  }

  private entry(name: string): AsyncEntry {
    return new AsyncEntry(this.service, name, { linux: { store: 'secret-service' } });
  }
}

/**
 * Whether the OS keychain answers: writes, reads back and deletes a probe item.
 *
 * Resolves to undefined when it works, else to the KenvError saying why.
 */
export async function probeKeychain(store: SecretStore = new OsKeychain()): Promise<KenvError | undefined> {
  const name = `probe-${process.pid}-${Date.now()}`;
  try {
    await store.set(name, 'ok');
    const back = await store.get(name);
    await store.delete(name);
    return back === 'ok' ? undefined : new KenvError('KEYCHAIN_UNAVAILABLE', 'The OS keychain did not return what Kenv stored in it.');
  } catch (e) {
    return e instanceof KenvError ? e : unavailable(e, 'write');
  }
}

function unavailable(e: unknown, action: string): KenvError {
  const detail = e instanceof Error ? e.message : String(e);
  const hint = process.platform === 'linux'
    ? 'Kenv needs a running, unlocked Secret Service (GNOME Keyring or KWallet) on the session D-Bus'
    : 'Unlock the keychain and allow Kenv to use it';
  return new KenvError('KEYCHAIN_UNAVAILABLE', `Kenv could not ${action} the OS keychain (${detail}). ${hint}, then retry.`, { cause: e });
}
