import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { kmsError } from '../kms/errors.js';
import { AWS_CLIENT_TIMEOUTS, awsSdkLogger, recordEndpointOnErrors } from './network-errors.js';
import { readToken } from '../sso/cache.js';
import { ssoTargetOf } from '../sso/session.js';
import { credentialProvider } from './credentials.js';
import { ENVIRONMENT_PROFILE, listProfiles, type ProfileKind, profileName, resolveRegion } from './profiles.js';

/** Who the AWS calls of a profile run as. */
export interface Identity {
  account: string;
  arn: string;
  userId: string;
  /** The profile name, or "(environment)" for AWS_ACCESS_KEY_ID credentials. */
  profile: string;
  kind: ProfileKind;
  region?: string;
  /** When the temporary credentials expire (none for long-term keys). */
  credentialsExpireAt?: Date;
  /** When the IAM Identity Center sign-in expires (SSO profiles). */
  ssoSessionExpiresAt?: Date;
}

/** STS needs a Region even though GetCallerIdentity answers the same everywhere. */
const STS_FALLBACK_REGION = 'us-east-1';

/**
 * Resolves the credentials of a profile exactly as the AWS CLI would and asks STS GetCallerIdentity who they are.
 *
 * Failures are KenvErrors (NO_CREDENTIALS, PROFILE_NOT_FOUND, SSO_EXPIRED, NETWORK_*…) from kmsError.
 */
export async function whoami(opts: { profile?: string; region?: string } = {}): Promise<Identity> {
  const usesEnvironment = !opts.profile && !process.env.AWS_PROFILE && !!process.env.AWS_ACCESS_KEY_ID && !!process.env.AWS_SECRET_ACCESS_KEY;
  const profile = usesEnvironment ? ENVIRONMENT_PROFILE : profileName(opts.profile);
  const region = await resolveRegion(opts);
  const entry = (await listProfiles()).find((p) => p.name === profile);
  const kind: ProfileKind = entry?.kind ?? 'no-credentials';
  const ctx = { operation: 'GetCallerIdentity', profile: usesEnvironment ? undefined : profile, region } as const;
  let credentials;
  try {
    credentials = await credentialProvider({ ...opts, ...(region ? { region } : {}) })();
  } catch (e) {
    throw kmsError(e, ctx);
  }
  const sts = new STSClient({ region: region ?? STS_FALLBACK_REGION, credentials, requestHandler: AWS_CLIENT_TIMEOUTS, logger: awsSdkLogger() });
  recordEndpointOnErrors(sts);
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    const identity: Identity = { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '', profile, kind };
    if (region) identity.region = region;
    if (credentials.expiration) identity.credentialsExpireAt = credentials.expiration;
    if (kind === 'sso-session' || kind === 'legacy-sso') {
      const token = await readToken((await ssoTargetOf(profile)).cacheKey);
      if (token) identity.ssoSessionExpiresAt = new Date(token.expiresAt);
    }
    return identity;
  } catch (e) {
    throw kmsError(e, ctx);
  } finally {
    sts.destroy();
  }
}
