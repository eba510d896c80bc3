import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rfc3339, writeToken } from '../../../electron/core/sso/cache.js';
import { runLoginCommand, runLogoutCommand } from '../../../electron/core/sso/command.js';
import { freshSsoToken, login } from '../../../electron/core/sso/login.js';
import { IdentityDirectory } from '../../support/aws-identities.js';
import { captureIo } from '../../support/aws-env.js';
import { listen, type LocalServer, refusingEndpoint, sendJson } from '../../support/http.js';
import { SSO_PROFILES, useLocalSignIn } from '../../support/local-sign-in.js';
import { MemorySecretStore } from '../../support/memory-secret-store.js';

// How sign-in fails: what IAM Identity Center answers that Kenv does not ask for, a cancel while Kenv waits, a
// profile that cannot sign in, a token cache Kenv cannot write or remove. Each ends in a coded sentence and leaves
// the token cache as it was.

const local = useLocalSignIn(new IdentityDirectory(), { userName: 'alice@example.com' }, {
  config: `${SSO_PROFILES}
[profile half]
sso_session = nowhere

[sso-session nowhere]
sso_start_url = https://half.awsapps.com/start
`,
});

function cacheFile(key: string): string {
  return join(local.aws.home, '.aws', 'sso', 'cache', `${createHash('sha1').update(key).digest('hex')}.json`);
}

/**
 * An SSO-OIDC endpoint that registers clients and starts device sign-ins as IAM Identity Center does, and answers
 * every CreateToken with the error `tokenError` names (x-amzn-errortype, as the service sends it).
 */
async function scriptedOidc(opts: { tokenError: string; expiresIn?: number }): Promise<LocalServer & { tokenCalls: number }> {
  let tokenCalls = 0;
  const server = await listen((req, _body, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path === '/client/register') {
      return sendJson(res, 200, { clientId: 'c1', clientSecret: 's1', clientSecretExpiresAt: Math.floor(Date.now() / 1000) + 86400 });
    }
    if (path === '/device_authorization') {
      return sendJson(res, 200, {
        deviceCode: 'device-1', userCode: 'ABCD-EFGH', verificationUri: 'https://device.example/', expiresIn: opts.expiresIn ?? 600, interval: 1,
      });
    }
    if (path === '/token') {
      tokenCalls += 1;
      return sendJson(res, 400, { error: 'x', error_description: `CreateToken said no (${opts.tokenError})` }, { 'x-amzn-errortype': opts.tokenError });
    }
    return sendJson(res, 404, {});
  });
  return Object.assign(server, { get tokenCalls() { return tokenCalls; } });
}

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function useScriptedOidc(opts: { tokenError: string; expiresIn?: number }) {
  const server = await scriptedOidc(opts);
  servers.push(server);
  local.aws.setEnv('AWS_ENDPOINT_URL_SSO_OIDC', server.url);
  return server;
}

describe('kenv login --device-code when IAM Identity Center says no', () => {
  it('a sign-in denied in the browser is SSO_LOGIN_FAILED saying it was denied, and nothing is cached', async () => {
    await useScriptedOidc({ tokenError: 'AccessDeniedException' });
    await expect(login({ profile: 'work', deviceCode: true, sleep: async () => undefined })).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('was denied in the browser. Run kenv login --profile work again'),
    });
    expect(existsSync(cacheFile('corp'))).toBe(false);
  });

  it('an error Kenv does not expect is SSO_LOGIN_FAILED naming the operation and what the service said', async () => {
    await useScriptedOidc({ tokenError: 'InvalidRequestException' });
    await expect(login({ profile: 'work', deviceCode: true, sleep: async () => undefined })).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED',
      message: expect.stringMatching(/failed at CreateToken \(InvalidRequestException: .*\)\. Check sso_start_url and sso_region/),
    });
    expect(existsSync(cacheFile('corp'))).toBe(false);
  });

  it('a device code that expires while Kenv waits is not polled: the sign-in ends as expired', async () => {
    const oidc = await useScriptedOidc({ tokenError: 'AuthorizationPendingException', expiresIn: 0 });
    await expect(login({ profile: 'work', deviceCode: true, sleep: () => new Promise((r) => setTimeout(r, 20)) })).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('expired before the sign-in was approved'),
    });
    expect(oidc.tokenCalls).toBe(0);
  });

  it('cancelling while Kenv waits between polls ends the sign-in at once with CANCELLED, without polling again', async () => {
    const oidc = await useScriptedOidc({ tokenError: 'AuthorizationPendingException' });
    const cancel = new AbortController();
    // The default sleep: the interval is 1 s, and the abort comes well inside it.
    const signIn = login({ profile: 'work', deviceCode: true, signal: cancel.signal, onDeviceCode: () => setTimeout(() => cancel.abort(), 10) });
    await expect(signIn).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(oidc.tokenCalls).toBe(0);
    expect(existsSync(cacheFile('corp'))).toBe(false);
  });

  it('kenv login --device-code prints the code and where to enter it, and exit 1 with a coded sentence on failure', async () => {
    await useScriptedOidc({ tokenError: 'AccessDeniedException' });
    const { out, err, io } = captureIo();
    // registrations: the OS keychain is not what this test is about.
    expect(await runLoginCommand({ profile: 'work', deviceCode: true, registrations: new MemorySecretStore() }, io)).toBe(1);
    expect(out).toEqual([]);
    expect(err[0]).toBe('To sign in, open https://device.example/ and enter the code: ABCD-EFGH');
    // No verificationUriComplete from the service: no "or open" line.
    expect(err[1]).toMatch(/^The code expires at \d{4}-\d\d-\d\dT.*Z\. Waiting for approval…$/);
    expect(err[2]).toMatch(/^kenv: The sign-in for profile work was denied in the browser\..* \[SSO_LOGIN_FAILED\]$/);
    expect(err).toHaveLength(3);
  });

  it('kenv login --device-code against the local IAM Identity Center also offers the link with the code in it, and signs in', async () => {
    const { err, io } = captureIo();
    const approving = {
      out: io.out,
      err: (line: string) => {
        io.err(line);
        const link = /^ {2}or open (\S+)$/.exec(line)?.[1];
        if (link) void fetch(link);
      },
    };
    expect(await runLoginCommand({ profile: 'work', deviceCode: true, registrations: new MemorySecretStore() }, approving)).toBe(0);
    expect(err[1]).toMatch(new RegExp(`^ {2}or open ${local.sso.url}/device\\?user_code=[0-9A-F]{4}-[0-9A-F]{4}$`));
    expect(err.at(-1)).toMatch(/^Signed in: profile work /);
    expect(existsSync(cacheFile('corp'))).toBe(true);
  });
});

