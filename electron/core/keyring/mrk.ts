/** The parts of a KMS ARN, per the ESDK specification's `aws-kms-key-arn.md`. */
export interface KmsArn {
  partition: string;
  region: string;
  account: string;
  resourceType: 'key' | 'alias';
  resourceId: string;
}

/** Parses a KMS key or alias ARN; undefined for anything else (a bare key id, an alias name, junk). */
export function parseKmsArn(s: string): KmsArn | undefined {
  const m = /^arn:([^:]+):kms:([^:]+):([^:]+):(key|alias)\/(.+)$/.exec(s);
  if (!m) return undefined;
  const [, partition, region, account, resourceType, resourceId] = m as unknown as [string, string, string, string, 'key' | 'alias', string];
  return { partition, region, account, resourceType, resourceId };
}

/** Whether an identifier names a multi-Region key: a key ARN or key id whose id starts with `mrk-`. */
export function isMultiRegionKey(id: string): boolean {
  if (id.startsWith('arn:')) {
    const arn = parseKmsArn(id);
    return arn?.resourceType === 'key' && arn.resourceId.startsWith('mrk-');
  }
  return id.startsWith('mrk-');
}

/**
 * "AWS KMS MRK Match for Decrypt": identical identifiers match; two multi-Region key ARNs match when everything but
 * the Region is equal (a replica opens what its primary or another replica wrapped).
 */
export function mrkMatchForDecrypt(configured: string, stored: string): boolean {
  if (configured === stored) return true;
  if (!isMultiRegionKey(configured) || !isMultiRegionKey(stored)) return false;
  const a = parseKmsArn(configured);
  const b = parseKmsArn(stored);
  if (!a || !b) return false;
  return a.partition === b.partition && a.account === b.account && a.resourceType === b.resourceType && a.resourceId === b.resourceId;
}

/** The same multi-Region key ARN in another Region (a replica's ARN). */
export function inRegion(arn: KmsArn, region: string): string {
  return `arn:${arn.partition}:kms:${region}:${arn.account}:${arn.resourceType}/${arn.resourceId}`;
}

/**
 * Which accounts' KMS keys a decrypt may call: the ESDK's discovery filter (one partition, a set of accounts).
 *
 * Calling Decrypt on a key of a stranger's account tells that account who you are (its CloudTrail logs the call),
 * so a discovery decrypt asks KMS only about keys in accounts the person trusts.
 */
export interface DiscoveryFilter {
  partition: string;
  accounts: readonly string[];
}
