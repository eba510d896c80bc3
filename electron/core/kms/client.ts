import { KMSClient } from '@aws-sdk/client-kms';

/** One KMS client per Region, created on first use. `undefined` is the Region the profile or environment names. */
export type KmsClientFactory = (region?: string) => KMSClient;

export interface KmsClientOptions {
  profile?: string;
  region?: string;
}

/**
 * KMS clients that resolve credentials, Region and endpoint the way the AWS CLI does: the SDK's default chain
 * (environment, `~/.aws/config` and `credentials`, SSO cache, `AWS_ENDPOINT_URL_KMS`).
 */
export function defaultKmsClientFactory(opts: KmsClientOptions = {}): KmsClientFactory {
  const clients = new Map<string, KMSClient>();
  return (region) => {
    const wanted = region ?? opts.region;
    const cacheKey = wanted ?? '';
    let client = clients.get(cacheKey);
    if (!client) {
      client = new KMSClient({
        ...(wanted ? { region: wanted } : {}),
        ...(opts.profile ? { profile: opts.profile } : {}),
      });
      clients.set(cacheKey, client);
    }
    return client;
  };
}

/** A KMS key or alias ARN: partition, Region, account, `key` or `alias`, id. The one pattern Kenv checks ARNs with. */
const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

/** The Region a key ARN or alias ARN names, or undefined for a bare key id or alias name. */
export function regionOfKey(keyId: string | undefined): string | undefined {
  return keyId ? KMS_ARN.exec(keyId)?.[1] : undefined;
}

/** Whether a string is a KMS key ARN (not an alias ARN): what a KMS data key's provider info must hold. */
export function isKeyArn(keyId: string): boolean {
  return KMS_ARN.exec(keyId)?.[3] === 'key';
}

/** Whether a string looks like a KMS key reference: key id, key ARN, alias name or alias ARN. */
export function isKeyReference(keyId: string): boolean {
  return (
    KMS_ARN.test(keyId) ||
    /^alias\/[A-Za-z0-9/_-]+$/.test(keyId) ||
    /^(mrk-)?[0-9a-f-]{32,36}$/i.test(keyId)
  );
}
