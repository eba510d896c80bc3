/**
 * Importing files made with the do-it-yourself KMS envelope recipe: `aws kms generate-data-key`, then
 * `openssl enc -aes-256-cbc -pbkdf2 -salt -pass pass:<the base64 plaintext key>`, the encrypted data key kept beside.
 *
 * That format (OpenSSL's "Salted__" header, AES-256-CBC, no MAC) cannot detect tampering: a changed byte decrypts to
 * changed plaintext, or to garbage that may still end in valid padding. Importing turns it into an authenticated
 * .kenv under a KMS key; the plaintext only ever streams through memory, from the CBC decipher into the encryptor.
 * The new file is verified (authenticated end to end and compared with what was read) before the original moves
 * to the trash.
 */
import { createDecipheriv, createHash, pbkdf2Sync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecryptCommand } from '@aws-sdk/client-kms';
import { AtomicOutput, errnoCode, errnoText, refuseExisting } from '../atomic-output.js';
import { withFileId } from '../audit/file-id.js';
import { EncryptStream, prepareEncryption } from '../crypto/encrypt-stream.js';
import { KenvError } from '../errors.js';
import { KmsKeyring } from '../keyring/kms-keyring.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';
import type { KmsClientFactory } from '../kms/client.js';
import { kmsError } from '../kms/errors.js';
import { PreflightKeyring } from '../preflight/preflight.js';
import { verifyFile } from '../verify/verify.js';

const SALTED_MAGIC = Buffer.from('Salted__', 'latin1');
/** `openssl enc -pbkdf2` without `-iter`: 10,000 iterations of PBKDF2-HMAC-SHA256 (OpenSSL 1.1.1 and 3.x). */
export const OPENSSL_DEFAULT_ITERATIONS = 10_000;

export interface ImportOptions {
  /** The KMS-encrypted data key (CiphertextBlob): binary, or its base64. */
  dataKeyPath: string;
  clients: KmsClientFactory;
  /** Keys to write the .kenv under; default the key that protected the data key. */
  keyIds?: string[];
  iterations?: number;
  context?: EncryptionContext;
  fileId?: boolean;
  preflight?: boolean;
  outputPath?: string;
  outDir?: string;
  force?: boolean;
  /** Moves the original away once the .kenv verified (the OS trash). */
  trash: (path: string) => Promise<void>;
}

export interface ImportResult {
  outputPath: string;
  keyIds: string[];
  bytes: number;
  trashed: boolean;
}

/** The .kenv name for an OpenSSL file: `report.pdf.enc` → `report.pdf.kenv`, anything else gets `.kenv` added. */
export function importedName(inputPath: string): string {
  const name = basename(inputPath);
  const stem = /\.(enc|aes|aes256|ssl)$/i.test(name) && name.lastIndexOf('.') > 0 ? name.slice(0, name.lastIndexOf('.')) : name;
  return `${stem}.kenv`;
}

