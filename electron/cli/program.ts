import { stat, writeFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { errnoText } from '../core/atomic-output.js';
import type { KmsRsaAlgorithm } from '../core/keyring/rsa.js';
import { DEFAULT_FRAME_LENGTH, MAX_WRITE_FRAME_LENGTH, MIN_FRAME_LENGTH } from '../core/crypto/frame-length.js';
import { KenvError, toErrorInfo } from '../core/errors.js';
import type { MessageInfo, Progress } from '../core/files.js';
import type { LocalKmsCommandOptions } from '../core/local-kms/command.js';
import type { KeyOptions } from './keyrings.js';
import { collect, collectKeys, formatBytes, keyReference, parseContext, regionName, sizeInRange } from './options.js';
import { addKeyOptions, maxDataKeysOption } from './key-options.js';
import { progressFor } from './progress.js';
import type { StandardOutput } from './stdout.js';
import { withFileId } from '../core/audit/file-id.js';
import { type ProofEncryptOptions, addProofCommands, withPreflight } from './proof-commands.js';

// Each command loads what it runs when it runs (`await import(…)` in its action): `kenv --help`, `kenv inspect` and a
// raw-key encrypt start without the AWS SDK, the sync engine or the codecs they do not use.

/** Where the CLI writes; tests pass their own. */
export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  /** Data lines: standard output. */
  out: (line: string) => void;
  /** Everything said about the work (status, warnings, errors): standard error. */
  err: (line: string) => void;
  /** Watches standard output: when its signal aborts (a closed pipe, a full disk) commands stop. */
  output?: StandardOutput;
}

/** Exit codes: 0 success, 1 an operation failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface FileCommandOptions extends KeyOptions {
  context?: string[];
  out?: string;
  force?: boolean;
  maxDataKeys: number;
}

/** Registers work to run when the command has ended, whether it succeeded or not. */
export type Defer = (cleanup: () => Promise<void>) => void;

/**
 * Builds the `kenv` program. `setExit` receives the exit code of the command that ran; what a command registers
 * with `defer` must be run by the caller once parsing has ended.
 */
