/**
 * What a KMS key reference looks like, without the AWS SDK: the error mapping, the option parsers and the keyrings
 * check key ids with these, and a command that never calls KMS (a raw AES key, `kenv inspect`) loads no SDK for them.
 */

/** The provider id of a data key wrapped by KMS Encrypt/GenerateDataKey (the ESDK's). */
export const KMS_PROVIDER_ID = 'aws-kms';
/** The provider id of a data key wrapped under a KMS RSA key's public key. */
export const KMS_RSA_PROVIDER_ID = 'aws-kms-rsa';

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
