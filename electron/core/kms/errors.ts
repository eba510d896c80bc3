import { type AwsService, connectionFault } from '../aws/network-errors.js';
import { KenvError } from '../errors.js';
import { regionOfKey } from './key-ids.js';

/** What Kenv was doing when AWS failed: the operation and everything known about the key and the identity. */
export interface AwsFailureContext {
  /** The API action: a KMS operation (`GenerateDataKey`, `Decrypt`…) or another AWS action (`GetCallerIdentity`). */
  operation: 'GenerateDataKey' | 'Decrypt' | 'Encrypt' | 'ReEncrypt' | 'ListAliases' | 'ListKeys' | 'DescribeKey' | (string & {});
  /** The key as the user named it: a key id, key ARN, alias name or alias ARN. */
  keyId?: string;
  keyArn?: string;
  alias?: string;
  /** The Region the client called. */
  region?: string;
  profile?: string;
}

const STS_OPERATIONS = new Set(['GetCallerIdentity', 'AssumeRole', 'AssumeRoleWithWebIdentity']);
const SSO_OPERATIONS = new Set(['GetRoleCredentials', 'ListAccounts', 'ListAccountRoles']);
const SSO_OIDC_OPERATIONS = new Set(['CreateToken', 'RegisterClient', 'StartDeviceAuthorization']);

/** The service an operation belongs to, for naming its endpoint. */
function serviceOf(operation: string): AwsService {
  if (STS_OPERATIONS.has(operation)) return 'STS';
  if (SSO_OPERATIONS.has(operation)) return 'SSO';
  if (SSO_OIDC_OPERATIONS.has(operation)) return 'SSO OIDC';
  return 'KMS';
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'LimitExceededException',
]);
const BAD_CREDENTIAL_NAMES = new Set([
  'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch',
  'IncompleteSignature', 'IncompleteSignatureException', 'MissingAuthenticationToken', 'MissingAuthenticationTokenException',
]);
const EXPIRED_TOKEN_NAMES = new Set(['ExpiredTokenException', 'ExpiredToken', 'RequestExpired', 'TokenRefreshRequired']);

/** Whether an AWS error says the caller is being throttled (by name, or HTTP 429). */
export function isThrottlingError(e: unknown): boolean {
  const err = asRecord(e);
  return THROTTLING_NAMES.has(stringField(err, 'name') ?? '') || httpStatus(err) === 429;
}

/** The IAM action a call needs, e.g. `kms:GenerateDataKey`. */
export function iamActionFor(operation: string): string {
  if (operation.includes(':')) return operation;
  if (STS_OPERATIONS.has(operation)) return `sts:${operation}`;
  if (SSO_OPERATIONS.has(operation)) return `sso:${operation}`;
  return `kms:${operation}`;
}

/**
 * Turns any failure of an AWS call into a KenvError whose sentence says what failed, on which key, and what to do.
 *
 * Accepts SDK service exceptions (matched on `name`, the `__type` of the wire error), credential-provider
 * errors, Node network errors (mapped by aws/network-errors.ts, shared with S3) and KenvErrors (returned unchanged). A NotFoundException for a key ARN whose Region
 * differs from the client's Region becomes KMS_WRONG_REGION. Unknown failures become KMS_ERROR, keeping the AWS
 * message, since an unexplained AWS error is still more use to a person than INTERNAL.
 */
