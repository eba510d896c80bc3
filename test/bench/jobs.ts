/** What the bench runs: the contenders and the jobs a child process performs. */

export const BENCH_NAMESPACE = 'kenv-bench';
export const BENCH_KEY_NAME = 'raw-aes-256';

export type Op = 'encrypt' | 'decrypt';

/** A job for test/bench/child.ts. */
export interface NodeJob {
  tool: 'kenv' | 'esdk';
  op: Op;
  input: string;
  output: string;
  keyHex: string;
  frameLength?: number;
  sign: boolean;
  /** Kenv only: `file` = encryptFile/decryptFile (the app and CLI), `stream` = the Transforms in a stream.pipeline. */
  api?: 'file' | 'stream';
}

export type Command = { kind: 'node'; job: NodeJob } | { kind: 'exec'; argv: string[] };

/** Files and keys shared by every contender in one bench run. */
export interface Setup {
  dir: string;
  plaintext: string;
  /** 32-byte wrapping key (raw AES keyring) as hex. */
  keyHex: string;
  /** openssl enc key and IV, hex. */
  ctrKeyHex: string;
  ctrIvHex: string;
  ageIdentityFile: string;
  ageRecipient: string;
  /** The same wrapping key as keyHex, as a file for `kenv --raw-aes-key`. */
  rawKeyFile: string;
}

export interface Contender {
  /** Unique, for the table and for BENCH_ONLY. */
  id: string;
  group: 'kenv' | 'kenv-signed' | 'kenv-stream' | 'kenv-cli' | 'esdk' | 'esdk-signed' | 'age' | 'openssl-ctr' | 'cp' | 'node-copy';
  frameLength?: number;
  /** The commands for one round: encrypt the plaintext to `sealed`, then decrypt `sealed` to `opened`. */
  commands(setup: Setup, sealed: string, opened: string): Record<Op, Command>;
}

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

