import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecryptStream } from '../crypto/decrypt-stream.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { KENV_EXTENSION, encryptFile } from '../files.js';
import type { EncryptionContext, Keyring } from '../keyring/types.js';
import { forEachLimit } from './pool.js';
import { sha256File } from './scan.js';
import { trashLocal } from './transfer.js';
import type { SkippedFile, SyncFailure } from './types.js';

/** "Encrypt on arrival": plaintext placed in the vault is encrypted with these keys before the sync. */
export interface EncryptOnArrival {
  keyring: Keyring;
  context?: EncryptionContext;
}

export interface ArrivalResult {
  encrypted: { path: string; kenvPath: string }[];
  /** Plaintext left alone on purpose (its `.kenv` name is taken). */
  skipped: SkippedFile[];
  failed: SyncFailure[];
}

/**
 * May this plaintext be encrypted on arrival?
 *
 * Hidden files are left alone: they are editors' and Kenv's own temporary files (`.x.kenv-partial`), which
 * are still being written and would be encrypted half-done.
 */
export function isArrival(path: string): boolean {
  const name = basename(path);
  return !name.startsWith('.') && !name.endsWith('.kenv-partial') && !name.endsWith(KENV_EXTENSION);
}

/** SHA-256 (hex) of a message's plaintext, decrypting every frame (and the signature) with `keyring`. */
async function plaintextSha256(kenvPath: string, keyring: Keyring): Promise<string> {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done();
    },
  });
  await pipeline(createReadStream(kenvPath, { highWaterMark: 1024 * 1024 }), new DecryptStream({ keyring }), sink);
  return hash.digest('hex');
}

/**
 * Encrypts one plaintext to `path.kenv`, proves the message decrypts to the same bytes, then moves the plaintext
 * to `.kenv-trash/`.
 *
 * The plaintext is never removed unless it is unchanged (size, mtime, SHA-256) from before encryption to after
 * the verification; otherwise the new `.kenv` (which holds an older version) is removed and the plaintext stays
 * for the next sync. An existing `path.kenv` is never overwritten.
 */
async function encryptOne(
  vaultDir: string,
  path: string,
  opts: EncryptOnArrival,
  now: () => Date,
): Promise<{ kenvPath: string } | 'kenv-exists'> {
  const abs = join(vaultDir, path);
  const kenvPath = path + KENV_EXTENSION;
  const kenvAbs = join(vaultDir, kenvPath);
  if (await lstat(kenvAbs).then(() => true, () => false)) return 'kenv-exists';
  const before = await lstat(abs);
  const sha256 = await sha256File(abs, before.size);
  try {
    await encryptFile(abs, { keyring: opts.keyring, ...(opts.context ? { context: opts.context } : {}), outputPath: kenvAbs, fileId: true });
  } catch (e) {
    if (e instanceof KenvError && e.code === 'OUTPUT_EXISTS') return 'kenv-exists';
    throw e;
  }
  try {
    const after = await lstat(abs);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw new KenvError('SYNC_LOCAL_CHANGED', `${path} changed while it was being encrypted on arrival; it was kept. Sync again to encrypt the new version.`);
    }
    if ((await plaintextSha256(kenvAbs, opts.keyring)) !== sha256) {
      throw new KenvError(
        'SYNC_ARRIVAL_UNVERIFIED',
        `${kenvPath} did not decrypt back to the bytes of ${path}, so ${path} was kept and ${kenvPath} removed. Sync again; if it keeps happening, encrypt the file by hand.`,
      );
    }
    // Refuses (SYNC_LOCAL_CHANGED) if the plaintext changed during the verification.
    await trashLocal({ vaultDir, now }, { path, size: before.size, mtimeMs: before.mtimeMs, sha256 });
  } catch (e) {
    // The .kenv was written by this call just now (encryptFile never replaces a file) and the plaintext is
    // still in place (the move to the trash is the last step), so removing the .kenv loses nothing and lets
    // the next sync encrypt the current version.
    await rm(kenvAbs, { force: true });
    throw e;
  }
  return { kenvPath };
}

/** Encrypts the plaintext files at `paths` (vault-relative) on arrival, `concurrency` at a time. */
export async function encryptArrivals(
  vaultDir: string,
  paths: readonly string[],
  opts: EncryptOnArrival,
  concurrency: number,
  now: () => Date,
): Promise<ArrivalResult> {
  const result: ArrivalResult = { encrypted: [], skipped: [], failed: [] };
  await forEachLimit(paths.filter(isArrival), concurrency, async (path) => {
    try {
      const done = await encryptOne(vaultDir, path, opts, now);
      if (done === 'kenv-exists') result.skipped.push({ path, reason: 'arrival-kenv-exists' });
      else result.encrypted.push({ path, kenvPath: done.kenvPath });
    } catch (e) {
      result.failed.push({ path, ...toErrorInfo(e) });
    }
  });
  result.encrypted.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}
