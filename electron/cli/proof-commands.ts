import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Readable } from 'node:stream';
import type { Keyring } from '../core/keyring/types.js';
import { KenvError, toErrorInfo } from '../core/errors.js';
import type { KeyOptions } from './keyrings.js';
import { addKeyOptions, maxDataKeysOption } from './key-options.js';
import { collect, parseContext } from './options.js';
import type { Io } from './program.js';

/**
 * The proof and audit commands (issue 13): verify, audit, keygen, import, keys check.
 *
 * Each command's work lives in its own core module; this only reads the flags.
 */
export function addProofCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const keys = program.commands.find((c) => c.name() === 'keys');
  (keys ?? program.command('keys'))
    .command('check')
    .description('Show what this identity may do with a key, proving the round trip without receiving a plaintext key (GenerateDataKeyWithoutPlaintext, then Decrypt with DryRun).')
    .argument('<key...>', 'KMS key id, key ARN, alias/NAME or alias ARN')
    .option('-c, --context <k=v>', 'encryption context to check with (key policies may have conditions on it); repeatable', collect)
    .option('--json', 'print JSON')
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region')
    .action(async (keyIds: string[], own: { context?: string[]; json?: boolean; profile?: string; region?: string }, cmd: Command) => {
      // `keys` has --json, --profile and --region of its own, and commander gives them to it wherever they appear.
      const opts = { ...(cmd.parent?.opts() as typeof own | undefined), ...own };
      const { runKeyCheckCommand } = await import('../core/preflight/key-check.js');
      setExit(
        await runKeyCheckCommand(
          {
            keys: keyIds,
            json: !!opts.json,
            context: parseContext(opts.context),
            ...(opts.profile ? { profile: opts.profile } : {}),
            ...(opts.region ? { region: opts.region } : {}),
          },
          io,
        ),
      );
    });

  program
    .command('audit')
    .description("Print a file's audit id (kenv:file-id) and ready-to-run CloudTrail lookups of who decrypted it. No KMS call.")
    .argument('<file...>', '.kenv files')
    .option('--json', 'print JSON')
    .action(async (files: string[], opts: { json?: boolean }) => setExit(await (await import('../core/audit/command.js')).runAuditCommand({ files, json: !!opts.json }, io)));

  program
    .command('keygen')
    .description('Write a new 256-bit raw AES key (32 bytes, mode 0600) for --raw-aes-key.')
    .argument('<file>', 'where to write the key')
    .option('--kms-random', 'take the bytes from KMS GenerateRandom (the HSM generator) instead of this machine')
    .option('-f, --force', 'replace an existing key file (every file encrypted under it is then lost)')
    .option('--profile <profile>', 'AWS profile (with --kms-random)')
    .option('--region <region>', 'AWS Region (with --kms-random)')
    .action(async (file: string, opts: { kmsRandom?: boolean; force?: boolean; profile?: string; region?: string }) =>
      setExit(await (await import('../core/keygen/keygen.js')).runKeygenCommand({ file, ...opts }, io)),
    );

  program
    .command('import')
    .description('Turn a file made with the manual KMS + openssl enc recipe into an authenticated .kenv; the original goes to the trash once the .kenv verified.')
    .requiredOption('--openssl-enc <file>', 'a file from openssl enc -aes-256-cbc -pbkdf2 -salt -pass pass:<base64 data key>')
    .requiredOption('--data-key <file>', 'the KMS-encrypted data key kept beside it (CiphertextBlob, binary or base64)')
    .option('-k, --key <key>', 'KMS key to write the .kenv under (default: the key that protected the data key); repeatable', collect)
    .addOption(new Option('--iter <n>', 'PBKDF2 iterations the file was made with (openssl enc -iter; default 10000)').argParser(parsePositiveInt))
    .option('-c, --context <k=v>', 'encryption context pair for the new .kenv; repeatable', collect)
    .option('-o, --out <dir>', 'write the .kenv into this folder instead of next to the file')
    .option('-f, --force', 'replace an existing .kenv file')
    .option('--no-preflight', 'skip the check that this identity can open the new file')
    .option('--no-file-id', 'leave out the kenv:file-id audit id')
    .option('--profile <profile>', 'AWS profile')
    .option('--region <region>', 'AWS Region')
    .action(
      async (opts: {
        opensslEnc: string; dataKey: string; key?: string[]; iter?: number; context?: string[]; out?: string; force?: boolean;
        preflight?: boolean; fileId?: boolean; profile?: string; region?: string;
      }) => {
        const [{ defaultKmsClientFactory }, { importOpensslEnc }] = await Promise.all([import('../core/kms/client.js'), import('../core/import/openssl-enc.js')]);
        const clients = defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
        try {
          const done = await importOpensslEnc(opts.opensslEnc, {
            dataKeyPath: opts.dataKey,
            clients,
            ...(opts.key?.length ? { keyIds: opts.key } : {}),
            ...(opts.iter ? { iterations: opts.iter } : {}),
            context: parseContext(opts.context),
            fileId: opts.fileId !== false,
            preflight: opts.preflight !== false,
            ...(opts.out ? { outDir: opts.out } : {}),
            force: !!opts.force,
            trash: async (path) => (await import('trash')).default(path),
          });
          io.err(`imported ${opts.opensslEnc} -> ${done.outputPath} (under ${done.keyIds.join(', ')}); verified; the original is in the trash.`);
          io.err('The OpenSSL file was AES-256-CBC without authentication: it could not detect tampering. The .kenv is authenticated.');
          setExit(0);
        } catch (e) {
          const info = toErrorInfo(e);
          io.err(`kenv: ${opts.opensslEnc}: ${info.message.replace(/\s*\n\s*/g, ' ')} [${info.code}]`);
          setExit(1);
        }
      },
    );

  addKeyOptions(
    program
      .command('verify')
      .description('Authenticate .kenv files (data key, every frame, the signature) without writing any plaintext.')
      .argument('<target...>', '.kenv files, - (standard input), folders (every *.kenv below) or s3://bucket/prefix')
      .option('-k, --key <key>', 'only try data keys wrapped under these KMS keys (default: the keys named in each file)', collect)
      .option('-c, --context <k=v>', 'required encryption context pair, as for decrypt; repeatable', collect)
      .option('--trust-account <id>', "also call KMS for keys in this AWS account (default: only your identity's account); repeatable", collect)
      .addOption(maxDataKeysOption())
      .option('--json', 'print one JSON document'),
    { rawRsa: false, profile: 'AWS profile for KMS and S3', region: 'AWS Region' },
  ).action(async (targets: string[], opts: KeyOptions & { context?: string[]; json?: boolean; maxDataKeys?: number }) => {
    if (targets.filter((t) => t === '-').length > 1) throw new KenvError('INVALID_ARGUMENT', '"-" (standard input) can be given only once.');
    const keyring = await (await import('./keyrings.js')).keyringFromOptions(opts, 'decrypt');
    const { runVerifyCommand } = await import('../core/verify/command.js');
    setExit(
      await runVerifyCommand(
        {
          targets,
          ...(targets.includes('-') ? { stdin: io.stdin as Readable } : {}),
          keyring,
          requiredContext: parseContext(opts.context),
          maxEncryptedDataKeys: opts.maxDataKeys,
          json: !!opts.json,
          ...(opts.profile ? { profile: opts.profile } : {}),
          ...(opts.region ? { region: opts.region } : {}),
        },
        io,
      ),
    );
  });
}

/** The encrypt flags of issue 13. */
export interface ProofEncryptOptions {
  preflight?: boolean;
  fileId?: boolean;
  profile?: string;
  region?: string;
}

/**
 * The encrypt keyring behind a preflight, unless `--no-preflight`.
 *
 * Without KMS keys (`--key`) there is nothing to check (a data key wrapped by a raw key or for a recipient counts as
 * openable, see preflightDataKeys), so the keyring is returned as it is and no AWS SDK is loaded.
 */
export async function withPreflight(keyring: Keyring, opts: ProofEncryptOptions & { key?: string[] }): Promise<Keyring> {
  if (opts.preflight === false || !opts.key?.length) return keyring;
  const [{ PreflightKeyring }, { defaultKmsClientFactory }] = await Promise.all([import('../core/preflight/preflight.js'), import('../core/kms/client.js')]);
  return new PreflightKeyring(keyring, defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) }));
}

function parsePositiveInt(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a whole number of at least 1.`);
  return Number(value);
}
