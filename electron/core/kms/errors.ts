import type { ErrorCode } from '../../../shared/errors.js';
import { KenvError } from '../errors.js';

export interface KmsErrorContext {
  operation: string;
  keyId?: string;
  keyArn?: string;
  alias?: string;
  region?: string;
  profile?: string;
}

/**
 * Turns a KMS failure into a KenvError with a code from shared/ and a sentence that names the action, the key and
 * the fix.
 */
export function kmsError(e: unknown, ctx: KmsErrorContext): KenvError {
  if (e instanceof KenvError) return e;
  const name = errorName(e);
  const detail = e instanceof Error ? e.message : String(e);
  const key = describeKey(ctx);
  const action = `kms:${ctx.operation}`;
  const [code, sentence] = ((): [ErrorCode, string] => {
    switch (name) {
      case 'AccessDeniedException':
        return ['KMS_ACCESS_DENIED', `KMS denied ${action} on ${key}: your identity lacks the ${action} permission for that key. Ask the key's administrator to allow ${action} in the key policy or your IAM policy.`];
      case 'DisabledException':
        return ['KMS_KEY_DISABLED', `KMS ${ctx.operation} failed because ${key} is disabled. Ask the key's administrator to enable it (kms:EnableKey), or use another key.`];
      case 'KMSInvalidStateException':
        return ['KMS_KEY_PENDING_DELETION', `KMS ${ctx.operation} failed because ${key} is pending deletion or not usable (${detail}). Cancel the deletion (kms:CancelKeyDeletion) and enable the key to use it again.`];
      case 'NotFoundException':
        return ['KMS_KEY_NOT_FOUND', `KMS cannot find ${key}${ctx.region ? ` in ${ctx.region}` : ''}. Check the key id or alias, the account, and the Region.`];
      case 'InvalidCiphertextException':
        return ['KMS_INVALID_CIPHERTEXT', `KMS could not decrypt the data key with ${key}: the encryption context differs from the one used to encrypt, or the wrapped key was altered. Check the --context pairs.`];
      case 'IncorrectKeyException':
        return ['KMS_INCORRECT_KEY', `The data key was not encrypted under ${key}.`];
      case 'ThrottlingException':
      case 'LimitExceededException':
        return ['KMS_THROTTLED', `KMS throttled ${action} on ${key} even after retries. Try again in a moment, or process fewer files at once.`];
      case 'CredentialsProviderError':
        return ['NO_CREDENTIALS', `No AWS credentials were found for ${action}. Sign in (aws sso login, or kenv login) or set a profile with --profile or AWS_PROFILE.`];
      default:
        if (isNetworkError(e)) {
          return ['NETWORK_UNREACHABLE', `Could not reach KMS for ${action} on ${key} (${detail}). Check your network connection and the KMS endpoint.`];
        }
        return ['KMS_ERROR', `KMS ${ctx.operation} on ${key} failed: ${name ? `${name}: ` : ''}${detail}`];
    }
  })();
  return new KenvError(code, sentence, { cause: e });
}

function errorName(e: unknown): string {
  return e && typeof e === 'object' && 'name' in e && typeof e.name === 'string' ? e.name : '';
}

function isNetworkError(e: unknown): boolean {
  const code = e && typeof e === 'object' && 'code' in e ? String(e.code) : '';
  return ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code);
}

function describeKey(ctx: KmsErrorContext): string {
  const names = [ctx.alias, ctx.keyArn ?? ctx.keyId].filter(Boolean);
  return names.length ? `key ${[...new Set(names)].join(' (')}${names.length > 1 ? ')' : ''}` : 'the key';
}
