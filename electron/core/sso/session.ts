import { KenvError } from '../errors.js';
import { loadProfile, profileName } from '../aws/profiles.js';

/** Where a profile signs in: its IAM Identity Center start URL, Region and token cache key. */
export interface SsoTarget {
  profile: string;
  /** sso-session name, or the start URL for a legacy profile: sha1 of it names the cache file. */
  cacheKey: string;
  sessionName?: string;
  startUrl: string;
  ssoRegion: string;
  scopes: string[];
  legacy: boolean;
  accountId?: string;
  roleName?: string;
}

/** The default scope of `aws sso login` for sso-session profiles. */
export const DEFAULT_SCOPES = ['sso:account:access'];

/**
 * Reads the SSO settings of a profile (sso_session section or legacy sso_start_url / sso_region).
 *
 * Throws INVALID_ARGUMENT when the profile does not exist or does not sign in with IAM Identity Center.
 */
export async function ssoTargetOf(profileArg?: string): Promise<SsoTarget> {
  const profile = profileName(profileArg);
  const loaded = await loadProfile(profile);
  if (!loaded) {
    throw new KenvError('INVALID_ARGUMENT', `The profile ${profile} is not in ~/.aws/config. Create it with "aws configure sso" or pick one from kenv profiles.`);
  }
  const s = loaded.settings;
  const optional = { ...(s.sso_account_id ? { accountId: s.sso_account_id } : {}), ...(s.sso_role_name ? { roleName: s.sso_role_name } : {}) };
  if (loaded.ssoSessionName) {
    const session = loaded.ssoSession;
    if (!session?.sso_start_url || !session.sso_region) {
      throw new KenvError(
        'INVALID_ARGUMENT',
        `The sso-session ${loaded.ssoSessionName} of profile ${profile} needs sso_start_url and sso_region in ~/.aws/config.`,
      );
    }
    const scopes = session.sso_registration_scopes
      ? session.sso_registration_scopes.split(',').map((x) => x.trim()).filter(Boolean)
      : DEFAULT_SCOPES;
    return {
      profile, cacheKey: loaded.ssoSessionName, sessionName: loaded.ssoSessionName, startUrl: session.sso_start_url,
      ssoRegion: session.sso_region, scopes, legacy: false, ...optional,
    };
  }
  if (s.sso_start_url && s.sso_region) {
    return { profile, cacheKey: s.sso_start_url, startUrl: s.sso_start_url, ssoRegion: s.sso_region, scopes: [], legacy: true, ...optional };
  }
  throw new KenvError(
    'INVALID_ARGUMENT',
    `The profile ${profile} does not sign in with IAM Identity Center (it has no sso_session or sso_start_url). ` +
      'Pick an SSO profile from kenv profiles, or set one up with "aws configure sso".',
  );
}
