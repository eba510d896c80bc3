import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, requestSchemas } from '../../../shared/ipc.js';

describe('the trustedAccounts setting', () => {
  it('accepts 12-digit account ids and refuses anything else at the IPC boundary', () => {
    const update = requestSchemas['settings:update'];
    expect(update.parse({ trustedAccounts: ['444455556666'] })).toEqual({ trustedAccounts: ['444455556666'] });
    expect(update.safeParse({ trustedAccounts: ['4444'] }).success).toBe(false);
    expect(update.safeParse({ trustedAccounts: ['arn:aws:iam::444455556666:root'] }).success).toBe(false);
    expect(DEFAULT_SETTINGS.trustedAccounts).toBeUndefined();
  });
});
