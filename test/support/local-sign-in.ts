import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { IdentityDirectory } from './aws-identities.js';
import { type TempAws, useTempAws } from './aws-env.js';
import { type LocalSso, type LocalSsoOptions, startLocalSso } from './local-sso.js';
import { type LocalSts, startLocalSts } from './local-sts.js';

/**
 * SSO profiles for sign-in tests: `work` (an sso-session, the token flow), `old` (the legacy keys, no sso-session)
 * and `keys` (static keys), all for role Developer in account 111122223333.
 */
export const SSO_PROFILES = `
[profile work]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile old]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Developer
region = us-east-1

[profile keys]
aws_access_key_id = AKIA1
aws_secret_access_key = s
`;

/** The emulators of one test file and the AWS home of the running test; read them inside a test or hook. */
export interface LocalSignIn {
  readonly sts: LocalSts;
  readonly sso: LocalSso;
  readonly aws: TempAws;
}

/**
 * A local IAM Identity Center and STS for the file (started in beforeAll, stopped in afterAll), and for each test a
 * fresh temp HOME whose AWS config is `config` (and credentials file `credentials`), with the SDK's SSO, SSO OIDC
 * and STS endpoints pointed at the emulators.
 *
 * Each test starts with an empty call log and the emulator options it was started with, whatever the test before
 * it changed.
 */
export function useLocalSignIn(
  directory: IdentityDirectory,
  ssoOptions: LocalSsoOptions,
  { config = SSO_PROFILES, credentials }: { config?: string; credentials?: string } = {},
): LocalSignIn {
  let sts: LocalSts | undefined;
  let sso: LocalSso | undefined;
  let aws: TempAws | undefined;
  const initialOptions = { ...ssoOptions };

  beforeAll(async () => {
    sts = await startLocalSts(directory);
    sso = await startLocalSso(directory, { ...initialOptions });
  });
  afterAll(async () => {
    await sts?.close();
    await sso?.close();
  });
  beforeEach(() => {
    aws = useTempAws();
    aws.setEnv('AWS_ENDPOINT_URL_STS', sts!.url);
    aws.setEnv('AWS_ENDPOINT_URL_SSO', sso!.url);
    aws.setEnv('AWS_ENDPOINT_URL_SSO_OIDC', sso!.url);
    aws.writeConfig(config);
    if (credentials !== undefined) aws.writeCredentials(credentials);
    sso!.calls.length = 0;
    for (const name of Object.keys(sso!.options)) delete sso!.options[name as keyof LocalSsoOptions];
    Object.assign(sso!.options, initialOptions);
  });
  afterEach(() => aws?.restore());

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is read before its hook ran: read it inside a test or hook`);
    return value;
  };
  return {
    get sts() { return started(sts, 'the local STS'); },
    get sso() { return started(sso, 'the local SSO'); },
    get aws() { return started(aws, 'the test AWS home'); },
  };
}
