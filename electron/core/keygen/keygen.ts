import { randomBytes } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import { GenerateRandomCommand } from '@aws-sdk/client-kms';
import type { CommandIo } from '../aws/command.js';
import { AtomicOutput, errnoText } from '../atomic-output.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { type KmsClientFactory, defaultKmsClientFactory } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';

export const RAW_KEY_LENGTH = 32;

export interface KeygenOptions {
  /** Take the bytes from KMS GenerateRandom (the HSMs' generator) instead of this machine's. */
  kmsRandom?: boolean;
  clients?: KmsClientFactory;
  region?: string;
  force?: boolean;
}

/**
 * Writes a new 256-bit raw AES key (32 bytes) to `path`, mode 0600, for `--raw-aes-key`.
 *
 * The file appears only complete (temporary file, fsync, rename) and never replaces an existing key without
 * `force`: overwriting a key file loses every file encrypted under it. The bytes are zeroed once written.
 */
export async function generateKeyFile(path: string, opts: KeygenOptions = {}): Promise<{ path: string; source: 'kms' | 'local' }> {
  const key = opts.kmsRandom ? await kmsRandom(opts.clients ?? defaultKmsClientFactory(), opts.region) : randomBytes(RAW_KEY_LENGTH);
  try {
    const out = await AtomicOutput.create(path, { force: opts.force ?? false });
    try {
      let written = 0;
      while (written < key.length) written += writeSync(out.fd, key, written, key.length - written, written);
      await out.commit();
    } catch (e) {
      await out.abort();
      if (e instanceof KenvError) throw e;
      throw new KenvError('OUTPUT_FAILED', `Cannot write the key file ${path}: ${errnoText(e)}. No key was kept.`, { cause: e });
    }
    // The temporary file was made 0600; say so again in case a umask or an ACL widened it.
    await chmod(path, 0o600);
  } finally {
    key.fill(0);
  }
  return { path, source: opts.kmsRandom ? 'kms' : 'local' };
}

async function kmsRandom(clients: KmsClientFactory, region: string | undefined): Promise<Buffer> {
  let out;
  try {
    out = await clients(region).send(new GenerateRandomCommand({ NumberOfBytes: RAW_KEY_LENGTH }));
  } catch (e) {
    throw kmsError(e, { operation: 'GenerateRandom', ...(region ? { region } : {}) });
  }
  if (!out.Plaintext || out.Plaintext.length !== RAW_KEY_LENGTH) {
    out.Plaintext?.fill(0);
    throw new KenvError('KMS_ERROR', `KMS GenerateRandom returned ${out.Plaintext?.length ?? 0} bytes instead of ${RAW_KEY_LENGTH}; no key was written.`);
  }
  const key = Buffer.from(out.Plaintext);
  out.Plaintext.fill(0);
  return key;
}

/** `kenv keygen FILE [--kms-random] [--force]`. */
export async function runKeygenCommand(opts: { file: string; kmsRandom?: boolean; force?: boolean; profile?: string; region?: string }, io: CommandIo): Promise<number> {
  try {
    const clients = opts.kmsRandom ? defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) }) : undefined;
    const done = await generateKeyFile(opts.file, { kmsRandom: !!opts.kmsRandom, force: !!opts.force, ...(clients ? { clients } : {}) });
    io.err(
      `wrote a 256-bit raw AES key to ${done.path} (mode 0600, bytes from ${done.source === 'kms' ? 'KMS GenerateRandom' : "this machine's CSPRNG"}). ` +
        'Back it up: files encrypted under it cannot be opened without it.',
    );
    return 0;
  } catch (e) {
    const info = toErrorInfo(e);
    io.err(`kenv: ${opts.file}: ${info.message} [${info.code}]`);
    return 1;
  }
}
