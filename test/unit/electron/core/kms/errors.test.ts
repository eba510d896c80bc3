import {
  DisabledException, IncorrectKeyException, InvalidCiphertextException, InvalidKeyUsageException,
  KMSInternalException, KMSInvalidStateException, NotFoundException,
} from '@aws-sdk/client-kms';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import { regionOfKey } from '../../../../../electron/core/kms/client.js';
import { iamActionFor, kmsError } from '../../../../../electron/core/kms/errors.js';

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

  it('access denied without a key (ListKeys) still names the action', () => {
    const k = kmsError(serviceError('AccessDeniedException', 'denied', 400), { operation: 'ListKeys', profile: 'dev' });
    expect(k.code).toBe('KMS_ACCESS_DENIED');
    expect(k.message).toContain('kms:ListKeys');
    expect(k.message).toContain('profile dev');
  });

  it('a disabled key says to enable it', () => {
    const k = kmsError(new DisabledException({ message: `${ARN} is disabled.`, $metadata: meta(400) }), { operation: 'GenerateDataKey', keyId: 'alias/team', keyArn: ARN });
    expect(k.code).toBe('KMS_KEY_DISABLED');
    expect(k.message).toContain(`alias/team (${ARN})`);
    expect(k.message).toMatch(/enable it/);
  });

  it('a key pending deletion says to cancel the deletion', () => {
    const k = kmsError(new KMSInvalidStateException({ message: `${ARN} is pending deletion.`, $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN });
    expect(k.code).toBe('KMS_KEY_PENDING_DELETION');
    expect(k.message).toContain(ARN);
    expect(k.message).toMatch(/cancel the deletion/);
  });

  it('another invalid state is a KMS_ERROR that keeps the AWS message', () => {
    const k = kmsError(new KMSInvalidStateException({ message: `${ARN} is pending import.`, $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN });
    expect(k.code).toBe('KMS_ERROR');
    expect(k.message).toContain('pending import');
  });

  it('a key that does not exist in its own Region is KMS_KEY_NOT_FOUND', () => {
    const k = kmsError(new NotFoundException({ message: `Alias arn:aws:kms:eu-west-1:111122223333:alias/nope is not found.`, $metadata: meta(400) }), { operation: 'GenerateDataKey', keyId: 'alias/nope', region: 'eu-west-1' });
    expect(k.code).toBe('KMS_KEY_NOT_FOUND');
    expect(k.message).toContain('alias/nope');
    expect(k.message).toContain('eu-west-1');
    expect(k.message).toContain('kenv keys');
  });

  it('NotFound for a key ARN in another Region is KMS_WRONG_REGION with the key Region', () => {
    const k = kmsError(new NotFoundException({ message: `Key '${ARN}' does not exist`, $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN, region: 'us-east-1' });
    expect(k.code).toBe('KMS_WRONG_REGION');
    expect(k.message).toContain('eu-west-1');
    expect(k.message).toContain('us-east-1');
    expect(k.message).toContain('--region eu-west-1');
  });

  it('an alias ARN in another Region given as keyId is KMS_WRONG_REGION', () => {
    const k = kmsError(new NotFoundException({ message: 'not found', $metadata: meta(400) }), { operation: 'GenerateDataKey', keyId: 'arn:aws:kms:ap-south-1:111122223333:alias/x', region: 'eu-west-1' });
    expect(k.code).toBe('KMS_WRONG_REGION');
    expect(k.message).toContain('ap-south-1');
  });

  it('an invalid ciphertext names the encryption context', () => {
    const k = kmsError(new InvalidCiphertextException({ message: '', $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN });
    expect(k.code).toBe('KMS_INVALID_CIPHERTEXT');
    expect(k.message).toMatch(/encryption context/);
  });

  it('a ciphertext for another key is KMS_INCORRECT_KEY', () => {
    const k = kmsError(new IncorrectKeyException({ message: 'The key ID in the request does not identify a CMK that can perform this operation.', $metadata: meta(400) }), { operation: 'Decrypt', keyArn: ARN });
    expect(k.code).toBe('KMS_INCORRECT_KEY');
    expect(k.message).toContain(ARN);
  });

  it('throttling after the retries is KMS_THROTTLED with the attempt count', () => {
    const k = kmsError(serviceError('ThrottlingException', 'Rate exceeded', 400, 3), { operation: 'GenerateDataKey', keyArn: ARN, region: 'eu-west-1' });
    expect(k.code).toBe('KMS_THROTTLED');
    expect(k.message).toContain('after 3 attempts');
    expect(k.message).toMatch(/concurrency/);
  });

  it('an HTTP 429 without a type is KMS_THROTTLED', () => {
    expect(kmsError(serviceError('', 'Too Many Requests', 429), { operation: 'Decrypt' }).code).toBe('KMS_THROTTLED');
  });

  it('a refused connection is NETWORK_REFUSED, naming the address', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
    const k = kmsError(e, { operation: 'GenerateDataKey', region: 'eu-west-1' });
    expect(k.code).toBe('NETWORK_REFUSED');
    expect(k.message).toContain('127.0.0.1:1 (connection refused)');
  });

  it('a DNS failure nested in an AggregateError cause is NETWORK_DNS, naming the host', () => {
    const inner = Object.assign(new Error('getaddrinfo ENOTFOUND kms.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' });
    const e = new Error('fetch failed', { cause: new AggregateError([inner]) });
    expect(kmsError(e, { operation: 'Decrypt' })).toMatchObject({ code: 'NETWORK_DNS', message: expect.stringContaining('kms.eu-west-1.amazonaws.com') });
  });

  it('a request timeout is NETWORK_TIMEOUT', () => {
    const e = Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' });
    expect(kmsError(e, { operation: 'Decrypt' }).code).toBe('NETWORK_TIMEOUT');
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

  it('an unknown access key is NO_CREDENTIALS', () => {
    const k = kmsError(serviceError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400), { operation: 'ListKeys' });
    expect(k.code).toBe('NO_CREDENTIALS');
  });

  it('an expired SSO session from the credential provider is SSO_EXPIRED with the login command', () => {
    const e = Object.assign(new Error("The SSO session associated with this profile has expired. To refresh this SSO session run 'aws sso login' with the corresponding profile."), { name: 'CredentialsProviderError' });
    const k = kmsError(e, { operation: 'GenerateDataKey', profile: 'work' });
    expect(k.code).toBe('SSO_EXPIRED');
    expect(k.message).toContain('sign in again: kenv login --profile work');
  });

  it('a revoked SSO token (GetRoleCredentials 401) is SSO_EXPIRED', () => {
    const k = kmsError(serviceError('UnauthorizedException', 'Session token not found or invalid', 401), { operation: 'GetRoleCredentials', profile: 'work' });
    expect(k.code).toBe('SSO_EXPIRED');
    expect(k.message).toContain('kenv login --profile work');
  });

  it('a revoked SSO token wrapped by the credential provider is SSO_EXPIRED', () => {
    const e = Object.assign(new Error('UnauthorizedException: Session token not found or invalid'), { name: 'CredentialsProviderError' });
    expect(kmsError(e, { operation: 'Decrypt', profile: 'work' }).code).toBe('SSO_EXPIRED');
  });

  it('expired session credentials are SSO_EXPIRED', () => {
    const k = kmsError(serviceError('ExpiredTokenException', 'The security token included in the request is expired', 400), { operation: 'Decrypt', profile: 'work' });
    expect(k.code).toBe('SSO_EXPIRED');
    expect(k.message).toContain('kenv login --profile work');
  });

  it('a missing sso-session section is a configuration problem, not an expiry', () => {
    const e = Object.assign(new Error("Sso session 'corp' could not be found in shared credentials file."), { name: 'TokenProviderError' });
    expect(kmsError(e, { operation: 'GenerateDataKey' }).code).toBe('NO_CREDENTIALS');
  });

  it('a missing Region is NO_REGION', () => {
    expect(kmsError(new Error('Region is missing'), { operation: 'ListKeys' }).code).toBe('NO_REGION');
  });

  it('an asymmetric key is INVALID_KEY', () => {
    const k = kmsError(new InvalidKeyUsageException({ message: 'KeyUsage SIGN_VERIFY', $metadata: meta(400) }), { operation: 'GenerateDataKey', keyArn: ARN });
    expect(k.code).toBe('INVALID_KEY');
    expect(k.message).toContain('ENCRYPT_DECRYPT');
  });

  it('a KMS internal error says to retry', () => {
    const k = kmsError(new KMSInternalException({ message: 'internal', $metadata: meta(500) }), { operation: 'Decrypt' });
    expect(k.code).toBe('KMS_ERROR');
    expect(k.message).toMatch(/retry/);
  });

  it('an unknown error is KMS_ERROR keeping its name and message', () => {
    const k = kmsError(serviceError('WeirdException', 'something odd', 400), { operation: 'Encrypt', keyArn: ARN });
    expect(k.code).toBe('KMS_ERROR');
    expect(k.message).toContain('WeirdException');
    expect(k.message).toContain('something odd');
  });

  it('an abort is CANCELLED', () => {
    const e = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    expect(kmsError(e, { operation: 'Decrypt' }).code).toBe('CANCELLED');
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
