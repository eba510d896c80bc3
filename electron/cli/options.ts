import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { KenvError } from '../core/errors.js';
import { errnoText } from '../core/atomic-output.js';
import { serializeEncryptionContext } from '../core/format/context.js';
import { isKeyReference } from '../core/kms/key-ids.js';
import type { EncryptionContext } from '../core/keyring/types.js';
import { rsaKeyFromPem } from '../core/keyring/rsa.js';
import type { KeyObject } from 'node:crypto';

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An option parser for a KMS key reference: a key id, key ARN, alias/NAME or alias ARN. */
export function keyReference(value: string): string {
  if (!isKeyReference(value)) {
    throw new InvalidArgumentError(`"${value}" is not a KMS key reference: give a key id, a key ARN, an alias name (alias/…) or an alias ARN.`);
  }
  return value;
}

/** A repeatable key option: each value checked as keyReference. */
export function collectKeys(value: string, previous: string[] = []): string[] {
  return collect(keyReference(value), previous);
}

/** An option parser for an AWS Region name (what the SDK accepts: one host name label, such as eu-west-1). */
export function regionName(value: string): string {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(value)) {
    throw new InvalidArgumentError(`"${value}" is not an AWS Region name: give one such as us-east-1 or eu-west-1.`);
  }
  return value;
}

/**
 * `k=v` pairs into an encryption context; the first `=` separates key from value.
 *
 * `forEncrypt` also applies the rules of a context written into a message (no reserved `aws-crypto-` key, the
 * format's size limits), so that a context the encryption would refuse is a usage error before any file is touched.
 */
export function parseContext(pairs: readonly string[] = [], opts: { forEncrypt?: boolean } = {}): EncryptionContext {
  const context: EncryptionContext = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new KenvError('INVALID_ARGUMENT', `--context takes key=value pairs; "${pair}" has no key.`);
    const key = pair.slice(0, at);
    if (Object.prototype.hasOwnProperty.call(context, key) && context[key] !== pair.slice(at + 1)) {
      throw new KenvError('INVALID_ARGUMENT', `The context key "${key}" is given twice with different values.`);
    }
    if (opts.forEncrypt && key.startsWith(RESERVED_CONTEXT_PREFIX)) {
      throw new KenvError('INVALID_ARGUMENT', `The encryption context key "${key}" is reserved by the AWS Encryption SDK (keys starting with ${RESERVED_CONTEXT_PREFIX}); choose another name.`);
    }
    context[key] = pair.slice(at + 1);
  }
  if (opts.forEncrypt) serializeEncryptionContext(context);
  return context;
}

const RESERVED_CONTEXT_PREFIX = 'aws-crypto-';

/**
 * Size units: bytes, and binary multiples as `ls -h`, `head -c` and `dd` read them (K = KiB = 1024). Decimal
 * `kB`/`KB`/`MB`/`GB` are refused rather than guessed: coreutils reads `KB` as 1000, other tools as 1024.
 */
const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kib: 1024,
  m: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3,
};

/** A byte count: `65536`, `64KiB`, `1MiB`, `4M`, `1GiB` (whole numbers; units are case-insensitive). */
export function parseBytes(value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new InvalidArgumentError(`"${value}" is not a size: give bytes, or a whole number with KiB, MiB or GiB (K, M, G).`);
  return Number(match[1]) * unit;
}

/** An option parser for a size from `min` to `max` bytes; outside that range is a usage error naming the range. */
export function sizeInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const bytes = parseBytes(value);
    if (bytes < min || bytes > max) {
      throw new InvalidArgumentError(`"${value}" is out of range: give ${formatBytes(min)} to ${formatBytes(max)}.`);
    }
    return bytes;
  };
}

/** An option parser for a whole number from `min` to `max`; anything else is a usage error naming the range. */
export function wholeNumberInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`"${value}" is not a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** `1024` as `1 KiB`, `67108864` as `64 MiB`; sizes that are not whole units stay in bytes. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/** Reads a raw AES key file: 32 raw bytes, or their base64 (surrounding white space ignored). */
export async function readRawAesKey(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new KenvError('INVALID_KEY', `Cannot read the raw AES key file ${path}: ${errnoText(e, 'read')}.`, { cause: e });
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
    throw new KenvError('INVALID_KEY', `Cannot read the RSA key file ${path}: ${errnoText(e, 'read')}.`, { cause: e });
  }
  return rsaKeyFromPem(text, `The RSA key file ${path}`);
}
