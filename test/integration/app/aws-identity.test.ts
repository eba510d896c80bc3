import { describe, expect, it } from 'vitest';
import { awsIdentityService, roleOf } from '../../../electron/core/app/aws-identity.js';
import { IdentityDirectory } from '../../support/aws-identities.js';
import { useLocalSignIn } from '../../support/local-sign-in.js';

const directory = new IdentityDirectory();
const user = directory.addUser('444455556666', 'ada');
useLocalSignIn(
  directory,
  { userName: 'ada@example.com', assignments: [{ accountId: '111122223333', accountName: 'dev', roles: ['SecurityAnalyst'] }] },
  {
    config: `
[profile work]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = SecurityAnalyst
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile keys]
region = us-east-2
`,
    credentials: `[keys]\naws_access_key_id = ${user.accessKeyId}\naws_secret_access_key = ${user.secretAccessKey}\n`,
  },
);

/** What a browser does with the authorize URL: follow the redirect to the loopback listener. */
async function browser(url: string): Promise<void> {
  const r = await fetch(url, { redirect: 'manual' });
  await fetch(r.headers.get('location')!);
}

function service(initial: string) {
  let profile: string | undefined = initial;
  return awsIdentityService({ profile: () => profile, setProfile: (p) => { profile = p; }, openBrowser: browser });
}

describe('awsIdentityService', () => {
  it('lists the profiles, marks the SSO ones, and says who static keys belong to', async () => {
    const id = await service('keys').current();
    expect(id).toMatchObject({
      profile: 'keys', status: 'signed-in', account: '444455556666', arn: 'arn:aws:iam::444455556666:user/ada', role: null, region: 'us-east-2', sso: false,
    });
    expect(id.profiles).toEqual(expect.arrayContaining([{ name: 'work', sso: true }, { name: 'keys', sso: false }]));
  });

  it('an SSO profile without a live session is "expired", and signing in makes it signed in with its role', async () => {
    const identity = service('work');
    expect(await identity.current()).toMatchObject({ profile: 'work', sso: true, status: 'expired', error: { code: 'SSO_EXPIRED' } });
    expect(await identity.signIn()).toMatchObject({
      profile: 'work', sso: true, status: 'signed-in', account: '111122223333', role: 'SecurityAnalyst', region: 'eu-west-1',
    });
  });

  it('switching profile re-resolves', async () => {
    const identity = service('work');
    expect(await identity.useProfile('keys')).toMatchObject({ profile: 'keys', status: 'signed-in' });
  });
});

describe('roleOf', () => {
  it('reads the role of an assumed-role ARN only', () => {
    expect(roleOf('arn:aws:sts::111122223333:assumed-role/SecurityAnalyst/ada@example.com')).toBe('SecurityAnalyst');
    expect(roleOf('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecurityAnalyst_0123456789abcdef/ada')).toBe('SecurityAnalyst');
    expect(roleOf('arn:aws:iam::111122223333:user/ada')).toBeNull();
  });
});
