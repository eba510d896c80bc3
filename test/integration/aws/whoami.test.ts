import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runProfilesCommand, runWhoamiCommand } from '../../../electron/core/aws/command.js';
import { listProfiles, resolveRegion } from '../../../electron/core/aws/profiles.js';
import { whoami } from '../../../electron/core/aws/whoami.js';
import { IdentityDirectory, type Principal } from '../../support/aws-identities.js';
import { captureIo, type TempAws, useTempAws } from '../../support/aws-env.js';
import { type LocalServer, refusingEndpoint } from '../../support/http.js';
import { type LocalSts, startLocalSts } from '../../support/local-sts.js';

const directory = new IdentityDirectory();
let sts: LocalSts;
let alice: Principal;
let aws: TempAws;

beforeAll(async () => {
  alice = directory.addUser('111122223333', 'alice');
  sts = await startLocalSts(directory, { denyAssumeRole: ['arn:aws:iam::444455556666:role/Forbidden'] });
});
afterAll(() => sts.close());
beforeEach(() => {
  aws = useTempAws();
  aws.setEnv('AWS_ENDPOINT_URL_STS', sts.url);
});
afterEach(() => aws.restore());

function staticProfile(name: string, p: Principal): string {
  return `[${name}]\naws_access_key_id = ${p.accessKeyId}\naws_secret_access_key = ${p.secretAccessKey}\n`;
}

