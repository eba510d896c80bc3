import type { Identity } from '../../../shared/ipc.js';
import { ENVIRONMENT_PROFILE, listProfiles, profileName } from '../aws/profiles.js';
import { whoami } from '../aws/whoami.js';
import { toErrorInfo } from '../errors.js';
import type { SecretStore } from '../keychain/keychain.js';
import { login } from '../sso/login.js';
import type { IdentityService } from './services.js';

/**
 * Who the app acts as, resolved the way the AWS CLI does (profiles, SSO, STS GetCallerIdentity), and the SSO sign-in.
 *
 * `profile()` is the profile the window chose, undefined for the CLI's default (AWS_PROFILE, else default, else
 * the environment's keys).
 */
export function awsIdentityService(opts: {
  profile: () => string | undefined;
  setProfile: (name: string | undefined) => void;
  openBrowser: (url: string) => Promise<void>;
  /** Where the SSO client registration is kept and reused (the OS keychain, as the CLI does); none registers each time. */
  registrations?: SecretStore;
}): IdentityService {
  async function current(): Promise<Identity> {
    const entries = await listProfiles().catch(() => []);
    const profiles = entries.map((p) => ({ name: p.name, sso: p.kind === 'sso-session' || p.kind === 'legacy-sso' }));
    const chosen = opts.profile();
    const name = chosen ?? entries.find((p) => p.isDefault)?.name ?? profileName();
    const sso = profiles.find((p) => p.name === name)?.sso ?? false;
    const base: Identity = { profile: name, profiles, region: null, account: null, arn: null, role: null, sso, status: 'signed-in', error: null };
    try {
      const id = await whoami(chosen && chosen !== ENVIRONMENT_PROFILE ? { profile: chosen } : {});
      return { ...base, profile: id.profile, region: id.region ?? null, account: id.account, arn: id.arn, role: roleOf(id.arn) };
    } catch (e) {
      const error = toErrorInfo(e);
      const status = error.code === 'SSO_EXPIRED' ? 'expired' : error.code === 'NO_CREDENTIALS' ? 'no-credentials' : 'error';
      return { ...base, status, error };
    }
  }
  return {
    current,
    async useProfile(name) {
      opts.setProfile(name === ENVIRONMENT_PROFILE ? undefined : name);
      return current();
    },
    async signIn() {
      const chosen = opts.profile();
      await login({ ...(chosen && chosen !== ENVIRONMENT_PROFILE ? { profile: chosen } : {}), openBrowser: opts.openBrowser,
        ...(opts.registrations ? { registrations: opts.registrations } : {}) });
      return current();
    },
  };
}

/**
 * The role of an assumed-role ARN (`arn:aws:sts::1:assumed-role/ROLE/session`), else null. IAM Identity Center
 * roles (`AWSReservedSSO_<permission set>_<hash>`) are shown by their permission set, as the access portal does.
 */
export function roleOf(arn: string): string | null {
  const m = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\//.exec(arn);
  if (!m) return null;
  return /^AWSReservedSSO_(.+)_[0-9a-f]{16}$/.exec(m[1]!)?.[1] ?? m[1]!;
}
