/**
 * The algorithm suites Kenv writes and reads: the two committing suites of ESDK message format version 2.
 *
 * Format version 1 suites (no key commitment) are recognised only to refuse them with a precise error.
 */
export interface AlgorithmSuite {
  id: number;
  name: string;
  /** Whether the message carries an ECDSA P-384 signature in a footer. */
  signed: boolean;
}

export const SUITE_COMMIT_KEY: AlgorithmSuite = {
  id: 0x0478,
  name: 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY',
  signed: false,
};

export const SUITE_COMMIT_KEY_ECDSA_P384: AlgorithmSuite = {
  id: 0x0578,
  name: 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384',
  signed: true,
};

const SUITES = new Map([SUITE_COMMIT_KEY, SUITE_COMMIT_KEY_ECDSA_P384].map((s) => [s.id, s]));

/** Suite ids of message format version 1: valid ESDK suites, but without key commitment. */
export const NON_COMMITTING_SUITE_IDS: ReadonlySet<number> = new Set([
  0x0014, 0x0046, 0x0078, 0x0114, 0x0146, 0x0178, 0x0214, 0x0346, 0x0378,
]);

/** The suite with this id, or undefined when Kenv does not read it. */
export function suiteById(id: number): AlgorithmSuite | undefined {
  return SUITES.get(id);
}

/** Suite id as the ESDK spells it: `0x0478`. */
export function suiteHex(id: number): string {
  return `0x${id.toString(16).padStart(4, '0')}`;
}

export const MESSAGE_ID_LENGTH = 32;
export const COMMITMENT_LENGTH = 32;
export const DATA_KEY_LENGTH = 32;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
export const CONTENT_TYPE_FRAMED = 0x02;
export const CONTENT_TYPE_NON_FRAMED = 0x01;
export const FORMAT_VERSION = 0x02;
/** The reserved encryption-context key that holds a signed message's public key. */
export const PUBLIC_KEY_CONTEXT_KEY = 'aws-crypto-public-key';
/** Sequence number that marks the final frame. */
export const FINAL_FRAME_MARKER = 0xffffffff;
export const FRAME_LABEL = 'AWSKMSEncryptionClient Frame';
export const FINAL_FRAME_LABEL = 'AWSKMSEncryptionClient Final Frame';