export function kmsError(e: unknown, ctx: AwsFailureContext): KenvError {
  if (e instanceof KenvError) return e;
  const err = asRecord(e);
  const name = stringField(err, 'name') ?? stringField(err, 'code') ?? '';
  const awsMessage = (stringField(err, 'message') ?? String(e)).trim();
  const status = httpStatus(err);
  const key = describeKey(ctx);
  const op = ctx.operation;
  const action = iamActionFor(op);
  const where = ctx.region ? ` in ${ctx.region}` : '';
  const profileHint = ctx.profile ? ` --profile ${ctx.profile}` : '';
  const loginCommand = `kenv login${profileHint}`;
  const make = (code: ConstructorParameters<typeof KenvError>[0], sentence: string) =>
    new KenvError(code, sentence, { cause: e });
  // Ends the sentence it follows, with or without an AWS message.
  const detail = awsMessage ? ` (AWS said: ${awsMessage.replace(/\.?$/, '')}.)` : '.';

  if (name === 'AbortError' || stringField(err, 'code') === 'ABORT_ERR') {
    return make('CANCELLED', `${op} was cancelled.`);
  }

  const connection = connectionFault(e, { service: serviceOf(op), what: op, profile: ctx.profile });
  if (connection) return connection;

  if (/region is missing/i.test(awsMessage) || name === 'NoRegion') {
    return make(
      'NO_REGION',
      `No AWS Region is configured for ${op}${ctx.profile ? ` with profile ${ctx.profile}` : ''}. ` +
        'Set region in the profile (~/.aws/config), set AWS_REGION, or pass --region.',
    );
  }

  if (isSsoExpired(name, awsMessage, status, op)) {
    return make(
      'SSO_EXPIRED',
      `The AWS SSO session${ctx.profile ? ` for profile ${ctx.profile}` : ''} has expired or was revoked, so ${op} could not run; ` +
        `sign in again: ${loginCommand}`,
    );
  }

  if (EXPIRED_TOKEN_NAMES.has(name)) {
    return make(
      'SSO_EXPIRED',
      `The AWS session credentials${ctx.profile ? ` of profile ${ctx.profile}` : ''} have expired, so ${op} could not run. ` +
        `If the profile signs in with IAM Identity Center, sign in again: ${loginCommand}; otherwise refresh the temporary credentials.`,
    );
  }

  if (name === 'CredentialsProviderError' || name === 'TokenProviderError' || /could not load credentials/i.test(awsMessage)) {
    return make(
      'NO_CREDENTIALS',
      `No AWS credentials were found${ctx.profile ? ` for profile ${ctx.profile}` : ''}, so ${op} could not run (${awsMessage.replace(/\.?$/, '')}). ` +
        `Sign in with ${loginCommand}, choose a configured profile (kenv profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
    );
  }

  if (BAD_CREDENTIAL_NAMES.has(name)) {
    return make(
      'NO_CREDENTIALS',
      `AWS rejected the credentials${ctx.profile ? ` of profile ${ctx.profile}` : ''} for ${op}${where}: they are unknown, mistyped or deleted${detail} ` +
        `Check the access key in ~/.aws/credentials or the environment, or sign in again with ${loginCommand}.`,
    );
  }

  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'AccessDeniedError' || (status === 403 && !name)) {
    const principal = /User: (\S+) is not authorized/.exec(awsMessage)?.[1];
    const who = principal ? principal : ctx.profile ? `the identity of profile ${ctx.profile}` : 'your AWS identity';
    const onKey = key ? ` on ${key}` : '';
    // AWS names the action it denied; it can differ from ours (an assume-role step while resolving credentials).
    const denied = /not authorized to perform: ([\w-]+:[\w-]+)/.exec(awsMessage)?.[1] ?? action;
    const keyAccount = accountOfKey(ctx);
    const callerAccount = principal ? /^arn:[^:]+:[^:]+::(\d{12}):/.exec(principal)?.[1] : undefined;
    // A key of another account needs two yeses: its key policy must let your account (or you) in, and an IAM
    // policy in your account must allow the action on that key ARN. Either one missing is AccessDenied.
    const crossAccount =
      keyAccount && keyAccount !== callerAccount
        ? ` If account ${keyAccount} is not yours, both the key policy (in account ${keyAccount}) and an IAM policy ` +
          `(in your account${callerAccount ? ` ${callerAccount}` : ''}) must allow ${denied} on this key: ask both administrators.`
        : '';
    return make(
      'KMS_ACCESS_DENIED',
      `Access denied: ${who} is not allowed to call ${denied}${onKey}${where}, which ${verbFor(op)} needs. ` +
        `Ask your AWS administrator to allow ${denied}${key ? ' on this key' : ''} in the key policy or an IAM policy` +
        `${ctx.profile ? '' : ', or use a profile that has it (--profile)'}.${crossAccount}`,
    );
  }

  if (name === 'DisabledException') {
    return make(
      'KMS_KEY_DISABLED',
      `The KMS key ${key || '(unnamed)'} is disabled, so ${op} failed. Ask the key's administrator to enable it, or choose another key (kenv keys).`,
    );
  }

  if (name === 'KMSInvalidStateException' || name === 'KeyUnavailableException') {
    if (/pending\s*(replica\s*)?deletion/i.test(awsMessage)) {
      return make(
        'KMS_KEY_PENDING_DELETION',
        `The KMS key ${key || '(unnamed)'} is scheduled for deletion, so ${op} failed. ` +
          "Ask the key's administrator to cancel the deletion (kms:CancelKeyDeletion) and re-enable the key before the waiting period ends; " +
          'data encrypted only under this key becomes unrecoverable once it is deleted.',
      );
    }
    if (/disabled/i.test(awsMessage)) {
      return make(
        'KMS_KEY_DISABLED',
        `The KMS key ${key || '(unnamed)'} is disabled, so ${op} failed. Ask the key's administrator to enable it, or choose another key (kenv keys).`,
      );
    }
    return make(
      'KMS_ERROR',
      `The KMS key ${key || '(unnamed)'} is not usable right now, so ${op} failed${detail} ` +
        'Wait until the key is available (a key being created, imported or in an unavailable key store), then retry.',
    );
  }

  if (name === 'NotFoundException' || name === 'InvalidArnException') {
    const keyRegion = regionOfKey(ctx.keyArn) ?? regionOfKey(ctx.keyId) ?? regionOfKey(ctx.alias);
    if (keyRegion && ctx.region && keyRegion !== ctx.region) {
      return make(
        'KMS_WRONG_REGION',
        `The KMS key ${key} is in ${keyRegion}, but ${op} was sent to ${ctx.region}. ` +
          `Run with --region ${keyRegion} (or set region = ${keyRegion} in the profile), or use a multi-Region replica of the key in ${ctx.region}.`,
      );
    }
    return make(
      'KMS_KEY_NOT_FOUND',
      `The KMS key ${key || '(unnamed)'} was not found${where}${ctx.profile ? ` for profile ${ctx.profile}` : ''}, so ${op} failed. ` +
        'Check the key id or alias for typos, the Region and the account (kenv keys lists the keys you can use).',
    );
  }

  if (name === 'InvalidCiphertextException') {
    return make(
      'KMS_INVALID_CIPHERTEXT',
      `KMS could not ${op === 'ReEncrypt' ? 're-encrypt' : 'decrypt'} the data key${key ? ` with ${key}` : ''}: ` +
        'the encryption context differs from the one used to encrypt, or the encrypted data key was altered. ' +
        'Use the exact encryption context the file was encrypted with; if it matches, the file is damaged.',
    );
  }

  if (name === 'IncorrectKeyException') {
    return make(
      'KMS_INCORRECT_KEY',
      `The data key was not encrypted under ${key || 'the KMS key given'}, so ${op} failed. ` +
        'Use the key the file was encrypted with (kenv inspect shows it) or leave the key out so KMS picks it from the ciphertext.',
    );
  }

  if (THROTTLING_NAMES.has(name) || status === 429) {
    const attempts = attemptsOf(err);
    // Credential calls (SSO, SSO OIDC, STS) are throttled by their own service, and batch concurrency does not drive them.
    const service = serviceOf(op);
    return make(
      'KMS_THROTTLED',
      `${service} kept throttling ${op}${key ? ` on ${key}` : ''}${where}${attempts ? ` after ${attempts} attempts` : ''}. ` +
        'The request quota is shared by everything in the account and Region: wait a minute and retry, ' +
        `${service === 'KMS' ? 'lower the batch concurrency, ' : ''}or ask AWS for a higher ${service} request quota.`,
    );
  }

  if (name === 'InvalidKeyUsageException' || name === 'UnsupportedOperationException') {
    return make(
      'INVALID_KEY',
      `The KMS key ${key || '(unnamed)'} cannot be used for ${op}${detail} ` +
        'Kenv needs a symmetric encryption key (key usage ENCRYPT_DECRYPT, spec SYMMETRIC_DEFAULT): choose another key (kenv keys).',
    );
  }

  if (name === 'ValidationException' || name === 'InvalidAliasNameException' || name === 'InvalidKeyIdException') {
    return make(
      'INVALID_KEY',
      `KMS rejected the key ${key || 'argument'} for ${op}${detail} ` +
        'Name a key by key id, key ARN, alias/NAME or alias ARN.',
    );
  }

  if (
    name === 'KMSInternalException' || name === 'DependencyTimeoutException' || name === 'InternalFailure' ||
    name === 'ServiceUnavailable' || (status !== undefined && status >= 500)
  ) {
    return make(
      'KMS_ERROR',
      `AWS had an internal problem with ${op}${key ? ` on ${key}` : ''}${where}${detail} This is usually temporary: retry in a moment.`,
    );
  }

  return make(
    'KMS_ERROR',
    `${op}${key ? ` on ${key}` : ''}${where} failed: ${name || 'error'}${awsMessage ? `: ${awsMessage.replace(/\.?$/, '')}` : ''}. ` +
      'Check the key, the Region and your permissions, then retry.',
  );
}

