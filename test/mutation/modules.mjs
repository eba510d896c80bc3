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
    // The listing's unsafe-key filter, paging and error mapping, against a scripted client (fast, no server); the
    // listing in ranges (StartAfter/MaxKeys from the last sync's index, S3's key order, the fallback from the start)
    // against a model S3 (remote-ranges.test.ts). Not list-ranges.test.ts (real servers, too slow per mutant).
    tests: [
      'test/unit/electron/core/sync/remote.test.ts',
      'test/unit/electron/core/sync/remote-ranges.test.ts',
      'test/unit/electron/core/sync/helpers.test.ts',
    ],
  },
  'sync-list-objects': {
    mutate: ['electron/core/sync/list-objects.ts'],
    // The one ListObjectsV2 page walk (sync's listing, kenv verify) and S3's key order: against a bucket over HTTP that
    // lists as S3 does until a test makes it lie (list-objects.test.ts), a scripted client (remote.test.ts) and the
    // model S3 of the ranges (remote-ranges.test.ts, which holds compareKeys' property test).
    tests: [
      'test/unit/electron/core/sync/list-objects.test.ts',
      'test/unit/electron/core/sync/remote.test.ts',
      'test/unit/electron/core/sync/remote-ranges.test.ts',
    ],
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
    // The header parser and its limits, the frame check (IV, tag, nothing released from a failed frame), the context
    // codec, key derivation and commitment, the suites.
    mutate: ['electron/core/format/**/*.ts'],
    // The parser's and the frame check's own tests, key derivation and commitment, and the rules and official vectors
    // through a whole decrypt. Not the fuzz tests (seconds per mutant; they prove "typed error or success", which the
    // tests here pin exactly).
    tests: [
      'test/unit/electron/core/format/header.test.ts',
      'test/unit/electron/core/format/frames.test.ts',
      'test/unit/electron/core/format/context.test.ts',
      'test/unit/electron/core/crypto/message-key.test.ts',
      'test/unit/electron/core/format/rules.test.ts',
      'test/unit/electron/core/format/vectors.test.ts',
    ],
  },
  crypto: {
    // The decrypting pipeline from the parsed header on: key commitment and header authentication, frame ordering and
    // the final frame's length, the signature, truncation and trailing bytes, and what is released when. Not in this
    // run (time on a shared machine): decrypt-stream.ts's stream plumbing before line 103, encrypt-stream.ts,
    // file-codec.ts, file-frames.ts, the worker pool, byte queue and ordered batches.
    mutate: ['electron/core/crypto/decrypt-stream.ts:103-349', 'electron/core/crypto/signature.ts'],
    // tamper: every region and truncation; release: nothing unauthenticated released; message-key: the checks before
    // the first frame; roundtrip: many batches in order; signature: the key encoding and the verify contract;
    // decrypt-stream: the stream's own sentences and when each check runs.
    tests: [
      'test/unit/electron/core/crypto/message-key.test.ts',
      'test/unit/electron/core/crypto/tamper.test.ts',
      'test/unit/electron/core/crypto/release.test.ts',
      'test/unit/electron/core/crypto/roundtrip.test.ts',
      'test/unit/electron/core/crypto/signature.test.ts',
      'test/unit/electron/core/crypto/decrypt-stream.test.ts',
    ],
  },
  keyring: {
    // Which data keys are sent to KMS and which answers are accepted (discovery filter, configured keys, multi-Region
    // keys), the raw AES keyring's unwrap, the "no key opened" error. Not in this run: wrapping with KMS, the KMS RSA
    // and raw RSA keyrings, the multi-keyring.
    mutate: [
      'electron/core/keyring/kms-keyring.ts:93-185',
      'electron/core/keyring/mrk.ts',
      'electron/core/keyring/raw-aes-keyring.ts',
      'electron/core/keyring/attempts.ts',
    ],
    // Scripted KMS clients (no server): fast.
    tests: [
      'test/unit/electron/core/keyring/kms-unwrap.test.ts',
      'test/unit/electron/core/keyring/raw-aes-unwrap.test.ts',
      'test/unit/electron/core/keyring/discovery-filter.test.ts',
    ],
  },
  files: {
    // Narrowed for time (2026-11-30; all of files.ts was ~50 s a mutant on the loaded machine): what files.ts itself
    // guarantees around the codec. --buffer releasing nothing before the whole message verified (138-170), the stream
    // path's commit-or-abort (172-206), the offset paths: a size change refused, the signature written and checked,
    // the stream taking over a damaged file, commit only when complete, the keys wiped (215-329), the header read and
    // the data key asked for once, then wiped (331-367), the error mapping (390-409). Not mutated: encryptFile/
    // decryptFile's option plumbing and output names (62-121), openInput, writeOutput and inputChanged's sentences
    // (369-387), makeOutputFolder (411-460). (Until ba8e492 moved the header loop to inspect.ts: 138-375 and 398-417.)
    mutate: ['electron/core/files.ts:138-367', 'electron/core/files.ts:390-409'],
    // files-helpers covers names, folders, inspect, --buffer and the stream path; files-offsets the offset path on small
    // files (layout, signature, progress, a file changing size or going away, damaged files, the keyring asked once);
    // files-output-errors a full disk on each write (added after the run of 2026-11-30); files-key-wiping the keys
    // zeroed after a job, files-input-errors which file an error is blamed on (both added by m9files). Not
    // files.test.ts (the same path at megabyte sizes) nor files-cancel.test.ts (16 MiB files): both stay in npm test.
    tests: [
      'test/unit/electron/core/files-helpers.test.ts',
      'test/unit/electron/core/files-offsets.test.ts',
      'test/unit/electron/core/files-output-errors.test.ts',
      'test/unit/electron/core/files-key-wiping.test.ts',
      'test/unit/electron/core/files-input-errors.test.ts',
    ],
  },
  'sync-transfer': {
    // The conditional requests (If-Match / If-None-Match on upload, download and delete, the 409 retry, the checks
    // where an endpoint ignores a condition), the multipart upload's resume, ListParts and abort, and trashLocal's
    // refusal of a file changed since the scan. Not in this run: conflict restores (checkWritten's versioned part),
    // the part-sending loop and its concurrency, file placement (downloadObject after fetchVerified), the name helpers.
    // Re-picked 2026-11-30 (m11) on transfer.ts as of main ba8e492, moved by the lead, and re-picked again (mut13) on
    // transfer.ts as of 769535c after the part checksum moved to part-checksum.ts, and again (walk) after the guarded
    // page walks of ListParts and ListObjectVersions; re-pick them when the code moves.
    mutate: [
      // condition() (If-Match on the quoted ETag, or If-None-Match: *), remoteChanged, headCurrent, expectRemote (the
      // look where an endpoint ignores a condition, and after a 409) and sendConditional (the 409 retry, at most 3).
      'electron/core/sync/transfer.ts:80-130',
      // checkWritten's first check: after an unguarded write, our object must be the current one.
      'electron/core/sync/transfer.ts:147-149',
      // versionsOf: every page of ListObjectVersions for the key, stopping at a longer key; missing, repeated or
      // empty markers refused (walk, 2026-11-30).
      'electron/core/sync/transfer.ts:289-334',
      // uploadFile: the 5 TiB limit, the file unchanged since the scan, the look before an unguarded write, the
      // conditional PutObject with its SHA-256, the look after, and the multipart upload's 409 retry.
      'electron/core/sync/transfer.ts:227-280',
      // listUploadedParts (ListParts page by page: markers that must move on, the list's end at the file's last part,
      // parts out of order or range), holdsPart (a listed part's size and CRC32, or MD5 ETag, against the file's) and
      // abortUpload (errors ignored).
      'electron/core/sync/transfer.ts:343-404',
      // uploadMultipart's resume: only an upload recorded for this key, size, mtime, SHA-256, part size and checksum is resumed,
      // only parts of the right number and size count, a gone upload starts again, any other upload is aborted, the
      // upload id is saved before any part, and only the missing parts are sent.
      'electron/core/sync/transfer.ts:413-462',
      // The part loop's skip: a part S3 holds is skipped only when holdsPart says it is the file's.
      'electron/core/sync/transfer.ts:476-483',
      // uploadMultipart's completion: a file changed meanwhile is aborted and forgotten, CompleteMultipartUpload carries
      // the condition and the sorted parts, a 409 aborts and forgets the upload, a success forgets it.
      'electron/core/sync/transfer.ts:498-531',
      // fetchVerified: GetObject with If-Match, the ETag compared where the endpoint ignores it, the body checked
      // against its SHA-256 and length, one retry, then SYNC_CHECKSUM_MISMATCH.
      'electron/core/sync/transfer.ts:563-610',
      // trashLocal: a file changed since the scan (kind, size or time) is left alone; a file or its folder gone is done.
      'electron/core/sync/transfer.ts:659-672',
      // deleteRemote: DeleteObject with If-Match, the look first where the endpoint ignores it, a gone object is done.
      'electron/core/sync/transfer.ts:679-693',
    ],
    // Against an in-memory S3 that enforces If-Match / If-None-Match (test/support/fake-s3.ts): every conditional
    // request, a third writer between plan and request, 409 retries, endpoints that ignore conditions, multipart
    // resume. The same races run against s3rver and moto in test/integration/sync (npm test), too slow per mutant.
    tests: ['test/unit/electron/core/sync/transfer.test.ts', 'test/unit/electron/core/sync/helpers.test.ts'],
  },
  'app-handlers': {
    // The channels' guards (grants, confirmations, the vault binding) and the access check before a decrypt.
    // Narrowed for time: the path-taking channels, the confirmations and the settings check of handlers.ts, the vault
    // channels that take a path or ask first (bind, unbind, reveal, resolveConflict, encryptPlaintext) and the binding
    // filter, and all of proof.ts. Not mutated: the identity, keys and recipient-export handlers and freeName
    // (handlers.ts:46-78, 182-195), the vault pass-throughs (get, syncNow, pause, resume, allowDeletions).
    // Re-picked 2026-11-30 (m10) after the vault panel's channels moved the lines.
    mutate: [
      'electron/core/app/handlers.ts:79-175',
      'electron/core/app/handlers.ts:197-227',
      'electron/core/app/vault-handlers.ts:23-34',
      'electron/core/app/vault-handlers.ts:39-73',
      'electron/core/app/vault-handlers.ts:82-86',
      'electron/core/app/proof.ts',
    ],
    tests: [
      'test/unit/electron/core/app/handlers.test.ts',
      'test/unit/electron/core/app/vault-handlers.test.ts',
      'test/unit/electron/core/app/proof.test.ts',
      'test/security/renderer-attacker.test.ts',
      'test/integration/app/proof.test.ts',
      // Check vault's trusted accounts and data-key cap (proof.ts's verifyVaultFolder) through the app's vault.
      'test/integration/app/vault-trust.test.ts',
      // Its CLI subprocesses run out/cli/kenv.cjs, which the sandbox now holds (stryker.config.mjs copies out/cli);
      // they run no mutated code, but its in-process canOpenFile and decryptFile cases do.
      'test/integration/local-kms/max-data-keys.test.ts',
    ],
  },
  'app-grants': {
    // Which paths the page may name: only what the user handed over, compared on real paths.
    mutate: ['electron/core/app/grants.ts'],
    // Its own tests only: every handler test goes through a grant, and running them all per mutant took ~15 s each.
    tests: ['test/unit/electron/core/app/grants.test.ts'],
  },
};
