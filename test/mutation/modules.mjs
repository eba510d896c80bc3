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
    // The listing's unsafe-key filter, paging and error mapping, against a scripted client (fast, no server).
    tests: ['test/unit/electron/core/sync/remote.test.ts', 'test/unit/electron/core/sync/helpers.test.ts'],
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
    mutate: ['electron/core/sso/login.ts:193-223', 'electron/core/sso/login.ts:316-352'],
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
    // The conditional requests (If-Match / If-None-Match on upload, download and delete, the 409 retry, the checks
    // where an endpoint ignores a condition). Multipart, conflict restores and file placement are not in this run:
    // their tests move 8 MiB parts, far too slow per mutant on a shared machine.
    mutate: [
      'electron/core/sync/transfer.ts:78-121',
      'electron/core/sync/transfer.ts:196-233',
      'electron/core/sync/transfer.ts:405-448',
      'electron/core/sync/transfer.ts:506-524',
    ],
    // Against an in-memory S3 that enforces If-Match / If-None-Match (test/support/fake-s3.ts): every conditional
    // request, a third writer between plan and request, 409 retries, endpoints that ignore conditions, multipart
    // resume. The same races run against s3rver and moto in test/integration/sync (npm test), too slow per mutant.
    tests: ['test/unit/electron/core/sync/transfer.test.ts', 'test/unit/electron/core/sync/helpers.test.ts'],
  },
  'app-handlers': {
    // The channels' guards (grants, confirmations, the vault binding) and the access check before a decrypt.
    // Narrowed for time (2026-11-30): the path-taking channels, the confirmations and the settings check of
    // handlers.ts, vault:bind and the binding filter, and all of proof.ts. Not mutated: the identity, keys and
    // private-open pass-throughs and freeName (handlers.ts:46-74, 177-194).
    mutate: [
      'electron/core/app/handlers.ts:75-171',
      'electron/core/app/handlers.ts:196-222',
      'electron/core/app/vault-handlers.ts:13-13',
      'electron/core/app/vault-handlers.ts:27-31',
      'electron/core/app/proof.ts',
    ],
    tests: [
      'test/unit/electron/core/app/handlers.test.ts',
      'test/unit/electron/core/app/vault-handlers.test.ts',
      'test/unit/electron/core/app/proof.test.ts',
      'test/security/renderer-attacker.test.ts',
      'test/integration/app/proof.test.ts',
      // Not test/integration/local-kms/max-data-keys.test.ts: its CLI subprocesses do not start in Stryker's sandbox
      // (the initial run fails), and they run no mutated code in this process anyway.
    ],
  },
  'app-grants': {
    // Which paths the page may name: only what the user handed over, compared on real paths.
    mutate: ['electron/core/app/grants.ts'],
    // Its own tests only: every handler test goes through a grant, and running them all per mutant took ~15 s each.
    tests: ['test/unit/electron/core/app/grants.test.ts'],
  },
};
