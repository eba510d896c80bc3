import { afterEach, describe, expect, it } from 'vitest';
import { OsKeychain, probeKeychain, type SecretStore } from '../../../electron/core/keychain/keychain.js';

// When the OS keychain cannot be reached or gives back something else, every operation is KEYCHAIN_UNAVAILABLE with
// what it tried and what to start or unlock: never a vague library error, never a silent "not there".

const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
afterEach(() => {
  if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
});

describe('an OS keychain that is not there', () => {
  it('delete and list without a session bus are KEYCHAIN_UNAVAILABLE naming the action and the Secret Service', async () => {
    // No Secret Service answers on this bus: as on a machine without GNOME Keyring or KWallet running.
    process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/kenv-no-bus';
    const keychain = new OsKeychain('dev.kenv.test-unavailable');
    await expect(keychain.delete('sso-client/x')).rejects.toMatchObject({
      code: 'KEYCHAIN_UNAVAILABLE',
      message: expect.stringMatching(/^Kenv could not delete the OS keychain \(.+\)\. Kenv needs a running, unlocked Secret Service \(GNOME Keyring or KWallet\) on the session D-Bus, then retry\.$/),
    });
    await expect(keychain.list()).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE', message: expect.stringMatching(/^Kenv could not list the OS keychain \(/) });
  });
});

describe('probeKeychain', () => {
  it('a keychain that gives back something other than what was stored is KEYCHAIN_UNAVAILABLE saying so', async () => {
    const items = new Map<string, string>();
    const garbling: SecretStore = {
      set: async (name, value) => void items.set(name, `${value}!`),
      get: async (name) => items.get(name),
      delete: async (name) => items.delete(name),
    };
    expect(await probeKeychain(garbling)).toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE', message: 'The OS keychain did not return what Kenv stored in it.' });
    expect(items.size).toBe(0);
  });

  it('a store that fails with a plain error is KEYCHAIN_UNAVAILABLE naming the write and what the store said', async () => {
    const refusing: SecretStore = {
      set: async () => { throw new Error('locked collection'); },
      get: async () => undefined,
      delete: async () => false,
    };
    expect(await probeKeychain(refusing)).toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE', message: expect.stringMatching(/^Kenv could not write the OS keychain \(locked collection\)\./) });
  });

  it('a store that fails with something that is not an Error still gets its words into the sentence', async () => {
    const refusing: SecretStore = {
      // A native library may reject with a bare string.
      set: async () => { throw 'org.freedesktop.Secret.Error.IsLocked'; },
      get: async () => undefined,
      delete: async () => false,
    };
    expect(await probeKeychain(refusing)).toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE', message: expect.stringMatching(/^Kenv could not write the OS keychain \(org\.freedesktop\.Secret\.Error\.IsLocked\)\./) });
  });
});