/** Imports one OpenSSL `enc` file; see the module comment. */
export async function importOpensslEnc(inputPath: string, opts: ImportOptions): Promise<ImportResult> {
  const iterations = opts.iterations ?? OPENSSL_DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new KenvError('INVALID_ARGUMENT', `--iter must be a whole number of at least 1; got ${iterations}.`);
  const outputPath = opts.outputPath ?? join(opts.outDir ?? dirname(inputPath), importedName(inputPath));
  const salt = await readSalt(inputPath);
  await refuseExisting(outputPath, opts.force ?? false);
  const { dataKey, keyArn } = await decryptDataKey(opts.dataKeyPath, opts.clients);

  // The recipe's password is the plaintext data key as `aws kms generate-data-key` prints it: base64.
  const password = Buffer.from(dataKey.toString('base64'), 'latin1');
  dataKey.fill(0);
  const derived = pbkdf2Sync(password, salt, iterations, 48, 'sha256');
  password.fill(0);
  const keyIds = opts.keyIds?.length ? opts.keyIds : [keyArn];
  let keyring: Keyring = new KmsKeyring({ keyIds, clients: opts.clients });
  if (opts.preflight !== false) keyring = new PreflightKeyring(keyring, opts.clients);

  const readHash = createHash('sha256');
  let bytes = 0;
  try {
    const decipher = createDecipheriv('aes-256-cbc', derived.subarray(0, 32), derived.subarray(32, 48));
    const context = opts.fileId === false ? { ...(opts.context ?? {}) } : withFileId(opts.context);
    const materials = await prepareEncryption({ keyring, context });
    const out = await AtomicOutput.create(outputPath, { force: opts.force ?? false });
    try {
      const tap = new Transform({
        transform(chunk: Buffer, _enc, callback) {
          readHash.update(chunk);
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(createReadStream(inputPath, { start: SALTED_MAGIC.length + 8 }), decipher, tap, new EncryptStream(materials), out.stream).catch(
        (e: unknown) => {
          throw importError(e, inputPath, outputPath, iterations);
        },
      );
      await out.commit();
    } catch (e) {
      await out.abort();
      throw e;
    }
  } finally {
    derived.fill(0);
  }

  // Verify what was written: every frame authenticates and the plaintext is what was read from the OpenSSL file.
  const checkHash = createHash('sha256');
  try {
    await verifyFile(outputPath, { keyring: new KmsKeyring({ clients: opts.clients }), onPlaintext: (c) => checkHash.update(c) });
  } catch (e) {
    throw new KenvError('IMPORT_UNVERIFIED', `The new ${outputPath} did not verify (${(e as Error).message}); the original ${inputPath} was kept. Remove ${outputPath} and try again.`, { cause: e });
  }
  if (!checkHash.digest().equals(readHash.digest())) {
    throw new KenvError('IMPORT_UNVERIFIED', `The new ${outputPath} does not decrypt to what was read from ${inputPath}; the original was kept. Remove ${outputPath} and try again.`);
  }
  await opts.trash(inputPath).catch((e: unknown) => {
    throw new KenvError('OUTPUT_FAILED', `${outputPath} was written and verified, but ${inputPath} could not be moved to the trash (${errnoText(e) || String(e)}). Delete it yourself.`, { cause: e });
  });
  return { outputPath, keyIds, bytes, trashed: true };
}

async function readSalt(path: string): Promise<Buffer> {
  let head: Buffer;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new KenvError('INPUT_UNREADABLE', `${path} is not a regular file.`);
    const handle = await open(path, 'r');
    try {
      head = Buffer.alloc(16);
      const { bytesRead } = await handle.read(head, 0, 16, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof KenvError) throw e;
    if (errnoCode(e) === 'ENOENT') throw new KenvError('INPUT_NOT_FOUND', `${path} does not exist. Check the name and the folder.`);
    throw new KenvError('INPUT_UNREADABLE', `Cannot read ${path}: ${errnoText(e, 'read')}.`, { cause: e });
  }
  if (head.length < 16 || !head.subarray(0, 8).equals(SALTED_MAGIC)) {
    throw new KenvError(
      'INVALID_ARGUMENT',
      `${path} is not in OpenSSL's salted format (it does not start with "Salted__"): kenv import reads files made by openssl enc -aes-256-cbc -pbkdf2 -salt.`,
    );
  }
  return Buffer.from(head.subarray(8, 16));
}

async function decryptDataKey(path: string, clients: KmsClientFactory): Promise<{ dataKey: Buffer; keyArn: string }> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new KenvError('INPUT_NOT_FOUND', `The encrypted data key file ${path} does not exist.`);
    throw new KenvError('INPUT_UNREADABLE', `Cannot read the encrypted data key file ${path}: ${errnoText(e, 'read')}.`, { cause: e });
  }
  const text = raw.toString('latin1').trim();
  const blob = /^[A-Za-z0-9+/\r\n]+={0,2}$/.test(text) && text.length >= 16 ? Buffer.from(text, 'base64') : raw;
  if (blob.length < 1 || blob.length > 6144) {
    throw new KenvError('INVALID_ARGUMENT', `${path} does not hold a KMS CiphertextBlob (binary or base64).`);
  }
  let out;
  try {
    out = await clients().send(new DecryptCommand({ CiphertextBlob: blob }));
  } catch (e) {
    throw kmsError(e, { operation: 'Decrypt' });
  }
  if (!out.Plaintext || !out.KeyId) {
    out.Plaintext?.fill(0);
    throw new KenvError('KMS_ERROR', 'KMS Decrypt of the data key returned an incomplete answer.');
  }
  if (out.Plaintext.length !== 32) {
    out.Plaintext.fill(0);
    throw new KenvError('INVALID_ARGUMENT', `The data key in ${path} is ${out.Plaintext.length} bytes, not 32: it was not made with --key-spec AES_256.`);
  }
  const dataKey = Buffer.from(out.Plaintext);
  out.Plaintext.fill(0);
  return { dataKey, keyArn: out.KeyId };
}

function importError(e: unknown, inputPath: string, outputPath: string, iterations: number): unknown {
  if (e instanceof KenvError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/bad decrypt|wrong final block length|BAD_DECRYPT|WRONG_FINAL_BLOCK_LENGTH/i.test(message)) {
    return new KenvError(
      'IMPORT_DECRYPT_FAILED',
      `${inputPath} did not decrypt: its padding is wrong. Either the data key or the iteration count (${iterations}; see --iter) is not the one it was made with, ` +
        'or the file was changed: this old format cannot tell which, because it carries no authentication. Nothing was written.',
      { cause: e },
    );
  }
  if (errnoCode(e)) return new KenvError('OUTPUT_FAILED', `Cannot write ${outputPath}: ${errnoText(e)}. No output was kept.`, { cause: e });
  return e;
}
