import { type Command, Option } from 'commander';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS } from '../core/format/header.js';
import { parseMaxDataKeys, regionName } from './options.js';

/** What a command's key options say beyond the raw AES key: whether it takes a raw RSA key, and its AWS words. */
export interface KeyOptionWords {
  /** Offer `--raw-rsa-*` (default true). */
  rawRsa?: boolean;
  profile?: string;
  region?: string;
}

/**
 * Adds the options that choose a keyring (read by keyringFromOptions): the raw AES key, the raw RSA key, the AWS
 * profile and Region.
 *
 * Added after a command's own options, so `--help` lists them last.
 */
export function addKeyOptions(
  command: Command,
  {
    rawRsa = true,
    profile = 'AWS profile for KMS (default: AWS_PROFILE or default)',
    region = 'AWS Region for KMS keys given without an ARN',
  }: KeyOptionWords = {},
): Command {
  command
    .option('--raw-aes-key <file>', 'raw AES-256 wrapping key: a file of 32 bytes or their base64')
    .option('--raw-aes-namespace <ns>', 'raw AES key namespace (the ESDK provider id)')
    .option('--raw-aes-name <name>', 'raw AES key name');
  if (rawRsa) {
    command
      .option('--raw-rsa-key <file>', 'raw RSA key, PEM: public or private to encrypt, private to decrypt')
      .option('--raw-rsa-namespace <ns>', 'raw RSA key namespace (the ESDK provider id)')
      .option('--raw-rsa-name <name>', 'raw RSA key name')
      .option('--raw-rsa-padding <padding>', 'raw RSA padding: oaep-sha1, oaep-sha256, oaep-sha384, oaep-sha512 or pkcs1');
  }
  return command.option('--profile <profile>', profile).option('--region <region>', region, regionName);
}

/** `--max-data-keys N` (default 10): the ESDK's maximum number of encrypted data keys. */
export function maxDataKeysOption(): Option {
  return new Option('--max-data-keys <n>', 'refuse a message with more encrypted data keys than N, before any KMS call (65535: no limit)')
    .argParser(parseMaxDataKeys)
    .default(DEFAULT_MAX_ENCRYPTED_DATA_KEYS);
}