describe('whoami', () => {
  it('resolves a static-key profile from the credentials file and its Region from the config file', async () => {
    aws.writeCredentials(staticProfile('dev', alice));
    aws.writeConfig('[profile dev]\nregion = eu-west-1\n');
    const id = await whoami({ profile: 'dev' });
    expect(id).toMatchObject({ account: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', profile: 'dev', kind: 'static', region: 'eu-west-1' });
    expect(id.credentialsExpireAt).toBeUndefined();
  });

  it('uses AWS_PROFILE when --profile is absent, and --region over the profile', async () => {
    aws.writeCredentials(staticProfile('dev', alice));
    aws.writeConfig('[profile dev]\nregion = eu-west-1\n');
    aws.setEnv('AWS_PROFILE', 'dev');
    const id = await whoami({ region: 'ap-south-1' });
    expect(id.profile).toBe('dev');
    expect(id.region).toBe('ap-south-1');
  });

  it('uses the environment keys when no profile is named', async () => {
    aws.setEnv('AWS_ACCESS_KEY_ID', alice.accessKeyId);
    aws.setEnv('AWS_SECRET_ACCESS_KEY', alice.secretAccessKey);
    aws.setEnv('AWS_REGION', 'us-west-2');
    const id = await whoami();
    expect(id).toMatchObject({ profile: '(environment)', kind: 'env', region: 'us-west-2', arn: alice.arn });
  });

  it('follows an assume-role chain through STS AssumeRole and reports when the session expires', async () => {
    aws.writeCredentials(staticProfile('base', alice));
    aws.writeConfig('[profile ops]\nrole_arn = arn:aws:iam::444455556666:role/Ops\nsource_profile = base\nrole_session_name = kenv-test\nregion = eu-central-1\n');
    const id = await whoami({ profile: 'ops' });
    expect(id).toMatchObject({ account: '444455556666', arn: 'arn:aws:sts::444455556666:assumed-role/Ops/kenv-test', kind: 'assume-role' });
    expect(id.credentialsExpireAt!.getTime()).toBeGreaterThan(Date.now());
    expect(sts.calls.some((c) => c.action === 'AssumeRole' && c.accessKeyId === alice.accessKeyId)).toBe(true);
  });

  it('a denied AssumeRole is KMS_ACCESS_DENIED', async () => {
    aws.writeCredentials(staticProfile('base', alice));
    aws.writeConfig('[profile nope]\nrole_arn = arn:aws:iam::444455556666:role/Forbidden\nsource_profile = base\nregion = eu-central-1\n');
    await expect(whoami({ profile: 'nope' })).rejects.toMatchObject({ code: 'KMS_ACCESS_DENIED', message: expect.stringContaining('sts:AssumeRole') });
  });

  it('runs credential_process as the AWS CLI does', async () => {
    aws.writeConfig(`[profile proc]\ncredential_process = ${process.execPath} -e "console.log(JSON.stringify({Version:1,AccessKeyId:'${alice.accessKeyId}',SecretAccessKey:'${alice.secretAccessKey}'}))"\nregion = eu-west-1\n`);
    const id = await whoami({ profile: 'proc' });
    expect(id).toMatchObject({ kind: 'credential-process', arn: alice.arn });
  });

  it('a profile that does not exist is PROFILE_NOT_FOUND naming the profile', async () => {
    await expect(whoami({ profile: 'ghost' })).rejects.toMatchObject({ code: 'PROFILE_NOT_FOUND', message: expect.stringContaining('"ghost"') });
  });

  it('no credentials anywhere is NO_CREDENTIALS', async () => {
    await expect(whoami()).rejects.toMatchObject({ code: 'NO_CREDENTIALS' });
  });

  it('keys STS does not know are NO_CREDENTIALS', async () => {
    aws.writeCredentials('[default]\naws_access_key_id = AKIAUNKNOWN\naws_secret_access_key = x\n');
    await expect(whoami()).rejects.toMatchObject({ code: 'NO_CREDENTIALS', message: expect.stringContaining('rejected') });
  });

  it('an STS endpoint that refuses connections is NETWORK_REFUSED', async () => {
    const refusing: LocalServer = await refusingEndpoint();
    aws.setEnv('AWS_ENDPOINT_URL_STS', refusing.url);
    aws.writeCredentials(staticProfile('default', alice));
    try {
      await expect(whoami({ region: 'eu-west-1' })).rejects.toMatchObject({ code: 'NETWORK_REFUSED' });
    } finally {
      await refusing.close();
    }
  });

  it('kenv whoami prints account, ARN, profile, Region and session', async () => {
    aws.writeCredentials(staticProfile('dev', alice));
    aws.writeConfig('[profile dev]\nregion = eu-west-1\n');
    const { out, err, io } = captureIo();
    expect(await runWhoamiCommand({ profile: 'dev' }, io)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toMatch(/Account: +111122223333/);
    expect(out.join('\n')).toContain(alice.arn);
    expect(out.join('\n')).toMatch(/Profile: +dev \(static\)/);
    expect(out.join('\n')).toMatch(/Region: +eu-west-1/);
  });

  it('kenv whoami exits 1 with the code and the sentence on stderr', async () => {
    const { out, err, io } = captureIo();
    expect(await runWhoamiCommand({ profile: 'ghost' }, io)).toBe(1);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(/^kenv: .*\[PROFILE_NOT_FOUND\]$/);
  });
});

describe('profiles', () => {
  const config = [
    '[default]', 'region = us-east-1',
    '[profile sso-new]', 'sso_session = corp', 'sso_account_id = 111122223333', 'sso_role_name = Dev', 'region = eu-west-1',
    '[sso-session corp]', 'sso_start_url = https://corp.awsapps.com/start', 'sso_region = eu-west-1',
    '[profile sso-old]', 'sso_start_url = https://old.awsapps.com/start', 'sso_region = us-east-1', 'sso_account_id = 1', 'sso_role_name = R',
    '[profile ops]', 'role_arn = arn:aws:iam::444455556666:role/Ops', 'source_profile = default',
    '[profile proc]', 'credential_process = /bin/true',
    '[profile bare]', 'region = eu-north-1',
  ].join('\n');

  it('lists every profile with its kind, the environment first', async () => {
    aws.writeConfig(config);
    aws.writeCredentials('[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n[keysonly]\naws_access_key_id = AKIA2\naws_secret_access_key = s\n');
    aws.setEnv('AWS_ACCESS_KEY_ID', 'AKIAENV');
    aws.setEnv('AWS_SECRET_ACCESS_KEY', 's');
    const profiles = await listProfiles();
    expect(profiles.map((p) => [p.name, p.kind])).toEqual([
      ['(environment)', 'env'], ['default', 'static'], ['bare', 'no-credentials'], ['keysonly', 'static'], ['ops', 'assume-role'],
      ['proc', 'credential-process'], ['sso-new', 'sso-session'], ['sso-old', 'legacy-sso'],
    ]);
    expect(profiles.find((p) => p.name === 'default')).toMatchObject({ source: 'both', region: 'us-east-1' });
    expect(profiles.find((p) => p.name === 'sso-new')).toMatchObject({ ssoStartUrl: 'https://corp.awsapps.com/start', ssoRegion: 'eu-west-1', accountId: '111122223333', roleName: 'Dev' });
  });

  it('kenv profiles marks the profile in use and prints kinds', async () => {
    aws.writeConfig(config);
    aws.setEnv('AWS_PROFILE', 'ops');
    const { out, io } = captureIo();
    expect(await runProfilesCommand({}, io)).toBe(0);
    expect(out[0]).toMatch(/PROFILE +KIND +REGION +DETAILS/);
    expect(out.find((l) => l.startsWith('* '))).toMatch(/\* ops +assume-role/);
    expect(out.some((l) => /sso-new +sso-session +eu-west-1 +https:\/\/corp\.awsapps\.com\/start 111122223333\/Dev/.test(l))).toBe(true);
  });

  it('kenv profiles --json gives the entries', async () => {
    aws.writeConfig(config);
    const { out, io } = captureIo();
    expect(await runProfilesCommand({ json: true }, io)).toBe(0);
    expect(JSON.parse(out.join('\n'))).toHaveLength(6);
  });

  it('with no profiles at all says how to make one', async () => {
    const { err, io } = captureIo();
    expect(await runProfilesCommand({}, io)).toBe(1);
    expect(err[0]).toMatch(/aws configure/);
  });

  it('Region: --region, then AWS_REGION, then the profile', async () => {
    aws.writeConfig('[profile dev]\nregion = eu-west-1\n');
    expect(await resolveRegion({ profile: 'dev' })).toBe('eu-west-1');
    aws.setEnv('AWS_REGION', 'us-east-2');
    expect(await resolveRegion({ profile: 'dev' })).toBe('us-east-2');
    expect(await resolveRegion({ profile: 'dev', region: 'ap-east-1' })).toBe('ap-east-1');
  });
});
