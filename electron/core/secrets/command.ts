import { type CommandIo, fail } from '../aws/command.js';
import { KenvError } from '../errors.js';
import type { EncryptionContext } from '../keyring/types.js';
import { defaultKmsClientFactory, type KmsClientFactory } from '../kms/client.js';
import { MAX_SECRET_BYTES, sealSecret, unsealSecret } from './seal.js';

interface SecretCommandOptions {
  profile?: string;
  region?: string;
  context?: EncryptionContext;
  /** The secret or sealed text; read from `stdin` when absent. */
  input?: Uint8Array;
  /** Standard input (the process's by default). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  clients?: KmsClientFactory;
}

/** `kenv seal --key KEY [--context k=v]…`: reads ≤ 4,096 bytes from stdin and prints the KMS ciphertext as base64. */
export async function runSealCommand(opts: SecretCommandOptions & { key: string }, io: CommandIo): Promise<number> {
  try {
    const secret = opts.input ?? (await readStdin(opts.stdin ?? process.stdin, MAX_SECRET_BYTES + 1));
    const { sealed, keyArn } = await sealSecret(secret, { keyId: opts.key, ...(opts.context ? { context: opts.context } : {}), clients: clientsFor(opts) });
    io.out(sealed);
    io.err(`Sealed ${secret.length} bytes with ${keyArn}.`);
    return 0;
  } catch (e) {
    return fail(e, io);
  }
}

/**
 * `kenv unseal [--key KEY] [--context k=v]…`: reads the base64 text from stdin and writes the secret.
 *
 * The secret goes to `write` as bytes (standard output by default; no newline is added), never through `io.out`.
 */
export async function runUnsealCommand(
  opts: SecretCommandOptions & { key?: string; write?: (data: Buffer) => void },
  io: CommandIo,
): Promise<number> {
  try {
    // A sealed 4 KiB secret is about 5.6 KiB of base64; anything far larger is not one.
    const input = opts.input ?? (await readStdin(opts.stdin ?? process.stdin, 64 * 1024));
    const { secret } = await unsealSecret(Buffer.from(input).toString('utf8'), {
      ...(opts.key ? { keyId: opts.key } : {}), ...(opts.context ? { context: opts.context } : {}), clients: clientsFor(opts),
    });
    (opts.write ?? ((data: Buffer) => process.stdout.write(data)))(secret);
    secret.fill(0);
    return 0;
  } catch (e) {
    return fail(e, io);
  }
}

function clientsFor(opts: SecretCommandOptions): KmsClientFactory {
  return opts.clients ?? defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
}

/** Reads standard input, stopping as soon as it exceeds `limit` bytes (the caller reports the size). */
async function readStdin(stdin: NodeJS.ReadableStream & { isTTY?: boolean }, limit: number): Promise<Buffer> {
  if (stdin.isTTY) throw new KenvError('INVALID_ARGUMENT', 'Pipe the input on standard input (e.g. printf %s "$TOKEN" | kenv seal --key KEY).');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit) break;
  }
  return Buffer.concat(chunks);
}
