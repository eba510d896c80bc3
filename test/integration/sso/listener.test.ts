// The browser flow's one-shot loopback listener: only GET /oauth/callback counts; timeout, abort and a missing code
// each end the sign-in with a clear error, and the listener never outlives the sign-in.
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { login } from '../../../electron/core/sso/login.js';
import { IdentityDirectory } from '../../support/aws-identities.js';
import { type TempAws, useTempAws } from '../../support/aws-env.js';
import { type LocalSso, startLocalSso } from '../../support/local-sso.js';
import { type LocalSts, startLocalSts } from '../../support/local-sts.js';

const directory = new IdentityDirectory();
let sts: LocalSts;
let sso: LocalSso;
let aws: TempAws;

const CONFIG = `
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

beforeAll(async () => {
  sts = await startLocalSts(directory);
  sso = await startLocalSso(directory, { userName: 'alice@example.com' });
});
afterAll(async () => {
  await sts.close();
  await sso.close();
});
beforeEach(() => {
  aws = useTempAws();
  aws.setEnv('AWS_ENDPOINT_URL_STS', sts.url);
  aws.setEnv('AWS_ENDPOINT_URL_SSO', sso.url);
  aws.setEnv('AWS_ENDPOINT_URL_SSO_OIDC', sso.url);
  aws.writeConfig(CONFIG);
  sso.calls.length = 0;
  Object.assign(sso.options, { slowDownPolls: 0, expireDeviceCodes: false, denyAuthorize: false });
});
afterEach(() => aws.restore());


/** The browser's half: the authorize URL's redirect to Kenv's listener, without following it. */
async function redirectOf(authorizeUrl: string): Promise<URL> {
  const r = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(r.status).toBe(302);
  return new URL(r.headers.get('location')!);
}

function portOf(authorizeUrl: string): number {
  return Number(new URL(new URL(authorizeUrl).searchParams.get('redirect_uri')!).port);
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the sign-in callback listener', () => {
  it('answers 404 to another path or method carrying a valid code and state, keeps waiting, and then takes the real redirect', async () => {
    const strays: number[] = [];
    const result = await login({
      profile: 'work',
      openBrowser: async (url) => {
        const location = await redirectOf(url);
        for (const path of ['/', '/oauth/callback/x', '/other']) {
          const stray = new URL(location);
          stray.pathname = path;
          strays.push((await fetch(stray)).status);
        }
        strays.push((await fetch(location, { method: 'POST' })).status);
        expect(await (await fetch(location)).text()).toContain('Kenv is signed in');
      },
    });
    expect(strays).toEqual([404, 404, 404, 404]);
    expect(result.flow).toBe('authorization-code');
    expect(sso.calls.filter((c) => c.startsWith('CreateToken'))).toHaveLength(1);
  });

  it('a redirect without a code fails with SSO_LOGIN_FAILED saying so, and the listener is closed', async () => {
    let port = 0;
    await expect(login({
      profile: 'work',
      openBrowser: async (url) => {
        port = portOf(url);
        const location = await redirectOf(url);
        location.searchParams.delete('code');
        await (await fetch(location)).text();
      },
    })).rejects.toMatchObject({ code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('no authorization code') });
    expect(sso.calls.filter((c) => c.startsWith('CreateToken'))).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('no redirect within callbackTimeoutMs fails with SSO_LOGIN_FAILED (not completed in time), and the listener is closed', async () => {
    let port = 0;
    await expect(login({ profile: 'work', callbackTimeoutMs: 50, openBrowser: async (url) => void (port = portOf(url)) }))
      .rejects.toMatchObject({ code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('not completed in time') });
    expect(port).toBeGreaterThan(0);
    expect(await listening(port)).toBe(false);
  });

  it('aborting the signal while waiting fails with CANCELLED, takes no token, and the listener is closed', async () => {
    const controller = new AbortController();
    let port = 0;
    await expect(login({
      profile: 'work',
      signal: controller.signal,
      openBrowser: async (url) => {
        port = portOf(url);
        expect(await listening(port)).toBe(true);
        controller.abort();
      },
    })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(sso.calls.filter((c) => c.startsWith('CreateToken'))).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('listens on 127.0.0.1 only, and closes after a successful sign-in', async () => {
    let port = 0;
    let redirectHost = '';
    await login({
      profile: 'work',
      openBrowser: async (url) => {
        port = portOf(url);
        redirectHost = new URL(new URL(url).searchParams.get('redirect_uri')!).hostname;
        await (await fetch(await redirectOf(url))).text();
      },
    });
    expect(redirectHost).toBe('127.0.0.1');
    expect(await listening(port)).toBe(false);
  });
});