/** The account a key or alias ARN in the context names, if any. */
function accountOfKey(ctx: AwsFailureContext): string | undefined {
  for (const ref of [ctx.keyArn, ctx.keyId, ctx.alias]) {
    const account = ref ? /^arn:[^:]+:kms:[^:]*:(\d{12}):/.exec(ref)?.[1] : undefined;
    if (account) return account;
  }
  return undefined;
}

/** "alias/x (arn:…)" when both are known, else whichever is. */
function describeKey(ctx: AwsFailureContext): string {
  const alias = ctx.alias ?? (ctx.keyId && /^(alias\/|arn:[^:]+:kms:[^:]*:\d*:alias\/)/.test(ctx.keyId) ? ctx.keyId : undefined);
  const arn = ctx.keyArn ?? (ctx.keyId && ctx.keyId !== alias ? ctx.keyId : undefined);
  if (alias && arn && alias !== arn) return `${alias} (${arn})`;
  return alias ?? arn ?? '';
}

function verbFor(op: string): string {
  switch (op) {
    case 'GenerateDataKey': return 'encrypting a file';
    case 'Decrypt': return 'decrypting';
    case 'Encrypt': return 'sealing a secret';
    case 'ReEncrypt': return 'rewrapping';
    case 'ListAliases': case 'ListKeys': case 'DescribeKey': case 'GetKeyRotationStatus': return 'listing keys';
    case 'GetCallerIdentity': return 'showing who you are';
    default: return op;
  }
}