export function buildProgram(io: Io, setExit: (code: number) => void, defer: Defer): Command {
  const program = new Command('kenv')
    .description('Encrypt files with AWS KMS in the AWS Encryption SDK format (.kenv).')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run kenv --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  addKeyOptions(
    program
      .command('encrypt')
      .description('Encrypt files to FILE.kenv (FILE "-" reads stdin and writes stdout).')
      .argument('<file...>', 'files to encrypt')
      .option('-k, --key <key>', 'KMS key id, key ARN, alias/NAME or alias ARN; repeat to let any of several keys open the file', collectKeys)
      .option('--recipient <file>', "a KMS RSA key's recipient file (kenv public-key): encrypts offline, no AWS needed; repeatable", collect)
      .option('-c, --context <k=v>', 'encryption context pair, stored in the header and bound to the data; repeatable', collect)
      .option('-o, --out <dir>', 'write into this folder instead of next to each file')
      .addOption(
        new Option('--frame-size <bytes>', `frame length, ${formatBytes(MIN_FRAME_LENGTH)} to ${formatBytes(MAX_WRITE_FRAME_LENGTH)} (default ${formatBytes(DEFAULT_FRAME_LENGTH)})`)
          .argParser(sizeInRange(MIN_FRAME_LENGTH, MAX_WRITE_FRAME_LENGTH)),
      )
      .option('--sign', 'sign the message with ECDSA P-384 (suite 0x0578)')
      .option('--no-cache', 'several files: one GenerateDataKey per file instead of reusing a data key (5 min, 1000 files, 4 GiB)')
      .addOption(maxDataKeysOption())
      .option('-f, --force', 'replace an existing .kenv file')
      .option('--no-preflight', 'skip the check (KMS Decrypt with DryRun) that this identity can open what it is about to write')
      .option('--no-file-id', 'leave out the random kenv:file-id audit id from the encryption context'),
  ).action(async (files: string[], opts: FileCommandOptions & ProofEncryptOptions & { frameSize?: number; sign?: boolean; cache?: boolean }) => {
    if (opts.sign && opts.recipient?.length) {
      throw new KenvError(
        'INVALID_ARGUMENT',
        '--sign cannot be used with --recipient: anyone holding a public key can make such a file, so a signature would prove nothing (ESDK KMS RSA keyring).',
      );
    }
    const context = parseContext(opts.context, { forEncrypt: true });
    const keyring = await withPreflight(await (await import('./keyrings.js')).keyringFromOptions(opts, 'encrypt'), opts);
    const shape = { ...(opts.frameSize !== undefined ? { frameLength: opts.frameSize } : {}), sign: !!opts.sign, maxEncryptedDataKeys: opts.maxDataKeys };
    const placement = { ...(opts.out ? { outDir: opts.out } : {}), force: !!opts.force, ...signalOf(io) };
    const plainFiles = plainFilesOf(files);
    await makeOutFolder(opts.out, plainFiles, defer);
    const { encryptFile } = await import('../core/files.js');
    if (plainFiles.length > 1) {
      // A batch: capped KMS concurrency, throttling ridden out, one data key reused within the cache limits.
      const { encryptBatch } = await import('../core/kms/batch.js');
      const results = await encryptBatch(plainFiles, {
        keyring,
        context,
        ...shape,
        ...placement,
        cache: opts.cache === false ? false : {},
        fileId: opts.fileId !== false,
        onFileDone: (r) =>
          r.ok ? io.err(`encrypted ${r.input} -> ${r.outputPath}`) : io.err(`kenv: ${r.input}: ${oneLine(r.error.message)} [${r.error.code}]`),
      });
      setExit(results.every((r) => r.ok) ? EXIT_OK : EXIT_FAILED);
      if (!files.includes('-')) return;
    }
    setExit(
      await eachFile(plainFiles.length > 1 ? ['-'] : files, io, async (file) => {
        if (file === '-') {
          const [{ EncryptStream, prepareEncryption }, { transformStream }] = await Promise.all([import('../core/crypto/encrypt-stream.js'), import('../core/files.js')]);
          const materials = await prepareEncryption({ keyring, context: opts.fileId === false ? context : withFileId(context), ...shape });
          await transformStream(io.stdin as Readable, new EncryptStream(materials), io.stdout as Writable);
          return;
        }
        const done = await withProgress(`encrypt ${file}`, file, (progress) => encryptFile(file, { keyring, context, ...shape, ...placement, ...progress, fileId: opts.fileId !== false }));
        io.err(`encrypted ${file} -> ${done.outputPath}`);
      }),
    );
  });

  addKeyOptions(
    program
      .command('decrypt')
      .description('Decrypt FILE.kenv to FILE; the output appears only after every byte verified.')
      .argument('<file...>', '.kenv files to decrypt ("-" reads stdin and writes stdout)')
      .option('-k, --key <key>', 'only try data keys wrapped under these KMS keys (default: the keys named in the file)', collectKeys)
      .option('-c, --context <k=v>', 'required encryption context pair: must match the file (pairs not stored in it are supplied as required context); repeatable', collect)
      .option('--trust-account <id>', "also call KMS for keys in this AWS account (default: only your identity's account); repeatable", collect)
      .option('-o, --out <dir>', 'write into this folder instead of next to each file')
      .addOption(maxDataKeysOption())
      .option('--buffer', 'with "-": write nothing to stdout until the whole message, signature included, verified (files are always written that way)')
      .option('-f, --force', 'replace an existing output file'),
  ).action(async (files: string[], opts: FileCommandOptions & { buffer?: boolean }) => {
    const requiredContext = parseContext(opts.context);
    const keyring = await (await import('./keyrings.js')).keyringFromOptions(opts, 'decrypt');
    const maxEncryptedDataKeys = opts.maxDataKeys;
    await makeOutFolder(opts.out, plainFilesOf(files), defer);
    const [{ decryptFile, decryptStreamBuffered, transformStream }, { DecryptStream }] = await Promise.all([import('../core/files.js'), import('../core/crypto/decrypt-stream.js')]);
    setExit(
      await eachFile(files, io, async (file) => {
        if (file === '-') {
          if (opts.buffer) await decryptStreamBuffered(io.stdin as Readable, io.stdout as Writable, { keyring, requiredContext, maxEncryptedDataKeys });
          else await transformStream(io.stdin as Readable, new DecryptStream({ keyring, requiredContext, maxEncryptedDataKeys }), io.stdout as Writable);
          return;
        }
        const placement = { ...(opts.out ? { outDir: opts.out } : {}), force: !!opts.force, ...signalOf(io) };
        const done = await withProgress(`decrypt ${file}`, file, (progress) =>
          decryptFile(file, { keyring, requiredContext, maxEncryptedDataKeys, ...placement, ...progress }),
        );
        io.err(`decrypted ${file} -> ${done.outputPath}`);
      }),
    );
  });

  program
    .command('public-key')
    .description('Export an RSA KMS key as a recipient file: people without AWS encrypt for it with kenv encrypt --recipient FILE.')
    .argument('<key>', 'RSA ENCRYPT_DECRYPT KMS key: key id, key ARN, alias/NAME or alias ARN')
    .option('-o, --out <file>', 'write the recipient file here (default: stdout)')
    .addOption(new Option('--algorithm <alg>', 'the encryption algorithm recipients use').choices(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1']).default('RSAES_OAEP_SHA_256'))
    .option('-f, --force', 'replace an existing --out file')
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region')
    .action(async (key: string, opts: { out?: string; algorithm: KmsRsaAlgorithm; force?: boolean; profile?: string; region?: string }) => {
      const [{ recipientFileFor }, { defaultKmsClientFactory }] = await Promise.all([import('../core/kms/public-key.js'), import('../core/kms/client.js')]);
      const { keyArn, text } = await recipientFileFor(defaultKmsClientFactory(awsOptions(opts)), key, opts.algorithm);
      if (!opts.out) {
        io.stdout.write(text);
      } else {
        await writeFile(opts.out, text, { flag: opts.force ? 'w' : 'wx', mode: 0o644 }).catch((e: unknown) => {
          const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
          throw new KenvError(exists ? 'OUTPUT_EXISTS' : 'OUTPUT_FAILED', `Cannot write ${opts.out}: ${exists ? 'it exists already; pass --force to replace it' : errnoText(e)}.`, { cause: e });
        });
        io.err(`wrote the recipient file for ${keyArn} (${opts.algorithm}) to ${opts.out}`);
      }
      setExit(EXIT_OK);
    });

  program
    .command('inspect')
    .description('Show a .kenv header (keys, encryption context, suite, frame length) without any KMS call.')
    .argument('<file>', '.kenv file, or - for standard input')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      setExit(
        await eachFile([file], io, async () => {
          const { inspectFile, inspectStream } = await import('../core/inspect.js');
          const info = file === '-' ? await inspectStream(io.stdin as Readable) : await inspectFile(file);
          if (opts.json) io.out(JSON.stringify(info, null, 2));
          else for (const line of describeMessage(file === '-' ? 'standard input' : file, info)) io.out(line);
        }),
      );
    });

  program
    .command('local-kms')
    .description('Run a KMS-compatible server on 127.0.0.1 for tests and demos. It protects nothing: key material is stored in the clear.')
    .requiredOption('--state <dir>', 'folder that keeps the keys between runs')
    .option('--port <n>', 'TCP port (0 picks a free one)', '0')
    .option('--host <addr>', 'address to listen on: 127.0.0.1 by default; anything but a loopback address needs --allow-remote')
    .option('--allow-remote', 'let --host name an address other machines can reach (the keys are stored in the clear)')
    .option('--region <region>', 'Region of the demo key', regionName)
    .option('--throttle-first <n>', 'answer the first N requests with ThrottlingException')
    .option('--deny <op=key>', 'answer AccessDeniedException for an operation on a key (e.g. Decrypt=alias/kenv-demo); repeatable', collect)
    .action(async (opts: LocalKmsCommandOptions) => {
      const { runLocalKmsCommand } = await import('../core/local-kms/command.js');
      await runLocalKmsCommand(opts, io.out);
      setExit(EXIT_OK);
    });

  program
    .command('rewrap')
    .description('Move .kenv files to other KMS keys without re-encrypting the body; each result is verified before it replaces the original.')
    .argument('<file...>', '.kenv files')
    .requiredOption('--to-key <key>', 'KMS key to wrap the data key under; repeatable', collectKeys)
    .option('--keep-old', 'keep the existing data keys as well (unsigned files only)')
    .option('--trust-account <id>', "also call KMS for keys in this AWS account (default: only your identity's account); repeatable", collect)
    .addOption(maxDataKeysOption())
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region', regionName)
    .action(async (files: string[], opts: { toKey: string[]; keepOld?: boolean; trustAccount?: string[]; maxDataKeys?: number; profile?: string; region?: string }) => {
      const { runRewrapCommand } = await import('../core/rewrap/command.js');
      setExit(await runRewrapCommand({
        files, toKey: opts.toKey, keepOld: !!opts.keepOld, ...(opts.trustAccount ? { trustAccount: opts.trustAccount } : {}),
        ...(opts.maxDataKeys !== undefined ? { maxDataKeys: opts.maxDataKeys } : {}), ...awsOptions(opts),
      }, io));
    });

  program
    .command('seal')
    .description('Encrypt a secret of up to 4,096 bytes from stdin with KMS Encrypt; prints base64.')
    .requiredOption('-k, --key <key>', 'KMS key', keyReference)
    .option('-c, --context <k=v>', 'encryption context pair; repeatable', collect)
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region', regionName)
    .action(async (opts: { key: string; context?: string[]; profile?: string; region?: string }) => {
      const { runSealCommand } = await import('../core/secrets/command.js');
      setExit(await runSealCommand({ key: opts.key, context: parseContext(opts.context), stdin: io.stdin, ...awsOptions(opts) }, io));
    });

  program
    .command('unseal')
    .description('Decrypt the base64 from kenv seal (read from stdin) and write the secret to stdout.')
    .option('-k, --key <key>', 'only accept ciphertext for this KMS key', keyReference)
    .option('-c, --context <k=v>', 'encryption context pair used when sealing; repeatable', collect)
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region', regionName)
    .action(async (opts: { key?: string; context?: string[]; profile?: string; region?: string }) => {
      const { runUnsealCommand } = await import('../core/secrets/command.js');
      setExit(
        await runUnsealCommand(
          {
            ...(opts.key ? { key: opts.key } : {}), context: parseContext(opts.context), stdin: io.stdin, ...awsOptions(opts),
            // A copy: the command wipes the secret when write returns, and a pipe may still hold the buffer then.
            write: (data) => io.stdout.write(Buffer.from(data)),
          },
          io,
        ),
      );
    });

  program
    .command('keys')
    .description('List the symmetric KMS keys this identity can see, with aliases, state and whether it may use them.')
    .option('--all', 'include disabled, pending-deletion and AWS managed keys')
    .option('--json', 'print JSON')
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region', regionName)
    .action(async (opts: { all?: boolean; json?: boolean; profile?: string; region?: string }) => {
      const { runKeysCommand } = await import('../core/kms/command.js');
      setExit(await runKeysCommand({ all: !!opts.all, json: !!opts.json, ...awsOptions(opts) }, io));
    });

  program
    .command('profiles')
    .description('List the AWS profiles Kenv can use and what kind each is.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => setExit(await (await import('../core/aws/command.js')).runProfilesCommand({ json: !!opts.json }, io)));

  program
    .command('whoami')
    .description('Show the account, identity ARN, profile, Region and session expiry (STS GetCallerIdentity).')
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region', regionName)
    .option('--json', 'print JSON')
    .action(async (opts: { profile?: string; region?: string; json?: boolean }) => {
      const { runWhoamiCommand } = await import('../core/aws/command.js');
      setExit(await runWhoamiCommand({ ...awsOptions(opts), json: !!opts.json }, io));
    });

  program
    .command('login')
    .description('Sign in with AWS IAM Identity Center (SSO); shares the AWS CLI token cache.')
    .option('--profile <profile>', 'SSO profile')
    .option('--device-code', 'use the device-code flow (for machines without a browser)')
    .action(async (opts: { profile?: string; deviceCode?: boolean }) => {
      const { runLoginCommand } = await import('../core/sso/command.js');
      setExit(await runLoginCommand({ ...(opts.profile ? { profile: opts.profile } : {}), deviceCode: !!opts.deviceCode }, io));
    });

  program
    .command('logout')
    .description('Sign out of the SSO session of a profile and remove its cached token.')
    .option('--profile <profile>', 'SSO profile')
    .action(async (opts: { profile?: string }) => setExit(await (await import('../core/sso/command.js')).runLogoutCommand({ ...(opts.profile ? { profile: opts.profile } : {}) }, io)));

  program
    .command('sync')
    .description('Two-way sync of a vault folder of .kenv files with s3://bucket/prefix.')
    .argument('<vault>', 'vault folder')
    .argument('<remote>', 's3://bucket/prefix')
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region', regionName)
    .option('--watch', 'keep syncing on local changes and a periodic remote poll')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--json', 'one JSON object per line')
    .option('--encrypt-on-arrival', 'encrypt plaintext placed in the vault with --key, verify it, move the plaintext to .kenv-trash, sync the .kenv')
    .option('--key <key>', 'KMS key for --encrypt-on-arrival (repeatable)', collectKeys)
    .option('--context <k=v>', 'encryption context pair for --encrypt-on-arrival (repeatable)', collect)
    .option('--max-delete <percent>', 'stop before deleting more than this percentage of one side (default 50; 100 allows all)')
    .option('--sse-kms-key <key>', 'upload with S3 server-side encryption under this KMS key as well (SSE-KMS)')
    .action(
      async (
        vaultDir: string,
        remote: string,
        opts: { profile?: string; region?: string; watch?: boolean; dryRun?: boolean; json?: boolean; encryptOnArrival?: boolean; key?: string[]; context?: string[]; maxDelete?: string; sseKmsKey?: string },
      ) => {
        const maxDelete = opts.maxDelete === undefined ? undefined : /^\d+(\.\d+)?%?$/.test(opts.maxDelete) ? Number(opts.maxDelete.replace('%', '')) : NaN;
        if (!opts.encryptOnArrival && (opts.key?.length || opts.context?.length)) {
          throw new KenvError('INVALID_ARGUMENT', '--key and --context only apply with --encrypt-on-arrival.');
        }
        if (opts.encryptOnArrival && !opts.key?.length) {
          throw new KenvError('INVALID_ARGUMENT', '--encrypt-on-arrival needs the keys to encrypt with: pass --key KEY (a KMS key id, ARN, alias/NAME or alias ARN).');
        }
        const encryptOnArrival = opts.encryptOnArrival
          ? { keyring: await (await import('./keyrings.js')).keyringFromOptions({ key: opts.key, ...awsOptions(opts) }, 'encrypt'), context: parseContext(opts.context, { forEncrypt: true }) }
          : undefined;
        const { runSyncCommand } = await import('../core/sync/command.js');
        setExit(
          await runSyncCommand(
            {
              vaultDir,
              remote,
              ...awsOptions(opts),
              watch: !!opts.watch,
              dryRun: !!opts.dryRun,
              json: !!opts.json,
              ...(encryptOnArrival ? { encryptOnArrival } : {}),
              ...(maxDelete !== undefined ? { maxDeletePercent: maxDelete } : {}),
              ...(opts.sseKmsKey ? { sseKmsKeyId: opts.sseKmsKey } : {}),
              ...signalOf(io),
            },
            io,
          ),
        );
      },
    );

  addProofCommands(program, io, setExit);

  return program;
}

function awsOptions(opts: { profile?: string; region?: string }): { profile?: string; region?: string } {
  return { ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) };
}

