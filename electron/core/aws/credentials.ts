import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { KenvError } from '../errors.js';
import { awsSdkLogger } from './network-errors.js';
import { resolveRegion } from './profiles.js';

/** A provider of AWS credentials, as the SDK clients take it. */
export type CredentialProvider = ReturnType<typeof fromNodeProviderChain>;

/**
 * The credentials the AWS CLI would use: --profile (or AWS_PROFILE) through the shared files, else the environment,
 * the default profile, web identity, containers and instance metadata.
 *
 * Resolves SSO (sso-session and legacy), assume-role chains, credential_process and static keys lazily, caching
 * until the credentials are about to expire. `region` is the Region nested STS/SSO clients use for assume-role.
 */
export function credentialProvider(opts: { profile?: string; region?: string } = {}): CredentialProvider {
  return fromNodeProviderChain({
    logger: awsSdkLogger(),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.region ? { clientConfig: { region: opts.region } } : {}),
  });
}

/** The Region and credentials an AWS SDK client needs for a profile; throws NO_REGION when no Region is set. */
export async function awsClientConfig(opts: { profile?: string; region?: string } = {}): Promise<{
  region: string;
  credentials: CredentialProvider;
}> {
  const region = await resolveRegion(opts);
  if (!region) {
    throw new KenvError(
      'NO_REGION',
      `No AWS Region is configured${opts.profile ? ` for profile ${opts.profile}` : ''}. ` +
        'Set region in the profile (~/.aws/config), set AWS_REGION, or pass --region.',
    );
  }
  return { region, credentials: credentialProvider({ ...opts, region }) };
}
