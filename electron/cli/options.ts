import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { KenvError } from '../core/errors.js';
import { errnoText } from '../core/atomic-output.js';
import type { EncryptionContext } from '../core/keyring/types.js';
import { rsaKeyFromPem } from '../core/keyring/rsa.js';
import type { KeyObject } from 'node:crypto';

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `k=v` pairs into an encryption context; the first `=` separates key from value. */
export function parseContext(pairs: readonly string[] = []): EncryptionContext {
  const context: EncryptionContext = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new KenvError('INVALID_ARGUMENT', `--context takes key=value pairs; "${pair}" has no key.`);
    const key = pair.slice(0, at);
    if (Object.prototype.hasOwnProperty.call(context, key) && context[key] !== pair.slice(at + 1)) {
      throw new KenvError('INVALID_ARGUMENT', `The context key "${key}" is given twice with different values.`);
    }
    context[key] = pair.slice(at + 1);
  }
  return context;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2 };

/** A byte count: `65536`, `64KiB`, `1MiB`, `4M`. */
export function parseBytes(value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new InvalidArgumentError(`"${value}" is not a size: give bytes, or a number with KiB or MiB.`);
  return Number(match[1]) * unit;
}

/** Reads a raw AES key file: 32 raw bytes, or their base64 (surrounding white space ignored). */
export async function readRawAesKey(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new KenvError('INVALID_KEY', `Cannot read the raw AES key file ${path}: ${errnoText(e)}.`, { cause: e });
  }
  if (bytes.length === 32) return bytes;
  const text = bytes.toString('utf8').trim();
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  throw new KenvError(
    'INVALID_KEY',
    `The raw AES key file ${path} must hold exactly 32 bytes or their base64 (44 characters); it holds ${bytes.length} bytes. Make one with: head -c 32 /dev/urandom > ${path}`,
  );
}

/** `--max-data-keys N`: a whole number from 1 to 65,535 (the format's own limit, which turns the cap off). */
export function parseMaxDataKeys(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a number of data keys: give a whole number from 1 to 65535 (65535 = no limit).`);
  }
  return n;
}

/** Reads a PEM RSA key file: a public key, or a private key (whose public half is derived for encrypting). */
export async function readRsaKey(path: string): Promise<{ publicKey: KeyObject; privateKey?: KeyObject }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new KenvError('INVALID_KEY', `Cannot read the RSA key file ${path}: ${errnoText(e)}.`, { cause: e });
  }
  return rsaKeyFromPem(text, `The RSA key file ${path}`);
}