/** The files of a file command other than `-` (standard input and output), which may be given once. */
function plainFilesOf(files: string[]): string[] {
  if (files.filter((f) => f === '-').length > 1) {
    throw new KenvError('INVALID_ARGUMENT', '"-" (standard input to standard output) can be given only once.');
  }
  return files.filter((f) => f !== '-');
}

/** `{ signal }` when standard output is watched: file work is cancelled, and cleaned up, once it fails. */
function signalOf(io: Io): { signal?: AbortSignal } {
  return io.output ? { signal: io.output.signal } : {};
}

/**
 * Makes the `--out` folder of a command that writes files, before any KMS call: one level at a time, only below an
 * existing folder. The folders made here are removed when the command ends if nothing was written into them (every
 * file failed). Without files to write (only `-`), no folder is made.
 */
async function makeOutFolder(outDir: string | undefined, files: string[], defer: Defer): Promise<void> {
  if (!outDir || files.length === 0) return;
  const { makeOutputFolder, removeEmptyFolders } = await import('../core/files.js');
  const created = await makeOutputFolder(outDir);
  defer(() => removeEmptyFolders(created));
}

/** Runs `work` for each file; a failure prints one line naming the file and the fix, and the rest still run. */
async function eachFile(files: string[], io: Io, work: (file: string) => Promise<void>): Promise<number> {
  let code = EXIT_OK;
  for (const file of files) {
    // Standard output failed: the command stops here (runCli says why).
    if (io.output?.signal.aborted) return EXIT_FAILED;
    try {
      await work(file);
    } catch (e) {
      const info = toErrorInfo(e);
      io.err(`kenv: ${file === '-' ? 'stdin' : file}: ${oneLine(info.message)} [${info.code}]`);
      code = EXIT_FAILED;
    }
  }
  return code;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ');
}

