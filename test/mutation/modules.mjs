// The modules that carry a guarantee, each with the source files Stryker mutates and the (fast) tests that must kill
// the mutants. `npm run test:mutation -- <name>` runs one; without a name it runs them all, one after the other.
// Tests listed here run once per mutant: keep to unit tests and the few integration tests that prove the guarantee.
export const MODULES = {
  'atomic-output': {
    mutate: ['electron/core/atomic-output.ts'],
    tests: ['test/unit/electron/core/atomic-output.test.ts', 'test/unit/electron/core/atomic-output-nolink.test.ts', 'test/unit/electron/core/atomic-output-writes.test.ts'],
  },
  'sync-remote': {
    mutate: ['electron/core/sync/remote.ts'],
    tests: ['test/unit/electron/core/sync/helpers.test.ts', 'test/integration/sync/unsafe-keys.test.ts'],
  },
  'sync-plan': {
    mutate: ['electron/core/sync/plan.ts'],
    tests: ['test/unit/electron/core/sync/plan.test.ts'],
  },
  'kms-errors': {
    mutate: ['electron/core/kms/errors.ts'],
    tests: ['test/unit/electron/core/kms/errors.test.ts'],
  },
  'sso-listener': {
    // The callback listener and the authorization-code flow around it (lines of login.ts), not the device flow.
    mutate: ['electron/core/sso/login.ts:190-352'],
    tests: ['test/integration/sso/listener.test.ts', 'test/integration/sso/login.test.ts'],
  },
  format: {
    mutate: ['electron/core/format/**/*.ts'],
    tests: ['test/unit/electron/core/format/**/*.test.ts'],
  },
  crypto: {
    mutate: ['electron/core/crypto/**/*.ts'],
    tests: ['test/unit/electron/core/crypto/**/*.test.ts'],
  },
  keyring: {
    mutate: ['electron/core/keyring/**/*.ts'],
    tests: ['test/unit/electron/core/keyring/**/*.test.ts', 'test/integration/kms/**/*.test.ts'],
  },
  files: {
    mutate: ['electron/core/files.ts'],
    // files-helpers covers names, folders, inspect, --buffer and the stream path in a moment; files and files-cancel hold
    // the offset codec's output and cancel guarantees (slower: megabyte round-trips).
    tests: ['test/unit/electron/core/files-helpers.test.ts', 'test/unit/electron/core/files-cancel.test.ts', 'test/unit/electron/core/files.test.ts'],
  },
  'sync-transfer': {
    mutate: ['electron/core/sync/transfer.ts'],
    tests: ['test/unit/electron/core/sync/helpers.test.ts', 'test/integration/sync/sync.test.ts', 'test/integration/sync/multipart-resume.test.ts'],
  },
  'app-handlers': {
    mutate: ['electron/core/app/**/*.ts'],
    tests: ['test/unit/electron/core/app/**/*.test.ts'],
  },
};