/** `64K`, `1MiB`, `1 GiB`, `1073741824`: bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`Cannot read the size "${text}"; write it like 1GiB, 256MiB or 1073741824.`);
  const unit = { '': 1, k: KIB, m: MIB, g: GIB, t: 1024 * GIB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * unit);
}

/** `4 KiB`, `1 MiB`. */
export function formatSize(bytes: number): string {
  if (bytes >= GIB && bytes % GIB === 0) return `${bytes / GIB} GiB`;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} B`;
}

function nodeCommands(
  tool: 'kenv' | 'esdk',
  setup: Setup,
  sealed: string,
  opened: string,
  frameLength: number | undefined,
  sign: boolean,
  api: 'file' | 'stream' = 'file',
): Record<Op, Command> {
  const base = { tool, keyHex: setup.keyHex, sign, api, ...(frameLength ? { frameLength } : {}) };
  return {
    encrypt: { kind: 'node', job: { ...base, op: 'encrypt', input: setup.plaintext, output: sealed } },
    decrypt: { kind: 'node', job: { ...base, op: 'decrypt', input: sealed, output: opened } },
  };
}

/** Kenv at each frame length of the sweep; the default is among them. */
export function kenvContenders(frameLengths: number[]): Contender[] {
  return frameLengths.map((frameLength) => ({
    id: `kenv ${formatSize(frameLength)}`,
    group: 'kenv',
    frameLength,
    commands: (setup, sealed, opened) => nodeCommands('kenv', setup, sealed, opened, frameLength, false),
  }));
}

/** The `kenv` command itself, as a user times it: node start-up, module loading, the work, the fsync and rename. */
export const KENV_BIN = new URL('../../../bin/kenv.js', import.meta.url).pathname;

/** `kenv encrypt FILE --out DIR` and `kenv decrypt FILE.kenv --out DIR` with a raw AES key; timed from spawn to exit. */
export function kenvCliContender(): Contender {
  const raw = (setup: Setup): string[] => ['--raw-aes-key', setup.rawKeyFile, '--raw-aes-namespace', BENCH_NAMESPACE, '--raw-aes-name', BENCH_KEY_NAME];
  // The command names its output after the input; a rename (same folder, no copy) puts it where the bench looks.
  const run = (argv: string[], made: string, want: string): string[] => ['sh', '-c', `"$@" && mv -f '${made}' '${want}'`, 'sh', ...argv];
  return {
    id: 'kenv CLI',
    group: 'kenv-cli',
    commands: (setup, sealed, opened) => ({
      encrypt: { kind: 'exec', argv: run([process.execPath, KENV_BIN, 'encrypt', setup.plaintext, ...raw(setup), '--no-file-id', '--force', '--out', `${setup.dir}/cli`], `${setup.dir}/cli/plaintext.bin.kenv`, sealed) },
      decrypt: { kind: 'exec', argv: run([process.execPath, KENV_BIN, 'decrypt', sealed, ...raw(setup), '--force', '--out', `${setup.dir}/cli`], `${setup.dir}/cli/sealed.decrypted`, opened) },
    }),
  };
}

/** The official ESDK with suite 0x0578 (signed), at each frame length: what Kenv's signed path is held to. */
export function esdkSignedContenders(frameLengths: number[]): Contender[] {
  return frameLengths.map((frameLength) => ({
    id: `esdk signed ${formatSize(frameLength)}`,
    group: 'esdk-signed',
    frameLength,
    commands: (setup, sealed, opened) => nodeCommands('esdk', setup, sealed, opened, frameLength, true),
  }));
}

/** Kenv with suite 0x0578 (ECDSA P-384 footer), through the same parallel file path. */
export function kenvSignedContender(frameLength: number): Contender {
  return {
    id: `kenv signed ${formatSize(frameLength)}`,
    group: 'kenv-signed',
    frameLength,
    commands: (setup, sealed, opened) => nodeCommands('kenv', setup, sealed, opened, frameLength, true),
  };
}

/** Kenv's streaming API (EncryptStream / DecryptStream in a stream.pipeline), the path stdin/stdout take. */
export function kenvStreamContender(frameLength: number): Contender {
  return {
    id: `kenv stream ${formatSize(frameLength)}`,
    group: 'kenv-stream',
    frameLength,
    commands: (setup, sealed, opened) => nodeCommands('kenv', setup, sealed, opened, frameLength, false, 'stream'),
  };
}

/** The official JS ESDK, same suite (0x0478) and same raw AES keyring, at each frame length. */
export function esdkContenders(frameLengths: number[]): Contender[] {
  return frameLengths.map((frameLength) => ({
    id: `esdk ${formatSize(frameLength)}`,
    group: 'esdk',
    frameLength,
    commands: (setup, sealed, opened) => nodeCommands('esdk', setup, sealed, opened, frameLength, false),
  }));
}

export function ageContender(): Contender {
  return {
    id: 'age X25519',
    group: 'age',
    commands: (setup, sealed, opened) => ({
      encrypt: { kind: 'exec', argv: ['age', '-r', setup.ageRecipient, '-o', sealed, setup.plaintext] },
      decrypt: { kind: 'exec', argv: ['age', '-d', '-i', setup.ageIdentityFile, '-o', opened, sealed] },
    }),
  };
}

export function opensslCtrContender(): Contender {
  const argv = (setup: Setup, input: string, output: string, decrypt: boolean): string[] => [
    'openssl', 'enc', '-aes-256-ctr', ...(decrypt ? ['-d'] : []), '-K', setup.ctrKeyHex, '-iv', setup.ctrIvHex, '-in', input, '-out', output,
  ];
  return {
    id: 'openssl aes-256-ctr',
    group: 'openssl-ctr',
    commands: (setup, sealed, opened) => ({
      encrypt: { kind: 'exec', argv: argv(setup, setup.plaintext, sealed, false) },
      decrypt: { kind: 'exec', argv: argv(setup, sealed, opened, true) },
    }),
  };
}

/** `cp`: what the disk and page cache allow file to file, with no crypto at all. */
export function copyContender(): Contender {
  return {
    id: 'cp (no crypto)',
    group: 'cp',
    commands: (setup, sealed, opened) => ({
      encrypt: { kind: 'exec', argv: ['cp', setup.plaintext, sealed] },
      decrypt: { kind: 'exec', argv: ['cp', sealed, opened] },
    }),
  };
}

/**
 * The most any Node program can do file to file, with no crypto, timed like every other program (spawn to exit, then
 * the output's fsync): `node` starting and calling `fs.copyFileSync` (the kernel copies, as `cp` does), and `node`
 * starting and copying through one reused 1 MiB buffer in user space (the least an encryptor, which must see every
 * byte, can do). They show how much of `cp`'s speed is left once a Node process starts.
 */
export function nodeCopyContenders(): Contender[] {
  const copyFile = "require('fs').copyFileSync(process.argv[1], process.argv[2])";
  const readWrite = [
    "const fs = require('fs');",
    "const i = fs.openSync(process.argv[1], 'r'), o = fs.openSync(process.argv[2], 'w'), b = Buffer.allocUnsafeSlow(1 << 20);",
    'for (let n; (n = fs.readSync(i, b, 0, b.length, null)) > 0; ) fs.writeSync(o, b, 0, n);',
  ].join(' ');
  const contender = (id: string, script: string): Contender => ({
    id,
    group: 'node-copy',
    commands: (setup, sealed, opened) => ({
      encrypt: { kind: 'exec', argv: [process.execPath, '-e', script, setup.plaintext, sealed] },
      decrypt: { kind: 'exec', argv: [process.execPath, '-e', script, sealed, opened] },
    }),
  });
  return [contender('node copyFile (no crypto)', copyFile), contender('node read+write (no crypto)', readWrite)];
}