function isSsoExpired(name: string, message: string, status: number | undefined, op: string): boolean {
  if (name === 'UnauthorizedException' && (SSO_OPERATIONS.has(op) || /sso|session|token/i.test(message))) return true;
  if (name === 'InvalidGrantException' || (name === 'ExpiredTokenException' && /sso/i.test(message))) return true;
  if (name === 'TokenProviderError' || name === 'CredentialsProviderError') {
    if (/could not be found|missing required|not configured with SSO|Conflicting SSO|invalid SSO credentials/i.test(message)) return false;
    // fromSSO wraps a GetRoleCredentials failure as "UnauthorizedException: Session token not found or invalid".
    return /SSO session|SSO Token|Token is expired|sso login|sso_session|UnauthorizedException/i.test(message);
  }
  return status === 401 && SSO_OPERATIONS.has(op);
}

function httpStatus(err: Record<string, unknown> | undefined): number | undefined {
  const meta = asRecord(err?.$metadata);
  const status = meta?.httpStatusCode ?? asRecord(err?.$response)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function attemptsOf(err: Record<string, unknown> | undefined): number | undefined {
  const attempts = asRecord(err?.$metadata)?.attempts;
  return typeof attempts === 'number' && attempts > 1 ? attempts : undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

function stringField(obj: Record<string, unknown> | undefined, field: string): string | undefined {
  const v = obj?.[field];
  return typeof v === 'string' && v ? v : undefined;
}

/** The name main's first KMS keyring used for the context. */
export type KmsErrorContext = AwsFailureContext;
