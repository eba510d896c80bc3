import { type ErrorCode, type ErrorInfo, isErrorCode } from '../../shared/errors.js';

/**
 * The one error type the core throws.
 *
 * `message` is a whole sentence for a person: what happened and what to do. `code` is for programs.
 */
export class KenvError extends Error {
  override readonly name = 'KenvError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** Throws a KenvError with `code` unless `condition` holds (the ESDK's `needs`). */
export function needs(condition: unknown, code: ErrorCode, message: string): asserts condition {
  if (!condition) throw new KenvError(code, message);
}

/** Turns anything thrown into the shape that crosses IPC and reaches the CLI's stderr. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof KenvError) return error.toInfo();
  if (error && typeof error === 'object' && 'code' in error && isErrorCode(error.code) && 'message' in error) {
    return { code: error.code, message: String(error.message) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Unexpected error: ${message}. Please report it with the command you ran.` };
}
