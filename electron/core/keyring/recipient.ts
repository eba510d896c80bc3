import { type KeyObject, createPublicKey } from 'node:crypto';
import { KenvError } from '../errors.js';
import { isKeyArn } from '../kms/key-ids.js';
import { type KmsRsaAlgorithm, isKmsRsaAlgorithm } from './rsa.js';

/** A KMS RSA key as a person without AWS receives it: enough to encrypt for the key's holder, nothing more. */
export interface Recipient {
  keyArn: string;
  algorithm: KmsRsaAlgorithm;
  publicKey: KeyObject;
}

const HEADER = '# Kenv recipient: an AWS KMS RSA public key';

/**
 * The recipient file: a few comment lines, `Key-ARN:` and `Encryption-Algorithm:`, and the PEM public key.
 *
 * Plain text so it survives e-mail. It is public: it lets anyone make files only the key's holder can open, and
 * proves nothing about who made them.
 */
export function formatRecipient(keyArn: string, algorithm: KmsRsaAlgorithm, publicKeyDer: Uint8Array): string {
  const pem = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();
  return [
    HEADER,
    '# Files encrypted for it open only with KMS Decrypt on this key. Anyone holding this file can make such a file,',
    '# so a file made with it proves nothing about who sent it. Encrypt: kenv encrypt FILE --recipient THIS_FILE',
    `Key-ARN: ${keyArn}`,
    `Encryption-Algorithm: ${algorithm}`,
    pem.trimEnd(),
    '',
  ].join('\n');
}

/** Parses a recipient file; anything missing, repeated or malformed is INVALID_KEY naming the file. */
export function parseRecipient(text: string, source: string): Recipient {
  const fail = (what: string): KenvError =>
    new KenvError('INVALID_KEY', `${source} is not a Kenv recipient file: ${what}. Ask the key's holder for a new one (kenv public-key KEY --out FILE).`);
  const field = (name: string): string => {
    const values = [...text.matchAll(new RegExp(`^${name}:[ \\t]*(\\S+)[ \\t]*\\r?$`, 'gm'))].map((m) => m[1]!);
    if (values.length !== 1) throw fail(values.length === 0 ? `it has no ${name} line` : `it has ${values.length} ${name} lines`);
    return values[0]!;
  };
  const keyArn = field('Key-ARN');
  const algorithm = field('Encryption-Algorithm');
  if (!isKeyArn(keyArn)) throw fail(`"${keyArn}" is not a KMS key ARN`);
  if (!isKmsRsaAlgorithm(algorithm)) throw fail(`"${algorithm}" is not RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1`);
  const blocks = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length !== 1) throw fail(blocks.length === 0 ? 'it has no PEM public key' : 'it has more than one public key');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(blocks[0]!);
  } catch (e) {
    throw fail(`its public key does not parse (${(e as Error).message})`);
  }
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (publicKey.asymmetricKeyType !== 'rsa' || bits < 2048) throw fail('its public key is not an RSA key of 2048 bits or more');
  return { keyArn, algorithm, publicKey };
}