describe('profiles that cannot sign in', () => {
  it('a profile that is not in ~/.aws/config: kenv login and kenv logout exit 1 with INVALID_ARGUMENT, nothing asked of the service', async () => {
    const { err, io } = captureIo();
    expect(await runLoginCommand({ profile: 'missing', registrations: new MemorySecretStore(), openBrowser: async () => undefined }, io)).toBe(1);
    expect(await runLogoutCommand({ profile: 'missing' }, io)).toBe(1);
    const sentence = 'kenv: The profile missing is not in ~/.aws/config. Create it with "aws configure sso" or pick one from kenv profiles. [INVALID_ARGUMENT]';
    expect(err).toEqual([sentence, sentence]);
    expect(local.sso.calls).toEqual([]);
  });

  it('an sso-session without sso_region is INVALID_ARGUMENT naming the session and what it lacks', async () => {
    await expect(login({ profile: 'half', openBrowser: async () => undefined })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', message: 'The sso-session nowhere of profile half needs sso_start_url and sso_region in ~/.aws/config.',
    });
    expect(local.sso.calls).toEqual([]);
  });
});

describe('the token cache', () => {
  const soon = () => rfc3339(new Date(Date.now() + 60_000));

  it('a token inside the refresh window that has nothing to refresh with is used while it lasts, without a call', async () => {
    const token = { startUrl: 'https://corp.awsapps.com/start', region: 'eu-west-1', accessToken: 'still-good', expiresAt: soon() };
    await writeToken('corp', token);
    expect(await freshSsoToken('work')).toEqual(token);
    expect(local.sso.calls).toEqual([]);
  });

  it('a refresh that cannot reach SSO OIDC is a network error naming the endpoint, and the cached token is kept', async () => {
    const refusing = await refusingEndpoint();
    servers.push(refusing);
    local.aws.setEnv('AWS_ENDPOINT_URL_SSO_OIDC', refusing.url);
    const token = {
      startUrl: 'https://corp.awsapps.com/start', region: 'eu-west-1', accessToken: 'old', expiresAt: soon(),
      refreshToken: 'r', clientId: 'c', clientSecret: 's', registrationExpiresAt: rfc3339(new Date(Date.now() + 86400_000)),
    };
    await writeToken('corp', token);
    const failure = await freshSsoToken('work').catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: expect.stringMatching(/^NETWORK_/), message: expect.stringContaining(refusing.url.replace('http://', '')) });
    expect(JSON.parse(readFileSync(cacheFile('corp'), 'utf8'))).toEqual(token);
  });

  it('a token that cannot be put in place fails the write and leaves no temp file beside the cache', async () => {
    // The cache entry's name is taken by a folder: the rename fails after the temp file was written.
    mkdirSync(join(cacheFile('corp'), 'x'), { recursive: true });
    await expect(writeToken('corp', { startUrl: 'u', region: 'r', accessToken: 'a', expiresAt: soon() })).rejects.toMatchObject({
      code: expect.stringMatching(/^E(ISDIR|NOTEMPTY|EXIST)$/),
    });
    expect(readdirSync(dirname(cacheFile('corp')))).toEqual([`${createHash('sha1').update('corp').digest('hex')}.json`]);
  });

  it('kenv logout that cannot remove the cache entry exits 1 instead of claiming the sign-out', async () => {
    mkdirSync(join(cacheFile('corp'), 'x'), { recursive: true });
    writeFileSync(join(cacheFile('corp'), 'x', 'y'), '');
    const { err, io } = captureIo();
    expect(await runLogoutCommand({ profile: 'work' }, io)).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^kenv: .*\[[A-Z_]+\]$/);
    expect(err[0]).not.toContain('Signed out');
    expect(existsSync(join(cacheFile('corp'), 'x', 'y'))).toBe(true);
  });

  it('kenv logout of a profile that is not signed in says so and exits 0', async () => {
    const { err, io } = captureIo();
    expect(await runLogoutCommand({ profile: 'work' }, io)).toBe(0);
    expect(err).toEqual(['Profile work was not signed in.']);
    expect(local.sso.calls).toEqual([]);
  });
});
