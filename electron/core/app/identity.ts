import type { Identity } from '../../../shared/ipc.js';
import { KenvError, toErrorInfo } from '../errors.js';
import type { KmsClientFactory } from '../kms/client.js';
import type { IdentityService } from './services.js';

/**
 * A minimal identity service over the KMS client's own credential chain: profile, Region, and whether credentials
 * resolve (an expired SSO token shows as `expired`).
 *
 * It does not know the account or role (that needs STS) and cannot run the SSO sign-in; the identity service of
 * issue 3 replaces it once it is on main.
 */
export function credentialChainIdentity(opts: { profile: () => string; clients: () => KmsClientFactory; setProfile: (name: string) => void }): IdentityService {
  async function current(): Promise<Identity> {
    const profile = opts.profile();
    const client = opts.clients()();
    const base: Identity = {
      profile, profiles: [{ name: profile, sso: false }], region: null, account: null, arn: null, role: null,
      sso: false, status: 'signed-in', error: null,
    };
    try {
      base.region = (await client.config.region()) || null;
    } catch {
      base.region = null;
    }
    try {
      await client.config.credentials();
      return base;
    } catch (e) {
      const text = e instanceof Error ? `${e.name} ${e.message}` : String(e);
      if (/sso/i.test(text) && /expir|refresh/i.test(text)) {
        return { ...base, sso: true, status: 'expired', error: { code: 'SSO_EXPIRED', message: `The AWS SSO session of profile ${profile} has expired. Sign in again with "aws sso login --profile ${profile}".` } };
      }
      const info = toErrorInfo(e);
      return { ...base, status: 'no-credentials', error: info.code === 'INTERNAL'
        ? { code: 'NO_CREDENTIALS', message: `No AWS credentials were found for profile ${profile}. Configure it with "aws configure" or "aws configure sso", then reopen Kenv.` }
        : info };
    }
  }
  return {
    current,
    async useProfile(name) {
      opts.setProfile(name);
      return current();
    },
    async signIn() {
      const profile = opts.profile();
      throw new KenvError('NOT_ALLOWED', `This build of Kenv cannot sign in by itself yet. Run "aws sso login --profile ${profile}" in a terminal, then choose Reload.`);
    },
  };
}
