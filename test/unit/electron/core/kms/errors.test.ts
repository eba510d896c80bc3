import {
  DisabledException, IncorrectKeyException, InvalidCiphertextException, InvalidKeyUsageException,
  KMSInternalException, KMSInvalidStateException, NotFoundException,
} from '@aws-sdk/client-kms';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import { regionOfKey } from '../../../../../electron/core/kms/client.js';
import { type AwsFailureContext, iamActionFor, isThrottlingError, kmsError } from '../../../../../electron/core/kms/errors.js';

const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const meta = (httpStatusCode: number, attempts = 1) => ({ httpStatusCode, attempts, totalRetryDelay: 0 });

/** A wire error as the SDK builds it for a code it has no class for. */
function serviceError(name: string, message: string, status: number, attempts = 1) {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: meta(status, attempts) });
}

describe('kmsError', () => {
  it.each(['GenerateDataKey', 'Decrypt', 'Encrypt', 'ReEncrypt', 'ListAliases'])(
    'access denied on %s names the missing kms: action, the key and the fix',
    (operation) => {
      // KMS does not model AccessDeniedException: the SDK builds a generic ServiceException named after __type.
      const e = serviceError(
        'AccessDeniedException',
        `User: arn:aws:sts::111122223333:assumed-role/Dev/alice is not authorized to perform: kms:${operation} on resource: ${ARN} because no identity-based policy allows the kms:${operation} action`,
        400,
      );
      const k = kmsError(e, { operation, keyArn: ARN, alias: 'alias/team', region: 'eu-west-1' });
      expect(k).toBeInstanceOf(KenvError);
      expect(k.code).toBe('KMS_ACCESS_DENIED');
      expect(k.message).toContain(`kms:${operation}`);
      expect(k.message).toContain(`alias/team (${ARN})`);
      expect(k.message).toContain('arn:aws:sts::111122223333:assumed-role/Dev/alice');
      expect(k.message).toMatch(/key policy or an IAM policy/);
      expect(k.cause).toBe(e);
    },
  );

  /** What a sentence must say: its code, and words it must contain or match. */
  interface Says { code: string; contains?: string[]; matches?: RegExp[] }
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
  const dnsFailure = new Error('fetch failed', {
    cause: new AggregateError([Object.assign(new Error('getaddrinfo ENOTFOUND kms.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' })]),
  });
  const cases: [title: string, error: unknown, context: AwsFailureContext, says: Says][] = [
    ['access denied without a key (ListKeys) still names the action',
      serviceError('AccessDeniedException', 'denied', 400), { operation: 'ListKeys', profile: 'dev' },
      { code: 'KMS_ACCESS_DENIED', contains: ['kms:ListKeys', 'profile dev'] }],
    ['a disabled key says to enable it',
      new DisabledException({ message: `${ARN} is disabled.`, $metadata: meta(400) }), { operation: 'GenerateDataKey', keyId: 'alias/team', keyArn: ARN },
      { code: 'KMS_KEY_DISABLED', contains: [`alias/team (${ARN})`], matches: [/enable it/] }],
    ['a key pending deletion says to cancel the deletion',
      new KMSInvalidStateException({ message: `${ARN} is pending deletion.`, $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN },
      { code: 'KMS_KEY_PENDING_DELETION', contains: [ARN], matches: [/cancel the deletion/] }],
    ['another invalid state is a KMS_ERROR that keeps the AWS message',
      new KMSInvalidStateException({ message: `${ARN} is pending import.`, $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN },
      { code: 'KMS_ERROR', contains: ['pending import'] }],
    ['a key that does not exist in its own Region is KMS_KEY_NOT_FOUND',
      new NotFoundException({ message: `Alias arn:aws:kms:eu-west-1:111122223333:alias/nope is not found.`, $metadata: meta(400) }), { operation: 'GenerateDataKey', keyId: 'alias/nope', region: 'eu-west-1' },
      { code: 'KMS_KEY_NOT_FOUND', contains: ['alias/nope', 'eu-west-1', 'kenv keys'] }],
    ['NotFound for a key ARN in another Region is KMS_WRONG_REGION with the key Region',
      new NotFoundException({ message: `Key '${ARN}' does not exist`, $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN, region: 'us-east-1' },
      { code: 'KMS_WRONG_REGION', contains: ['eu-west-1', 'us-east-1', '--region eu-west-1'] }],
    ['an alias ARN in another Region given as keyId is KMS_WRONG_REGION',
      new NotFoundException({ message: 'not found', $metadata: meta(400) }), { operation: 'GenerateDataKey', keyId: 'arn:aws:kms:ap-south-1:111122223333:alias/x', region: 'eu-west-1' },
      { code: 'KMS_WRONG_REGION', contains: ['ap-south-1'] }],
    ['an invalid ciphertext names the encryption context',
      new InvalidCiphertextException({ message: '', $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN },
      { code: 'KMS_INVALID_CIPHERTEXT', matches: [/encryption context/] }],
    ['a ciphertext for another key is KMS_INCORRECT_KEY',
      new IncorrectKeyException({ message: 'The key ID in the request does not identify a CMK that can perform this operation.', $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN },
      { code: 'KMS_INCORRECT_KEY', contains: [ARN] }],
    ['throttling after the retries is KMS_THROTTLED with the attempt count',
      serviceError('ThrottlingException', 'Rate exceeded', 400, 3), { operation: 'GenerateDataKey', keyArn: ARN, region: 'eu-west-1' },
      { code: 'KMS_THROTTLED', contains: ['after 3 attempts'], matches: [/concurrency/] }],
    ['an HTTP 429 without a type is KMS_THROTTLED',
      serviceError('', 'Too Many Requests', 429), { operation: 'Decrypt' },
      { code: 'KMS_THROTTLED' }],
    ['a refused connection is NETWORK_REFUSED, naming the address',
      refused, { operation: 'GenerateDataKey', region: 'eu-west-1' },
      { code: 'NETWORK_REFUSED', contains: ['127.0.0.1:1 (connection refused)'] }],
    ['a DNS failure nested in an AggregateError cause is NETWORK_DNS, naming the host',
      dnsFailure, { operation: 'Decrypt' },
      { code: 'NETWORK_DNS', contains: ['kms.eu-west-1.amazonaws.com'] }],
    ['a request timeout is NETWORK_TIMEOUT',
      Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }), { operation: 'Decrypt' },
      { code: 'NETWORK_TIMEOUT' }],
    ['an unknown access key is NO_CREDENTIALS',
      serviceError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400), { operation: 'ListKeys' },
      { code: 'NO_CREDENTIALS' }],
    ['an expired SSO session from the credential provider is SSO_EXPIRED with the login command',
      Object.assign(new Error("The SSO session associated with this profile has expired. To refresh this SSO session run 'aws sso login' with the corresponding profile."), { name: 'CredentialsProviderError' }),
      { operation: 'GenerateDataKey', profile: 'work' },
      { code: 'SSO_EXPIRED', contains: ['sign in again: kenv login --profile work'] }],
    ['a revoked SSO token (GetRoleCredentials 401) is SSO_EXPIRED',
      serviceError('UnauthorizedException', 'Session token not found or invalid', 401), { operation: 'GetRoleCredentials', profile: 'work' },
      { code: 'SSO_EXPIRED', contains: ['kenv login --profile work'] }],
    ['a revoked SSO token wrapped by the credential provider is SSO_EXPIRED',
      Object.assign(new Error('UnauthorizedException: Session token not found or invalid'), { name: 'CredentialsProviderError' }), { operation: 'Decrypt', profile: 'work' },
      { code: 'SSO_EXPIRED' }],
    ['expired session credentials are SSO_EXPIRED',
      serviceError('ExpiredTokenException', 'The security token included in the request is expired', 400), { operation: 'Decrypt', profile: 'work' },
      { code: 'SSO_EXPIRED', contains: ['kenv login --profile work'] }],
    ['a missing sso-session section is a configuration problem, not an expiry',
      Object.assign(new Error("Sso session 'corp' could not be found in shared credentials file."), { name: 'TokenProviderError' }), { operation: 'GenerateDataKey' },
      { code: 'NO_CREDENTIALS' }],
    ['a missing Region is NO_REGION',
      new Error('Region is missing'), { operation: 'ListKeys' },
      { code: 'NO_REGION' }],
    ['an asymmetric key is INVALID_KEY',
      new InvalidKeyUsageException({ message: 'KeyUsage SIGN_VERIFY', $metadata: meta(400) }), { operation: 'GenerateDataKey', keyArn: ARN },
      { code: 'INVALID_KEY', contains: ['ENCRYPT_DECRYPT'] }],
    ['a KMS internal error says to retry',
      new KMSInternalException({ message: 'internal', $metadata: meta(500) }), { operation: 'Decrypt' },
      { code: 'KMS_ERROR', matches: [/retry/] }],
    ['an unknown error is KMS_ERROR keeping its name and message',
      serviceError('WeirdException', 'something odd', 400), { operation: 'Encrypt', keyArn: ARN },
      { code: 'KMS_ERROR', contains: ['WeirdException', 'something odd'] }],
    ['an abort is CANCELLED',
      Object.assign(new Error('Request aborted'), { name: 'AbortError' }), { operation: 'Decrypt' },
      { code: 'CANCELLED' }],
  ];
  it.each(cases)('%s', (_title, error, context, { code, contains = [], matches = [] }) => {
    const k = kmsError(error, context);
    expect(k.code).toBe(code);
    for (const words of contains) expect(k.message).toContain(words);
    for (const pattern of matches) expect(k.message).toMatch(pattern);
  });

  it('no credentials at all is NO_CREDENTIALS', () => {
    const e = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError', tryNextLink: false });
    // Without a profile, or with one the config files define: a profile they do not define is PROFILE_NOT_FOUND.
    expect(kmsError(e, { operation: 'GenerateDataKey' }).code).toBe('NO_CREDENTIALS');
    const config = join(mkdtempSync(join(tmpdir(), 'kenv-errors-')), 'config');
    writeFileSync(config, '[profile dev]\nregion = eu-west-1\n');
    vi.stubEnv('AWS_CONFIG_FILE', config);
    const k = kmsError(e, { operation: 'GenerateDataKey', profile: 'dev' });
    expect(kmsError(e, { operation: 'GenerateDataKey', profile: 'ghost' })).toMatchObject({ code: 'PROFILE_NOT_FOUND', message: expect.stringContaining('"ghost"') });
    vi.unstubAllEnvs();
    expect(k.code).toBe('NO_CREDENTIALS');
    expect(k.message).toContain('kenv login --profile dev');
  });

  it('a KenvError passes through unchanged', () => {
    const original = new KenvError('NO_KEY_OPENED', 'x');
    expect(kmsError(original, { operation: 'Decrypt' })).toBe(original);
  });
});

describe('helpers', () => {
  it('reads the Region of key and alias ARNs', () => {
    expect(regionOfKey(ARN)).toBe('eu-west-1');
    expect(regionOfKey('arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/a')).toBe('us-gov-west-1');
    expect(regionOfKey('alias/a')).toBeUndefined();
    expect(regionOfKey('1234abcd-12ab-34cd-56ef-1234567890ab')).toBeUndefined();
  });

  it('names the IAM action per service', () => {
    expect(iamActionFor('GenerateDataKey')).toBe('kms:GenerateDataKey');
    expect(iamActionFor('GetCallerIdentity')).toBe('sts:GetCallerIdentity');
    expect(iamActionFor('s3:PutObject')).toBe('s3:PutObject');
  });
});

// Every branch of kmsError, with the whole sentence it gives: what failed, on which key, and what to do.
const OTHER_ARN = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
function awsError(name: string, message: string, status?: number, attempts?: number) {
  return Object.assign(new Error(message), { name, ...(status !== undefined ? { $metadata: meta(status, attempts) } : {}) });
}

describe('kmsError sentences', () => {
  // Profile "p" exists, so no sentence below turns into PROFILE_NOT_FOUND.
  beforeEach(() => {
    const dir = mkdtempSync(join(tmpdir(), 'kenv-errors-'));
    writeFileSync(join(dir, 'config'), '[profile p]\nregion = eu-west-1\n');
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const cases: [string, unknown, AwsFailureContext, string, string][] = [
    ['abort by code', Object.assign(new Error('The operation was aborted'), { name: 'Error', code: 'ABORT_ERR' }), { operation: 'GenerateDataKey' },
      'CANCELLED',
      'GenerateDataKey was cancelled.'],
    ['no region lower-case, profile', new Error('region is missing'), { operation: 'Decrypt', profile: 'p' },
      'NO_REGION',
      'No AWS Region is configured for Decrypt with profile p. Set region in the profile (~/.aws/config), set AWS_REGION, or pass --region.'],
    ['no region by name', awsError('NoRegion', 'x'), { operation: 'Decrypt' },
      'NO_REGION',
      'No AWS Region is configured for Decrypt. Set region in the profile (~/.aws/config), set AWS_REGION, or pass --region.'],
    ['unauthorized sso op no profile', awsError('UnauthorizedException', 'nope', 401), { operation: 'GetRoleCredentials' },
      'SSO_EXPIRED',
      'The AWS SSO session has expired or was revoked, so GetRoleCredentials could not run; sign in again: kenv login'],
    ['unauthorized kms op token message', awsError('UnauthorizedException', 'Token invalid', 400), { operation: 'Decrypt', profile: 'p' },
      'SSO_EXPIRED',
      'The AWS SSO session for profile p has expired or was revoked, so Decrypt could not run; sign in again: kenv login --profile p'],
    ['unauthorized kms op other message', awsError('UnauthorizedException', 'nope', 400), { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: UnauthorizedException: nope. Check the key, the Region and your permissions, then retry.'],
    ['invalid grant', awsError('InvalidGrantException', 'x', 400), { operation: 'CreateToken', profile: 'p' },
      'SSO_EXPIRED',
      'The AWS SSO session for profile p has expired or was revoked, so CreateToken could not run; sign in again: kenv login --profile p'],
    ['expired token sso message', awsError('ExpiredTokenException', 'The SSO token expired', 400), { operation: 'Decrypt' },
      'SSO_EXPIRED',
      'The AWS SSO session has expired or was revoked, so Decrypt could not run; sign in again: kenv login'],
    ['expired token no profile', awsError('ExpiredTokenException', 'expired', 400), { operation: 'Decrypt' },
      'SSO_EXPIRED',
      'The AWS session credentials have expired, so Decrypt could not run. If the profile signs in with IAM Identity Center, sign in again: kenv login; otherwise refresh the temporary credentials.'],
    ['ExpiredToken', awsError('ExpiredToken', 'x', 400), { operation: 'GetCallerIdentity' },
      'SSO_EXPIRED',
      'The AWS session credentials have expired, so GetCallerIdentity could not run. If the profile signs in with IAM Identity Center, sign in again: kenv login; otherwise refresh the temporary credentials.'],
    ['RequestExpired', awsError('RequestExpired', 'x', 400), { operation: 'Decrypt' },
      'SSO_EXPIRED',
      'The AWS session credentials have expired, so Decrypt could not run. If the profile signs in with IAM Identity Center, sign in again: kenv login; otherwise refresh the temporary credentials.'],
    ['TokenRefreshRequired', awsError('TokenRefreshRequired', 'x', 400), { operation: 'Decrypt' },
      'SSO_EXPIRED',
      'The AWS session credentials have expired, so Decrypt could not run. If the profile signs in with IAM Identity Center, sign in again: kenv login; otherwise refresh the temporary credentials.'],
    ['token provider SSO Token', Object.assign(new Error('The SSO Token is expired'), { name: 'TokenProviderError' }), { operation: 'Decrypt' },
      'SSO_EXPIRED',
      'The AWS SSO session has expired or was revoked, so Decrypt could not run; sign in again: kenv login'],
    ['token provider missing required', Object.assign(new Error('Profile is missing required property sso_region and SSO session'), { name: 'TokenProviderError' }), { operation: 'Decrypt' },
      'NO_CREDENTIALS',
      'No AWS credentials were found, so Decrypt could not run (Profile is missing required property sso_region and SSO session). Sign in with kenv login, choose a configured profile (kenv profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.'],
    ['creds provider other', Object.assign(new Error('something else.'), { name: 'CredentialsProviderError' }), { operation: 'Decrypt' },
      'NO_CREDENTIALS',
      'No AWS credentials were found, so Decrypt could not run (something else). Sign in with kenv login, choose a configured profile (kenv profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.'],
    ['could not load credentials other name', awsError('Error', 'Could not load credentials from any providers'), { operation: 'Decrypt' },
      'NO_CREDENTIALS',
      'No AWS credentials were found, so Decrypt could not run (Could not load credentials from any providers). Sign in with kenv login, choose a configured profile (kenv profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.'],
    ['401 sso op no name', awsError('', 'x', 401), { operation: 'ListAccounts', profile: 'p' },
      'SSO_EXPIRED',
      'The AWS SSO session for profile p has expired or was revoked, so ListAccounts could not run; sign in again: kenv login --profile p'],
    ['401 kms op no name', awsError('', 'x', 401), { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: error: x. Check the key, the Region and your permissions, then retry.'],
    ['bad creds profile region', awsError('InvalidSignatureException', 'The request signature we calculated does not match.', 400), { operation: 'Decrypt', profile: 'p', region: 'eu-west-1' },
      'NO_CREDENTIALS',
      'AWS rejected the credentials of profile p for Decrypt in eu-west-1: they are unknown, mistyped or deleted (AWS said: The request signature we calculated does not match.) Check the access key in ~/.aws/credentials or the environment, or sign in again with kenv login --profile p.'],
    ['access denied no principal no profile no key', awsError('AccessDenied', 'denied', 400), { operation: 'GetCallerIdentity' },
      'KMS_ACCESS_DENIED',
      'Access denied: your AWS identity is not allowed to call sts:GetCallerIdentity, which showing who you are needs. Ask your AWS administrator to allow sts:GetCallerIdentity in the key policy or an IAM policy, or use a profile that has it (--profile).'],
    ['access denied error with sts action', awsError('AccessDeniedError', 'User: arn:aws:iam::111122223333:user/bob is not authorized to perform: sts:AssumeRole on resource: x', 400), { operation: 'Decrypt', keyArn: ARN, profile: 'p' },
      'KMS_ACCESS_DENIED',
      'Access denied: arn:aws:iam::111122223333:user/bob is not allowed to call sts:AssumeRole on arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab, which decrypting needs. Ask your AWS administrator to allow sts:AssumeRole on this key in the key policy or an IAM policy.'],
    ['403 no name cross account', awsError('', 'User: arn:aws:sts::111122223333:assumed-role/Dev/alice is not authorized', 403), { operation: 'ReEncrypt', keyArn: OTHER_ARN, region: 'eu-west-1' },
      'KMS_ACCESS_DENIED',
      'Access denied: arn:aws:sts::111122223333:assumed-role/Dev/alice is not allowed to call kms:ReEncrypt on arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab in eu-west-1, which rewrapping needs. Ask your AWS administrator to allow kms:ReEncrypt on this key in the key policy or an IAM policy, or use a profile that has it (--profile). If account 444455556666 is not yours, both the key policy (in account 444455556666) and an IAM policy (in your account 111122223333) must allow kms:ReEncrypt on this key: ask both administrators.'],
    ['access denied cross account no principal', awsError('AccessDeniedException', 'denied', 400), { operation: 'Encrypt', keyId: 'arn:aws:kms:eu-west-1:444455556666:alias/shared' },
      'KMS_ACCESS_DENIED',
      'Access denied: your AWS identity is not allowed to call kms:Encrypt on arn:aws:kms:eu-west-1:444455556666:alias/shared, which sealing a secret needs. Ask your AWS administrator to allow kms:Encrypt on this key in the key policy or an IAM policy, or use a profile that has it (--profile). If account 444455556666 is not yours, both the key policy (in account 444455556666) and an IAM policy (in your account) must allow kms:Encrypt on this key: ask both administrators.'],
    ['403 with a name', awsError('WeirdException', 'x', 403), { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: WeirdException: x. Check the key, the Region and your permissions, then retry.'],
    ['disabled unnamed', awsError('DisabledException', 'x', 400), { operation: 'Encrypt' },
      'KMS_KEY_DISABLED',
      'The KMS key (unnamed) is disabled, so Encrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],
    ['key unavailable pending replica deletion', awsError('KeyUnavailableException', 'key is pending replica deletion', 400), { operation: 'Decrypt' },
      'KMS_KEY_PENDING_DELETION',
      'The KMS key (unnamed) is scheduled for deletion, so Decrypt failed. Ask the key\'s administrator to cancel the deletion (kms:CancelKeyDeletion) and re-enable the key before the waiting period ends; data encrypted only under this key becomes unrecoverable once it is deleted.'],
    ['invalid state disabled', awsError('KMSInvalidStateException', 'Key is Disabled', 400), { operation: 'Decrypt', keyArn: ARN },
      'KMS_KEY_DISABLED',
      'The KMS key arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled, so Decrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],
    ['invalid state other unnamed', awsError('KMSInvalidStateException', 'pending import', 400), { operation: 'Decrypt' },
      'KMS_ERROR',
      'The KMS key (unnamed) is not usable right now, so Decrypt failed (AWS said: pending import.) Wait until the key is available (a key being created, imported or in an unavailable key store), then retry.'],
    ['not found alias region', awsError('InvalidArnException', 'x', 400), { operation: 'Decrypt', alias: 'arn:aws:kms:us-east-1:111122223333:alias/a', keyArn: 'arn:aws:kms:us-east-1:111122223333:key/k', region: 'eu-west-1' },
      'KMS_WRONG_REGION',
      'The KMS key arn:aws:kms:us-east-1:111122223333:alias/a (arn:aws:kms:us-east-1:111122223333:key/k) is in us-east-1, but Decrypt was sent to eu-west-1. Run with --region us-east-1 (or set region = us-east-1 in the profile), or use a multi-Region replica of the key in eu-west-1.'],
    ['not found no region unnamed profile', awsError('NotFoundException', 'x', 400), { operation: 'Decrypt', profile: 'p' },
      'KMS_KEY_NOT_FOUND',
      'The KMS key (unnamed) was not found for profile p, so Decrypt failed. Check the key id or alias for typos, the Region and the account (kenv keys lists the keys you can use).'],
    ['not found arn no ctx region', awsError('NotFoundException', 'x', 400), { operation: 'Decrypt', keyArn: ARN },
      'KMS_KEY_NOT_FOUND',
      'The KMS key arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab was not found, so Decrypt failed. Check the key id or alias for typos, the Region and the account (kenv keys lists the keys you can use).'],
    ['invalid ciphertext reencrypt', awsError('InvalidCiphertextException', 'x', 400), { operation: 'ReEncrypt', keyArn: ARN },
      'KMS_INVALID_CIPHERTEXT',
      'KMS could not re-encrypt the data key with arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab: the encryption context differs from the one used to encrypt, or the encrypted data key was altered. Use the exact encryption context the file was encrypted with; if it matches, the file is damaged.'],
    ['invalid ciphertext no key', awsError('InvalidCiphertextException', 'x', 400), { operation: 'Decrypt' },
      'KMS_INVALID_CIPHERTEXT',
      'KMS could not decrypt the data key: the encryption context differs from the one used to encrypt, or the encrypted data key was altered. Use the exact encryption context the file was encrypted with; if it matches, the file is damaged.'],
    ['incorrect key no key', awsError('IncorrectKeyException', 'x', 400), { operation: 'Decrypt' },
      'KMS_INCORRECT_KEY',
      'The data key was not encrypted under the KMS key given, so Decrypt failed. Use the key the file was encrypted with (kenv inspect shows it) or leave the key out so KMS picks it from the ciphertext.'],
    ['throttled one attempt no key', awsError('SlowDown', 'x', 400, 1), { operation: 'Decrypt' },
      'KMS_THROTTLED',
      'KMS kept throttling Decrypt. The request quota is shared by everything in the account and Region: wait a minute and retry, lower the batch concurrency, or ask AWS for a higher KMS request quota.'],
    ['unsupported op', awsError('UnsupportedOperationException', 'no.', 400), { operation: 'Decrypt' },
      'INVALID_KEY',
      'The KMS key (unnamed) cannot be used for Decrypt (AWS said: no.) Kenv needs a symmetric encryption key (key usage ENCRYPT_DECRYPT, spec SYMMETRIC_DEFAULT): choose another key (kenv keys).'],
    ['validation', awsError('ValidationException', 'bad key', 400), { operation: 'Decrypt', keyId: 'alias/x' },
      'INVALID_KEY',
      'KMS rejected the key alias/x for Decrypt (AWS said: bad key.) Name a key by key id, key ARN, alias/NAME or alias ARN.'],
    ['invalid alias name no key', awsError('InvalidAliasNameException', '', 400), { operation: 'Decrypt' },
      'INVALID_KEY',
      'KMS rejected the key argument for Decrypt (AWS said: InvalidAliasNameException.) Name a key by key id, key ARN, alias/NAME or alias ARN.'],
    ['invalid key id', awsError('InvalidKeyIdException', 'x', 400), { operation: 'Decrypt' },
      'INVALID_KEY',
      'KMS rejected the key argument for Decrypt (AWS said: x.) Name a key by key id, key ARN, alias/NAME or alias ARN.'],
    ['dependency timeout', awsError('DependencyTimeoutException', 'slow', 400), { operation: 'Decrypt', keyArn: ARN, region: 'eu-west-1' },
      'KMS_ERROR',
      'AWS had an internal problem with Decrypt on arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab in eu-west-1 (AWS said: slow.) This is usually temporary: retry in a moment.'],
    ['internal failure', awsError('InternalFailure', 'x', 400), { operation: 'Decrypt' },
      'KMS_ERROR',
      'AWS had an internal problem with Decrypt (AWS said: x.) This is usually temporary: retry in a moment.'],
    ['service unavailable', awsError('ServiceUnavailable', 'x', 400), { operation: 'Decrypt' },
      'KMS_ERROR',
      'AWS had an internal problem with Decrypt (AWS said: x.) This is usually temporary: retry in a moment.'],
    ['status 500', awsError('', '', 500), { operation: 'Decrypt' },
      'KMS_ERROR',
      'AWS had an internal problem with Decrypt. This is usually temporary: retry in a moment.'],
    ['status 499', awsError('', '', 499), { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: error. Check the key, the Region and your permissions, then retry.'],
    ['$response status 503', Object.assign(new Error(''), { name: '', $response: { statusCode: 503 } }), { operation: 'Decrypt' },
      'KMS_ERROR',
      'AWS had an internal problem with Decrypt. This is usually temporary: retry in a moment.'],
    ['code instead of name', Object.assign(new Error('odd.'), { name: '', code: 'OddCode' }), { operation: 'Decrypt', keyId: 'alias/a', region: 'eu-west-1' },
      'KMS_ERROR',
      'Decrypt on alias/a in eu-west-1 failed: OddCode: odd. Check the key, the Region and your permissions, then retry.'],
    ['a string', 'boom', { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: error: boom. Check the key, the Region and your permissions, then retry.'],
    ['undefined', undefined, { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: error: undefined. Check the key, the Region and your permissions, then retry.'],
    ['describe alias equal arn', awsError('DisabledException', 'x', 400), { operation: 'Decrypt', alias: 'alias/a', keyArn: 'alias/a' },
      'KMS_KEY_DISABLED',
      'The KMS key alias/a is disabled, so Decrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],
    ['describe keyId uuid', awsError('DisabledException', 'x', 400), { operation: 'Decrypt', keyId: '1234abcd' },
      'KMS_KEY_DISABLED',
      'The KMS key 1234abcd is disabled, so Decrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],    ['invalid state disabled, unnamed key', awsError('KMSInvalidStateException', 'Key is disabled', 400), { operation: 'Decrypt' },
      'KMS_KEY_DISABLED',
      'The KMS key (unnamed) is disabled, so Decrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],
    ['a message with spaces around it', awsError('DependencyTimeoutException', '  slow  ', 400), { operation: 'Decrypt' },
      'KMS_ERROR',
      'AWS had an internal problem with Decrypt (AWS said: slow.) This is usually temporary: retry in a moment.'],
    ['expired session credentials of a profile', awsError('ExpiredTokenException', 'expired', 400), { operation: 'Decrypt', profile: 'p' },
      'SSO_EXPIRED',
      'The AWS session credentials of profile p have expired, so Decrypt could not run. If the profile signs in with IAM Identity Center, sign in again: kenv login --profile p; otherwise refresh the temporary credentials.'],
    ['no credentials for a profile', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), { operation: 'Decrypt', profile: 'p' },
      'NO_CREDENTIALS',
      'No AWS credentials were found for profile p, so Decrypt could not run (Could not load credentials from any providers). Sign in with kenv login --profile p, choose a configured profile (kenv profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.'],
    ['bad credentials, no profile', awsError('InvalidClientTokenId', 'bad', 403), { operation: 'ListKeys' },
      'NO_CREDENTIALS',
      'AWS rejected the credentials for ListKeys: they are unknown, mistyped or deleted (AWS said: bad.) Check the access key in ~/.aws/credentials or the environment, or sign in again with kenv login.'],
    ['access denied to a principal that is not an ARN itself', awsError('AccessDeniedException', 'User: session/arn:aws:sts::111122223333:assumed-role/x is not authorized to perform: kms:Decrypt', 400), { operation: 'Decrypt', keyArn: OTHER_ARN },
      'KMS_ACCESS_DENIED',
      'Access denied: session/arn:aws:sts::111122223333:assumed-role/x is not allowed to call kms:Decrypt on arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab, which decrypting needs. Ask your AWS administrator to allow kms:Decrypt on this key in the key policy or an IAM policy, or use a profile that has it (--profile). If account 444455556666 is not yours, both the key policy (in account 444455556666) and an IAM policy (in your account) must allow kms:Decrypt on this key: ask both administrators.'],
    ['access denied on an alias whose name looks like an ARN', awsError('AccessDeniedException', 'denied', 400), { operation: 'Decrypt', keyId: 'alias/arn:aws:kms:eu-west-1:444455556666:x' },
      'KMS_ACCESS_DENIED',
      'Access denied: your AWS identity is not allowed to call kms:Decrypt on alias/arn:aws:kms:eu-west-1:444455556666:x, which decrypting needs. Ask your AWS administrator to allow kms:Decrypt on this key in the key policy or an IAM policy, or use a profile that has it (--profile).'],
    ['pending deletion as a key state', awsError('KMSInvalidStateException', 'arn:aws:kms:eu-west-1:111122223333:key/k is PendingDeletion', 400), { operation: 'Decrypt' },
      'KMS_KEY_PENDING_DELETION',
      'The KMS key (unnamed) is scheduled for deletion, so Decrypt failed. Ask the key\'s administrator to cancel the deletion (kms:CancelKeyDeletion) and re-enable the key before the waiting period ends; data encrypted only under this key becomes unrecoverable once it is deleted.'],
    ['pending replica deletion as a key state', awsError('KMSInvalidStateException', 'key state PendingReplicaDeletion', 400), { operation: 'Decrypt' },
      'KMS_KEY_PENDING_DELETION',
      'The KMS key (unnamed) is scheduled for deletion, so Decrypt failed. Ask the key\'s administrator to cancel the deletion (kms:CancelKeyDeletion) and re-enable the key before the waiting period ends; data encrypted only under this key becomes unrecoverable once it is deleted.'],
    ['not found in the key\'s own Region', awsError('NotFoundException', 'x', 400), { operation: 'Decrypt', keyArn: ARN, region: 'eu-west-1' },
      'KMS_KEY_NOT_FOUND',
      'The KMS key arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab was not found in eu-west-1, so Decrypt failed. Check the key id or alias for typos, the Region and the account (kenv keys lists the keys you can use).'],
    ['throttled on a key after 3 attempts', awsError('ThrottlingException', 'Rate exceeded', 400, 3), { operation: 'Decrypt', keyArn: ARN, region: 'eu-west-1' },
      'KMS_THROTTLED',
      'KMS kept throttling Decrypt on arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab in eu-west-1 after 3 attempts. The request quota is shared by everything in the account and Region: wait a minute and retry, lower the batch concurrency, or ask AWS for a higher KMS request quota.'],
    ['throttled without metadata', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), { operation: 'Decrypt' },
      'KMS_THROTTLED',
      'KMS kept throttling Decrypt. The request quota is shared by everything in the account and Region: wait a minute and retry, lower the batch concurrency, or ask AWS for a higher KMS request quota.'],
    ['throttled with attempts that are not a number', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { attempts: '3' } }), { operation: 'Decrypt' },
      'KMS_THROTTLED',
      'KMS kept throttling Decrypt. The request quota is shared by everything in the account and Region: wait a minute and retry, lower the batch concurrency, or ask AWS for a higher KMS request quota.'],
    ['KMSInternalException without a status', awsError('KMSInternalException', 'x'), { operation: 'Decrypt' },
      'KMS_ERROR',
      'AWS had an internal problem with Decrypt (AWS said: x.) This is usually temporary: retry in a moment.'],
    ['a throttled SSO call is throttling by SSO, not an expired session', awsError('TooManyRequestsException', 'slow down', 429), { operation: 'GetRoleCredentials', profile: 'p' },
      'KMS_THROTTLED',
      'SSO kept throttling GetRoleCredentials. The request quota is shared by everything in the account and Region: wait a minute and retry, or ask AWS for a higher SSO request quota.'],
    ['a throttled SSO OIDC call names SSO OIDC', awsError('SlowDown', 'slow down', 400, 3), { operation: 'CreateToken' },
      'KMS_THROTTLED',
      'SSO OIDC kept throttling CreateToken after 3 attempts. The request quota is shared by everything in the account and Region: wait a minute and retry, or ask AWS for a higher SSO OIDC request quota.'],
    ['a throttled STS call names STS', awsError('Throttling', 'Rate exceeded', 400), { operation: 'GetCallerIdentity', region: 'eu-west-1' },
      'KMS_THROTTLED',
      'STS kept throttling GetCallerIdentity in eu-west-1. The request quota is shared by everything in the account and Region: wait a minute and retry, or ask AWS for a higher STS request quota.'],
    ['a status that is not a number is no status', Object.assign(new Error('odd'), { name: 'Odd', $metadata: { httpStatusCode: '503' } }), { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: Odd: odd. Check the key, the Region and your permissions, then retry.'],
    ['a code that is not a string is no code', { code: 42, message: 'odd' }, { operation: 'Decrypt' },
      'KMS_ERROR',
      'Decrypt failed: error: odd. Check the key, the Region and your permissions, then retry.'],
    ['a key id with its ARN', awsError('DisabledException', 'x', 400), { operation: 'Decrypt', keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', keyArn: ARN },
      'KMS_KEY_DISABLED',
      'The KMS key arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled, so Decrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],
    ['an alias with the key ARN', awsError('DisabledException', 'x', 400), { operation: 'Decrypt', keyId: 'alias/team', keyArn: ARN },
      'KMS_KEY_DISABLED',
      'The KMS key alias/team (arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab) is disabled, so Decrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],
    ['an alias ARN with the key ARN', awsError('DisabledException', 'x', 400), { operation: 'Decrypt', keyId: 'arn:aws:kms:eu-west-1:111122223333:alias/team', keyArn: ARN },
      'KMS_KEY_DISABLED',
      'The KMS key arn:aws:kms:eu-west-1:111122223333:alias/team (arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab) is disabled, so Decrypt failed. Ask the key\'s administrator to enable it, or choose another key (kenv keys).'],
  ];
  it.each(cases)('%s: the code and the whole sentence', (_title, e, ctx, code, message) => {
    const k = kmsError(e, ctx);
    expect(k.code).toBe(code);
    expect(k.message).toBe(message);
  });

  it.each([
    ['GenerateDataKey', 'encrypting a file'],
    ['Decrypt', 'decrypting'],
    ['Encrypt', 'sealing a secret'],
    ['ReEncrypt', 'rewrapping'],
    ['ListAliases', 'listing keys'],
    ['ListKeys', 'listing keys'],
    ['DescribeKey', 'listing keys'],
    ['GetKeyRotationStatus', 'listing keys'],
    ['GetCallerIdentity', 'showing who you are'],
    ['ScheduleKeyDeletion', 'ScheduleKeyDeletion'],
  ])('access denied on %s says %s needs the action', (operation, verb) => {
    const k = kmsError(awsError('AccessDeniedException', 'denied', 400), { operation, profile: 'p' });
    expect(k.message).toBe(
      `Access denied: the identity of profile p is not allowed to call ${iamActionFor(operation)}, which ${verb} needs. ` +
        `Ask your AWS administrator to allow ${iamActionFor(operation)} in the key policy or an IAM policy.`,
    );
  });

  it.each([
    ['GetCallerIdentity', 'STS', 'AWS_ENDPOINT_URL_STS'],
    ['AssumeRole', 'STS', 'AWS_ENDPOINT_URL_STS'],
    ['AssumeRoleWithWebIdentity', 'STS', 'AWS_ENDPOINT_URL_STS'],
    ['GetRoleCredentials', 'SSO', 'AWS_ENDPOINT_URL_SSO'],
    ['ListAccounts', 'SSO', 'AWS_ENDPOINT_URL_SSO'],
    ['ListAccountRoles', 'SSO', 'AWS_ENDPOINT_URL_SSO'],
    ['CreateToken', 'SSO OIDC', 'AWS_ENDPOINT_URL_SSO_OIDC'],
    ['RegisterClient', 'SSO OIDC', 'AWS_ENDPOINT_URL_SSO_OIDC'],
    ['StartDeviceAuthorization', 'SSO OIDC', 'AWS_ENDPOINT_URL_SSO_OIDC'],
    ['Decrypt', 'KMS', 'AWS_ENDPOINT_URL_KMS'],
  ])('a refused connection during %s names the %s endpoint and %s', (operation, service, variable) => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const k = kmsError(e, { operation });
    expect(k.code).toBe('NETWORK_REFUSED');
    expect(k.message).toContain(`for ${service} ${operation}.`);
    expect(k.message).toContain(`(${variable}, AWS_ENDPOINT_URL or`);
  });
});

describe('error families', () => {
  it.each([
    'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
    'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'LimitExceededException',
  ])('%s is throttling, and KMS_THROTTLED once the retries are spent', (name) => {
    const e = serviceError(name, 'Rate exceeded', 400);
    expect(isThrottlingError(e)).toBe(true);
    expect(kmsError(e, { operation: 'Decrypt' }).code).toBe('KMS_THROTTLED');
  });

  it('an HTTP 429 is throttling whatever its name; other errors and non-errors are not', () => {
    expect(isThrottlingError(serviceError('Whatever', 'x', 429))).toBe(true);
    expect(isThrottlingError(serviceError('ValidationException', 'x', 400))).toBe(false);
    expect(isThrottlingError(Object.assign(new Error('x'), { name: 'Throttling', $metadata: 'not an object' }))).toBe(true);
    expect(isThrottlingError('ThrottlingException')).toBe(false);
    expect(isThrottlingError(undefined)).toBe(false);
  });

  it.each([
    'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch',
    'IncompleteSignature', 'IncompleteSignatureException', 'MissingAuthenticationToken', 'MissingAuthenticationTokenException',
  ])('%s means bad credentials: NO_CREDENTIALS', (name) => {
    const k = kmsError(serviceError(name, 'rejected', 400), { operation: 'Decrypt' });
    expect(k.code).toBe('NO_CREDENTIALS');
    expect(k.message).toContain('they are unknown, mistyped or deleted (AWS said: rejected.)');
  });

  it('only objects are read as errors: a thrown function is described by its text, not its properties', () => {
    const thrown = Object.assign(function thrown() {}, { message: 'read me' });
    const k = kmsError(thrown, { operation: 'Decrypt' });
    expect(k.code).toBe('KMS_ERROR');
    expect(k.message).toMatch(/^Decrypt failed: error: function thrown/);
    expect(k.message).not.toContain('read me');
  });

  it('names the IAM action of SSO and STS calls', () => {
    expect(iamActionFor('GetRoleCredentials')).toBe('sso:GetRoleCredentials');
    expect(iamActionFor('AssumeRole')).toBe('sts:AssumeRole');
    expect(iamActionFor('CreateToken')).toBe('kms:CreateToken');
  });
});
