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