/** Runs one file operation with a progress bar on a terminal for a large file; the bar is gone when it ends. */
async function withProgress<T>(label: string, file: string, run: (progress: { onProgress?: (p: Progress) => void }) => Promise<T>): Promise<T> {
  const bar = progressFor(label, await stat(file).then((s) => s.size).catch(() => 0));
  try {
    return await run(bar.onProgress ? { onProgress: bar.onProgress } : {});
  } finally {
    bar.stop();
  }
}

/** The human form of `inspect`. */
export function describeMessage(file: string, info: MessageInfo): string[] {
  const lines = [
    `${file}`,
    `  format          AWS Encryption SDK message, version ${info.version}`,
    `  suite           ${info.suiteName}${info.signed ? ' (signed)' : ''}`,
    `  message id      ${info.messageId}`,
    `  frame length    ${info.frameLength} bytes`,
    `  header length   ${info.headerLength} bytes`,
  ];
  const context = Object.entries(info.encryptionContext);
  lines.push(`  context         ${context.length === 0 ? '(none)' : ''}`.trimEnd());
  for (const [k, v] of context) lines.push(`    ${k} = ${k === 'aws-crypto-public-key' ? `${v.slice(0, 16)}… (signing key)` : v}`);
  lines.push(`  data keys       ${info.encryptedDataKeys.length}`);
  for (const edk of info.encryptedDataKeys) {
    lines.push(edk.keyArn ? `    ${edk.providerId}  ${edk.keyArn}` : `    ${edk.keyKind ?? 'raw AES'}  ${edk.providerId}/${edk.keyName ?? '?'}`);
  }
  return lines;
}
