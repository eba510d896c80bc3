import { describe, expect, it } from 'vitest';
import { kmsError } from '../../../electron/core/kms/errors.js';
import { toErrorInfo } from '../../../electron/core/errors.js';
import { explain } from '../../../renderer/src/explain.js';

const ctx = { keys: [], identity: null };

describe('explain: throttling names the service the core says throttled', () => {
  it.each([
    ['GenerateDataKey', 'KMS is busy and asked Kenv to slow down.'],
    ['GetRoleCredentials', 'AWS sign-in (SSO) is busy and asked Kenv to slow down.'],
    ['CreateToken', 'AWS sign-in (SSO OIDC) is busy and asked Kenv to slow down.'],
    ['GetCallerIdentity', 'AWS sign-in (STS) is busy and asked Kenv to slow down.'],
  ])('%s throttled: "%s", with Retry', (op, sentence) => {
    const error = toErrorInfo(kmsError(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), { operation: op }));
    expect(error.code).toBe('KMS_THROTTLED');
    expect(explain(error, ctx)).toEqual({ message: sentence, fixes: ['retry'], key: null });
  });
});

describe('explain: an expired sign-in points to Retry only where one is shown', () => {
  const expired = { code: 'SSO_EXPIRED' as const, message: 'The AWS SSO session for dev has expired. Sign in again.' };
  it('with a Retry beside it: "then choose Retry"', () => {
    expect(explain(expired, { ...ctx, retryShown: true }).message).toBe('Your AWS sign-in has expired. Sign in again, then choose Retry.');
  });
  it('without one: no "retry" in the sentence', () => {
    const said = explain(expired, ctx);
    expect(said.message).toBe('Your AWS sign-in has expired. Sign in again, then do it again.');
    expect(said.message).not.toMatch(/retry/i);
    expect(said.fixes).toContain('sign-in');
  });
});
