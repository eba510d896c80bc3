import { describe, expect, it } from 'vitest';
import { kmsError } from '../../../../../electron/core/kms/errors.js';

const denied = (message: string) => Object.assign(new Error(message), { name: 'AccessDeniedException' });

describe('AccessDenied on a key of another account', () => {
  it('says that both the key policy (in the key account) and an IAM policy (in yours) must allow the action', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const e = kmsError(
      denied(`User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:GenerateDataKey on resource: ${keyArn}`),
      { operation: 'GenerateDataKey', keyId: keyArn, region: 'eu-west-1' },
    );
    expect(e.code).toBe('KMS_ACCESS_DENIED');
    expect(e.message).toContain('both the key policy (in account 999988887777) and an IAM policy (in your account 111122223333) must allow kms:GenerateDataKey');
  });

  it('says nothing of two accounts when the key is in the caller\'s own account', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const e = kmsError(
      denied(`User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt on resource: ${keyArn}`),
      { operation: 'Decrypt', keyArn },
    );
    expect(e.message).not.toContain('both the key policy');
  });
});
