import { loadSharedConfigFiles, loadSsoSessionData } from '@smithy/shared-ini-file-loader';

/** How a profile gets its credentials, in the order the AWS CLI checks them. */
export type ProfileKind =
  | 'assume-role'
  | 'web-identity'
  | 'sso-session'
  | 'legacy-sso'
  | 'credential-process'
  | 'static'
  | 'login'
  | 'env'
  | 'no-credentials';

/** One profile of ~/.aws/config and ~/.aws/credentials (or the environment's keys), as `kenv profiles` lists it. */
export interface ProfileEntry {
  name: string;
  kind: ProfileKind;
  region?: string;
  /** Which file(s) define it; 'environment' for the pseudo-profile of AWS_ACCESS_KEY_ID. */
  source: 'config' | 'credentials' | 'both' | 'environment';
  /** The profile the AWS CLI would use without --profile (AWS_PROFILE, else default). */
  isDefault: boolean;
  ssoSession?: string;
  ssoStartUrl?: string;
  ssoRegion?: string;
  accountId?: string;
  roleName?: string;
  roleArn?: string;
  sourceProfile?: string;
}

/** The settings of one profile merged from both files (config wins, as in the SDK), with its sso-session section. */
export interface ProfileSettings {
  name: string;
  settings: Record<string, string>;
  ssoSessionName?: string;
  ssoSession?: Record<string, string>;
}

/** The name of the environment pseudo-profile (not a valid ini section name, so it cannot clash). */
export const ENVIRONMENT_PROFILE = '(environment)';

/** The loader keys [sso-session x] and [services x] sections as "sso-session.x" / "services.x". */
const NON_PROFILE_SECTION = /^(sso-session|services)\./;

/** --profile, else AWS_PROFILE, else "default" — the AWS CLI's rule. */
export function profileName(explicit?: string): string {
  return explicit || process.env.AWS_PROFILE || 'default';
}

/**
 * Every profile Kenv can use, read from AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE (or ~/.aws/*).
 *
 * The environment's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY appear first as a pseudo-profile of kind "env".
 * Files are re-read on each call.
 */
export async function listProfiles(): Promise<ProfileEntry[]> {
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
  const sessions = await loadSsoSessionData();
  const names = [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])]
    .filter((name) => !NON_PROFILE_SECTION.test(name))
    .sort((a, b) =>
    a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b),
  );
  const current = profileName();
  const entries: ProfileEntry[] = [];
  if (process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY) {
    entries.push({
      name: ENVIRONMENT_PROFILE,
      kind: 'env',
      source: 'environment',
      isDefault: !process.env.AWS_PROFILE,
      ...optional('region', process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION),
    });
  }
  for (const name of names) {
    const inConfig = name in configFile;
    const inCredentials = name in credentialsFile;
    const settings = { ...credentialsFile[name], ...configFile[name] } as Record<string, string>;
    const session = settings.sso_session ? (sessions[settings.sso_session] as Record<string, string> | undefined) : undefined;
    entries.push({
      name,
      kind: kindOf(settings),
      source: inConfig && inCredentials ? 'both' : inConfig ? 'config' : 'credentials',
      isDefault: name === current,
      ...optional('region', settings.region),
      ...optional('ssoSession', settings.sso_session),
      ...optional('ssoStartUrl', session?.sso_start_url ?? settings.sso_start_url),
      ...optional('ssoRegion', session?.sso_region ?? settings.sso_region),
      ...optional('accountId', settings.sso_account_id),
      ...optional('roleName', settings.sso_role_name),
      ...optional('roleArn', settings.role_arn),
      ...optional('sourceProfile', settings.source_profile ?? settings.credential_source),
    });
  }
  return entries;
}

/** The merged settings of one profile, or undefined when neither file defines it. */
export async function loadProfile(name: string): Promise<ProfileSettings | undefined> {
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
  if (!(name in configFile) && !(name in credentialsFile)) return undefined;
  const settings = { ...credentialsFile[name], ...configFile[name] } as Record<string, string>;
  const result: ProfileSettings = { name, settings };
  if (settings.sso_session) {
    const sessions = await loadSsoSessionData();
    result.ssoSessionName = settings.sso_session;
    const session = sessions[settings.sso_session] as Record<string, string> | undefined;
    if (session) result.ssoSession = session;
  }
  return result;
}

/**
 * The Region a command uses: --region, then AWS_REGION / AWS_DEFAULT_REGION, then the profile's `region`.
 *
 * Undefined when none is set; callers that need one throw NO_REGION.
 */
export async function resolveRegion(opts: { profile?: string; region?: string }): Promise<string | undefined> {
  if (opts.region) return opts.region;
  const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  const profile = await loadProfile(profileName(opts.profile));
  return profile?.settings.region || undefined;
}

/** The credential source the SDK would pick for these settings, in credential-provider-ini's order. */
export function kindOf(settings: Record<string, string | undefined>): ProfileKind {
  if (settings.role_arn && (settings.source_profile || settings.credential_source)) return 'assume-role';
  if (settings.aws_access_key_id && settings.aws_secret_access_key) return 'static';
  if (settings.role_arn && settings.web_identity_token_file) return 'web-identity';
  if (settings.credential_process) return 'credential-process';
  if (settings.sso_session) return 'sso-session';
  if (settings.sso_start_url || settings.sso_account_id) return 'legacy-sso';
  if (settings.login_session) return 'login';
  return 'no-credentials';
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value ? { [key]: value } : {}) as { [P in K]?: string };
}
