import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { DecryptStream } from '../core/crypto/decrypt-stream.js';
import { DEFAULT_FRAME_LENGTH, EncryptStream, prepareEncryption } from '../core/crypto/encrypt-stream.js';
import { toErrorInfo } from '../core/errors.js';
import { type MessageInfo, decryptFile, encryptFile, inspectFile, transformStream } from '../core/files.js';
import { type LocalKmsCommandOptions, runLocalKmsCommand } from '../core/local-kms/command.js';
import { type KeyOptions, keyringFromOptions } from './keyrings.js';
import { collect, parseBytes, parseContext } from './options.js';
import { progressFor } from './progress.js';

/** Where the CLI writes; tests pass their own. */
export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Exit codes: 0 success, 1 an operation failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface FileCommandOptions extends KeyOptions {
  context?: string[];
  out?: string;
  force?: boolean;
}

/** Builds the `kenv` program. `setExit` receives the exit code of the command that ran. */
export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('kenv')
    .description('Encrypt files with AWS KMS in the AWS Encryption SDK format (.kenv).')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run kenv --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  const keyOptions = (cmd: Command): Command =>
    cmd
      .option('--raw-aes-key <file>', 'raw AES-256 wrapping key: a file of 32 bytes or their base64')
      .option('--raw-aes-namespace <ns>', 'raw AES key namespace (the ESDK provider id)')
      .option('--raw-aes-name <name>', 'raw AES key name')
      .option('--profile <profile>', 'AWS profile for KMS (default: AWS_PROFILE or default)')
      .option('--region <region>', 'AWS Region for KMS keys given without an ARN');

  keyOptions(
    program
      .command('encrypt')
      .description('Encrypt files to FILE.kenv (FILE "-" reads stdin and writes stdout).')
      .argument('<file...>', 'files to encrypt')
      .option('-k, --key <key>', 'KMS key id, key ARN, alias/NAME or alias ARN; repeat to let any of several keys open the file', collect)
      .option('-c, --context <k=v>', 'encryption context pair, stored in the header and bound to the data; repeatable', collect)
      .option('-o, --out <dir>', 'write into this folder instead of next to each file')
      .addOption(new Option('--frame-size <bytes>', `frame length (default ${DEFAULT_FRAME_LENGTH / 1048576} MiB)`).argParser(parseBytes))
      .option('--sign', 'sign the message with ECDSA P-384 (suite 0x0578)')
      .option('-f, --force', 'replace an existing .kenv file'),
  ).action(async (files: string[], opts: FileCommandOptions & { frameSize?: number; sign?: boolean }) => {
    const context = parseContext(opts.context);
    const keyring = await keyringFromOptions(opts, 'encrypt');
    setExit(
      await eachFile(files, io, async (file) => {
        if (file === '-') {
          const materials = await prepareEncryption({ keyring, context, ...(opts.frameSize ? { frameLength: opts.frameSize } : {}), sign: !!opts.sign });
          await transformStream(io.stdin as NodeJS.ReadableStream & import('node:stream').Readable, new EncryptStream(materials), io.stdout as import('node:stream').Writable);
          return;
        }
        const bar = progressFor(`encrypt ${file}`, await sizeOf(file));
        try {
          const done = await encryptFile(file, {
            keyring,
            context,
            ...(opts.out ? { outDir: opts.out } : {}),
            ...(opts.frameSize ? { frameLength: opts.frameSize } : {}),
            sign: !!opts.sign,
            force: !!opts.force,
            ...(bar.onProgress ? { onProgress: bar.onProgress } : {}),
          });
          bar.stop();
          io.out(`encrypted ${file} -> ${done.outputPath}`);
        } finally {
          bar.stop();
        }
      }),
    );
  });

  keyOptions(
    program
      .command('decrypt')
      .description('Decrypt FILE.kenv to FILE; the output appears only after every byte verified.')
      .argument('<file...>', '.kenv files to decrypt ("-" reads stdin and writes stdout)')
      .option('-k, --key <key>', 'only try data keys wrapped under these KMS keys (default: the keys named in the file)', collect)
      .option('-c, --context <k=v>', 'required encryption context pair: must match the file (pairs not stored in it are supplied as required context); repeatable', collect)
      .option('-o, --out <dir>', 'write into this folder instead of next to each file')
      .option('-f, --force', 'replace an existing output file'),
  ).action(async (files: string[], opts: FileCommandOptions) => {
    const requiredContext = parseContext(opts.context);
    const keyring = await keyringFromOptions(opts, 'decrypt');
    setExit(
      await eachFile(files, io, async (file) => {
        if (file === '-') {
          await transformStream(io.stdin as import('node:stream').Readable, new DecryptStream({ keyring, requiredContext }), io.stdout as import('node:stream').Writable);
          return;
        }
        const bar = progressFor(`decrypt ${file}`, await sizeOf(file));
        try {
          const done = await decryptFile(file, {
            keyring,
            requiredContext,
            ...(opts.out ? { outDir: opts.out } : {}),
            force: !!opts.force,
            ...(bar.onProgress ? { onProgress: bar.onProgress } : {}),
          });
          bar.stop();
          io.out(`decrypted ${file} -> ${done.outputPath}`);
        } finally {
          bar.stop();
        }
      }),
    );
  });

  program
    .command('inspect')
    .description('Show a .kenv header (keys, encryption context, suite, frame length) without any KMS call.')
    .argument('<file>', '.kenv file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      setExit(
        await eachFile([file], io, async () => {
          const info = await inspectFile(file);
          if (opts.json) io.out(JSON.stringify(info, null, 2));
          else for (const line of describeMessage(file, info)) io.out(line);
        }),
      );
    });

  program
    .command('local-kms')
    .description('Run a KMS-compatible server on 127.0.0.1 for tests and demos. It protects nothing: key material is stored in the clear.')
    .requiredOption('--state <dir>', 'folder that keeps the keys between runs')
    .option('--port <n>', 'TCP port (0 picks a free one)', '0')
    .option('--region <region>', 'Region of the demo key', undefined)
    .option('--throttle-first <n>', 'answer the first N requests with ThrottlingException')
    .option('--deny <op=key>', 'answer AccessDeniedException for an operation on a key (e.g. Decrypt=alias/kenv-demo); repeatable', collect)
    .action(async (opts: LocalKmsCommandOptions) => {
      await runLocalKmsCommand(opts, io.out);
      setExit(EXIT_OK);
    });

  return program;
}

/** Runs `work` for each file; a failure prints one line naming the file and the fix, and the rest still run. */
async function eachFile(files: string[], io: Io, work: (file: string) => Promise<void>): Promise<number> {
  let code = EXIT_OK;
  for (const file of files) {
    try {
      await work(file);
    } catch (e) {
      const info = toErrorInfo(e);
      io.err(`kenv: ${file === '-' ? 'stdin' : file}: ${info.message.replace(/\s*\n\s*/g, ' ')} [${info.code}]`);
      code = EXIT_FAILED;
    }
  }
  return code;
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then((s) => s.size).catch(() => 0);
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
    lines.push(edk.keyArn ? `    ${edk.providerId}  ${edk.keyArn}` : `    raw AES  ${edk.providerId}/${edk.keyName ?? '?'}`);
  }
  return lines;
}
