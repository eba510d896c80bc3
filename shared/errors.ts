/**
 * Error codes shared by the core, the CLI and the renderer.
 *
 * Every failure that reaches a person carries one of these codes and a sentence that says what happened and
 * what to do. The UI decides what to offer (sign in, retry, pick another key) from the code alone.
 */
export const ErrorCodes = {
  // The message format: each way a .kenv file can be wrong.
  NOT_KENV: 'The input is not a .kenv (AWS Encryption SDK) message.',
  UNSUPPORTED_VERSION: 'The message format version is not one Kenv reads.',
  UNSUPPORTED_SUITE: 'The algorithm suite is unknown.',
  NO_KEY_COMMITMENT: 'The message uses a suite without key commitment, which Kenv refuses.',
  TRUNCATED_HEADER: 'The message ends inside its header.',
  MALFORMED_HEADER: 'A header field holds a value the format does not allow.',
  HEADER_TAMPERED: 'The header failed authentication.',
  COMMITMENT_MISMATCH: 'The data key does not match the key commitment in the header.',
  NO_KEY_OPENED: 'No keyring could decrypt any of the data keys.',
  CONTEXT_MISMATCH: 'The encryption context does not match the one required.',
  FRAME_TAMPERED: 'A frame failed authentication.',
  FRAME_OUT_OF_ORDER: 'A frame is out of sequence.',
  TRUNCATED_BODY: 'The message ends before its final frame.',
  TRAILING_BYTES: 'Bytes follow the end of the message.',
  BAD_SIGNATURE: 'The message signature does not verify.',
  TRUNCATED_FOOTER: 'The message ends inside its signature footer.',
  SIGNATURE_STRIPPED: 'An unsigned message carries the verification key of a signed one: its signature was removed.',
  TOO_MANY_DATA_KEYS: 'The message holds more encrypted data keys than the limit allows.',

  // Keys and AWS.
  KMS_ACCESS_DENIED: 'KMS denied the operation.',
  KMS_KEY_DISABLED: 'The KMS key is disabled.',
  KMS_KEY_PENDING_DELETION: 'The KMS key is pending deletion.',
  KMS_KEY_NOT_FOUND: 'The KMS key does not exist.',
  KMS_WRONG_REGION: 'The KMS key is in another Region.',
  KMS_INVALID_CIPHERTEXT: 'KMS could not decrypt the data key with this key and context.',
  KMS_INCORRECT_KEY: 'The ciphertext was not encrypted under this KMS key.',
  KMS_THROTTLED: 'KMS throttled the requests.',
  KMS_ERROR: 'KMS returned an error.',
  NETWORK_UNREACHABLE: 'The AWS endpoint could not be reached.',
  NETWORK_REFUSED: 'The AWS endpoint refused the connection.',
  NETWORK_DNS: "The AWS endpoint's host name could not be resolved.",
  NETWORK_TLS: 'The TLS connection to the AWS endpoint failed.',
  NETWORK_TIMEOUT: 'The AWS endpoint did not answer in time.',
  PROFILE_NOT_FOUND: 'The AWS profile does not exist.',
  NO_CREDENTIALS: 'No AWS credentials were found.',
  SSO_EXPIRED: 'The AWS SSO session has expired.',
  NO_REGION: 'No AWS Region is configured.',
  INVALID_KEY: 'A key argument is not valid.',
  UNTRUSTED_KEY_ACCOUNT: 'The file names a KMS key in an account you do not trust; KMS was not called.',

  // Identity (issue 3): sign-in and the OS keychain.
  SSO_LOGIN_FAILED: 'Signing in with IAM Identity Center did not complete.',
  KEYCHAIN_UNAVAILABLE: 'The OS keychain could not be used.',

  // Files.
  INPUT_NOT_FOUND: 'The input file does not exist.',
  INPUT_UNREADABLE: 'The input could not be read.',
  OUTPUT_EXISTS: 'The output file exists already.',
  OUTPUT_FAILED: 'The output could not be written.',
  NAME_TOO_LONG: 'The output file name is longer than the file system allows.',
  SECRET_TOO_LARGE: 'The secret is larger than KMS Encrypt accepts.',

  // Vault sync.
  SYNC_REMOTE_CHANGED: 'The remote object changed while this sync ran.',
  SYNC_LOCAL_CHANGED: 'A local file changed while this sync ran.',
  SYNC_CHECKSUM_MISMATCH: 'A transferred file does not match its SHA-256.',
  SYNC_BUSY: 'Another sync of this vault is running.',
  SYNC_ARRIVAL_UNVERIFIED: 'A file encrypted on arrival did not decrypt back to the same bytes.',
  SYNC_UNSAFE_PATH: 'Sync refused to write through a symbolic link or outside the vault.',
  SYNC_MASS_DELETE: 'Sync stopped: it would have deleted more of the vault than allowed.',
  S3_ACCESS_DENIED: 'S3 denied the operation.',
  S3_NO_SUCH_BUCKET: 'The S3 bucket does not exist.',
  S3_ERROR: 'S3 returned an error.',

  // Proof and audit (issue 13).
  IMPORT_DECRYPT_FAILED: 'An OpenSSL enc file did not decrypt with its data key.',
  IMPORT_UNVERIFIED: 'An imported file did not verify; the original was kept.',

  // The desktop app's IPC boundary.
  INVALID_REQUEST: 'A request to the app was malformed.',
  FORBIDDEN_SENDER: 'A request came from a page the app does not trust.',
  NOT_ALLOWED: 'The app refused an action it did not offer.',

  // Other.
  INVALID_ARGUMENT: 'An argument is not valid.',
  CANCELLED: 'The operation was cancelled.',
  INTERNAL: 'An unexpected error occurred.',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** What crosses a process or IPC boundary: a code the UI can act on and a sentence a person can read. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** The result of every IPC call: never thrown across `invoke`. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** Is `value` one of the codes above? */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, value);
}
