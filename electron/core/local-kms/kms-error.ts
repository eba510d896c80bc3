/**
 * An error the local KMS answers in the AWS JSON 1.1 shape.
 *
 * `type` becomes both the body's `__type` and the `x-amzn-errortype` header, which is what the AWS SDK turns into
 * `e.name`. Every KMS error is HTTP 400, as real KMS answers them.
 */
export class KmsError extends Error {
  constructor(
    readonly type: KmsErrorType,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** The error types this server answers, spelled as real KMS spells them. */
export type KmsErrorType =
  | 'AccessDeniedException'
  | 'AlreadyExistsException'
  | 'DisabledException'
  | 'DryRunOperationException'
  | 'IncorrectKeyException'
  | 'InvalidCiphertextException'
  | 'InvalidKeyUsageException'
  | 'KMSInternalException'
  | 'KMSInvalidStateException'
  | 'NotFoundException'
  | 'SerializationException'
  | 'ThrottlingException'
  | 'UnknownOperationException'
  | 'UnsupportedOperationException'
  | 'ValidationException';
