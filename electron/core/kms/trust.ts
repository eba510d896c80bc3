import { KenvError } from '../errors.js';
import { parseKmsArn } from '../keyring/mrk.js';

/**
 * Whose KMS keys a decrypt may call: the ESDK's discovery filter, as Kenv's trusted accounts.
 *
 * The partition is the identity's (derived from its Region, as the SDK derives endpoints); the accounts are the
 * identity's own (asked of STS only when a file names a key in an account not listed) plus the listed ones.
 */
export class TrustedAccounts {
  private identityAccount: Promise<string> | undefined;

  constructor(
    private readonly listed: readonly string[],
    private readonly partition: string,
    private readonly identity: () => Promise<string>,
  ) {
    checkAccountIds(listed);
  }

  /** Undefined when KMS may be asked about this key ARN; otherwise the sentence saying why not and how to trust it. */
  async refusal(keyArn: string): Promise<string | undefined> {
    const arn = parseKmsArn(keyArn);
    if (!arn) return `${keyArn} is not a KMS key ARN.`;
    if (arn.partition !== this.partition) {
      return (
        `The data key is wrapped under ${keyArn}, in the AWS partition ${arn.partition}, but you are signed in to ${this.partition}; ` +
        'Kenv did not call KMS there. Decrypt with a profile of that partition.'
      );
    }
    if (this.listed.includes(arn.account)) return undefined;
    this.identityAccount ??= this.identity();
    if ((await this.identityAccount) === arn.account) return undefined;
    return (
      `The data key is wrapped under ${keyArn}, in account ${arn.account}, which you do not trust, so Kenv did not call KMS ` +
      `(a Decrypt call would show your identity in that account's CloudTrail). If you expect files from account ${arn.account}, ` +
      `trust it: kenv decrypt --trust-account ${arn.account}, add kenv_trusted_accounts = ${arn.account} to your AWS profile, ` +
      'or add it under Trusted accounts in the app settings.'
    );
  }
}

/** Throws INVALID_ARGUMENT for the first entry that is not a 12-digit AWS account id. */
export function checkAccountIds(accounts: readonly string[]): void {
  for (const account of accounts) {
    if (!/^\d{12}$/.test(account)) throw new KenvError('INVALID_ARGUMENT', `"${account}" is not an AWS account id: give 12 digits.`);
  }
}

/** The partition of a Region: `aws-cn` for cn-*, `aws-us-gov` for us-gov-*, `aws-iso*` for the isolated Regions, else `aws`. */
export function partitionOfRegion(region: string | undefined): string {
  if (!region) return 'aws';
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}

/**
 * The trusted accounts of a profile: `listed` (the CLI's --trust-account, the app's setting), the profile's
 * `kenv_trusted_accounts`, and the identity's own account (STS GetCallerIdentity, asked only when needed), in the
 * partition of the profile's Region.
 */
export async function trustedAccountsOf(opts: { profile?: string | undefined; region?: string | undefined; listed?: readonly string[] }): Promise<{ trust: TrustedAccounts; region: string | undefined }> {
  // Loaded here, not with the module: a command that never meets a KMS data key reads no profile and loads no SDK.
  const [{ loadProfile, profileName, resolveRegion }, { whoami }] = await Promise.all([import('../aws/profiles.js'), import('../aws/whoami.js')]);
  const aws = { ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) };
  const region = await resolveRegion(aws);
  const profile = await loadProfile(profileName(opts.profile)).catch(() => undefined);
  const listed = [...(opts.listed ?? []), ...parseTrustedAccounts(profile?.settings.kenv_trusted_accounts)];
  const trust = new TrustedAccounts(listed, partitionOfRegion(region), async () => (await whoami({ ...aws, ...(region ? { region } : {}) })).account);
  return { trust, region };
}

/** Account ids from a `kenv_trusted_accounts` profile setting: separated by commas or white space. */
export function parseTrustedAccounts(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}
