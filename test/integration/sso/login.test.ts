import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { whoami } from '../../../electron/core/aws/whoami.js';
import { runLoginCommand, runLogoutCommand } from '../../../electron/core/sso/command.js';
import { type DeviceCodePrompt, freshSsoToken, login, logout } from '../../../electron/core/sso/login.js';
import { IdentityDirectory } from '../../support/aws-identities.js';
import { captureIo } from '../../support/aws-env.js';
import { useLocalSignIn } from '../../support/local-sign-in.js';
import { MemorySecretStore } from '../../support/memory-secret-store.js';

const local = useLocalSignIn(new IdentityDirectory(), { userName: 'alice@example.com' });

/** What a browser does with the authorize URL: follow the redirect to Kenv's loopback listener. */
async function browser(url: string): Promise<void> {
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status).toBe(302);
  const callback = await fetch(r.headers.get('location')!);
  expect(await callback.text()).toContain('Kenv is signed in');
}

function cacheFile(key: string): string {
  return join(local.aws.home, '.aws', 'sso', 'cache', `${createHash('sha1').update(key).digest('hex')}.json`);
}

function readCache(key: string): Record<string, string> {
  return JSON.parse(readFileSync(cacheFile(key), 'utf8')) as Record<string, string>;
}

describe('kenv login (authorization code with PKCE)', () => {
  it('signs in through the browser, writes the AWS CLI cache, and the SDK chain uses it', async () => {
    const seen: string[] = [];
    const result = await login({ profile: 'work', openBrowser: async (url) => { seen.push(url); await browser(url); } });
    expect(result.flow).toBe('authorization-code');
    const authorize = new URL(seen[0]!);
    expect(authorize.origin + authorize.pathname).toBe(`${local.sso.url}/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
    expect(authorize.searchParams.get('scopes')).toBe('sso:account:access');

    expect(result.cachePath).toBe(cacheFile('corp'));
    expect(statSync(result.cachePath).mode & 0o777).toBe(0o600);
    const cached = readCache('corp');
    expect(Object.keys(cached).sort()).toEqual(['accessToken', 'clientId', 'clientSecret', 'expiresAt', 'refreshToken', 'region', 'registrationExpiresAt', 'startUrl']);
    expect(cached).toMatchObject({ startUrl: 'https://corp.awsapps.com/start', region: 'eu-west-1' });
    expect(cached.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const id = await whoami({ profile: 'work' });
    expect(id.arn).toBe('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice@example.com');
    expect(id.kind).toBe('sso-session');
    expect(id.ssoSessionExpiresAt?.toISOString().replace('.000', '')).toBe(cached.expiresAt);
    expect(local.sso.calls).toEqual(['RegisterClient', 'CreateToken:authorization_code', 'GetRoleCredentials']);
  });

  it('rejects a redirect whose state does not match', async () => {
    const forged = async (url: string) => {
      const r = await fetch(url, { redirect: 'manual' });
      const location = new URL(r.headers.get('location')!);
      location.searchParams.set('state', 'forged');
      await fetch(location);
    };
    await expect(login({ profile: 'work', openBrowser: forged })).rejects.toMatchObject({ code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('wrong state') });
    expect(existsSync(cacheFile('corp'))).toBe(false);
    expect(local.sso.calls).not.toContain('CreateToken:authorization_code');
  });

  it('reports a sign-in refused in the browser', async () => {
    local.sso.options.denyAuthorize = true;
    await expect(login({ profile: 'work', openBrowser: browser_ignoringText })).rejects.toMatchObject({ code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('access_denied') });
  });

  it('reuses the client registration kept in the secret store', async () => {
    const store = new MemorySecretStore();
    await login({ profile: 'work', openBrowser: browser, registrations: store });
    await login({ profile: 'work', openBrowser: browser, registrations: store });
    expect(local.sso.calls.filter((c) => c === 'RegisterClient')).toHaveLength(1);
    expect([...store.items.keys()]).toEqual(['sso-client/authorization-code/eu-west-1/https://corp.awsapps.com/start/sso:account:access']);
  });

  it('kenv login prints where to sign in and the result', async () => {
    const { out, err, io } = captureIo();
    expect(await runLoginCommand({ profile: 'work', openBrowser: browser, registrations: new MemorySecretStore() }, io)).toBe(0);
    expect(err[1]).toContain(`${local.sso.url}/authorize?`);
    expect(out).toEqual([]);
    expect(err.at(-1)).toMatch(/^Signed in: profile work \(https:\/\/corp\.awsapps\.com\/start\) until /);
  });

  it('a profile without SSO settings is refused with a sentence', async () => {
    await expect(login({ profile: 'keys', openBrowser: browser })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('does not sign in with IAM Identity Center') });
  });
});

/** A browser that follows the redirect without expecting success. */
async function browser_ignoringText(url: string): Promise<void> {
  const r = await fetch(url, { redirect: 'manual' });
  await (await fetch(r.headers.get('location')!)).text();
}

describe('kenv login --device-code', () => {
  it('shows the code, polls at the interval, slows down when asked and signs in once approved', async () => {
    local.sso.options.slowDownPolls = 1;
    let prompt: DeviceCodePrompt | undefined;
    const waits: number[] = [];
    const result = await login({
      profile: 'work',
      deviceCode: true,
      onDeviceCode: (p) => (prompt = p),
      // The person approves in a browser while Kenv waits before its third poll.
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 3) await fetch(prompt!.verificationUriComplete!);
      },
    });
    expect(prompt!.userCode).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    expect(prompt!.verificationUri).toBe(`${local.sso.url}/device`);
    expect(waits).toEqual([1000, 6000, 6000]);
    expect(local.sso.calls).toEqual(['RegisterClient', 'StartDeviceAuthorization', 'CreateToken:device_code', 'CreateToken:device_code', 'CreateToken:device_code']);
    expect(result.flow).toBe('device-code');
    expect(readCache('corp').refreshToken).toBeTruthy();
    expect((await whoami({ profile: 'work' })).account).toBe('111122223333');
  });

  it('stops when the device code expires', async () => {
    local.sso.options.expireDeviceCodes = true;
    await expect(login({ profile: 'work', deviceCode: true, sleep: async () => undefined })).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('expired'),
    });
  });

  it('signs a legacy profile in, caching by start URL without a refresh token', async () => {
    await login({ profile: 'old', deviceCode: true, onDeviceCode: (p) => void fetch(p.verificationUriComplete!), sleep: async () => new Promise((r) => setTimeout(r, 20)) });
    const cached = readCache('https://old.awsapps.com/start');
    expect(Object.keys(cached).sort()).toEqual(['accessToken', 'expiresAt', 'region', 'startUrl']);
    expect((await whoami({ profile: 'old' })).kind).toBe('legacy-sso');
  });
});

describe('SSO session lifetime', () => {
  function rewriteCache(key: string, patch: Record<string, string | undefined>): void {
    const next = { ...readCache(key), ...patch };
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    writeFileSync(cacheFile(key), JSON.stringify(next));
  }

  it('the SDK chain refreshes a token about to expire and rewrites the cache', async () => {
    await login({ profile: 'work', openBrowser: browser });
    const before = readCache('corp');
    rewriteCache('corp', { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await whoami({ profile: 'work' });
    expect(local.sso.calls).toContain('CreateToken:refresh_token');
    expect(readCache('corp').accessToken).not.toBe(before.accessToken);
  });

  it('freshSsoToken refreshes before expiry and keeps a token that is still good', async () => {
    await login({ profile: 'work', openBrowser: browser });
    const good = await freshSsoToken('work');
    expect(local.sso.calls).not.toContain('CreateToken:refresh_token');
    rewriteCache('corp', { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const refreshed = await freshSsoToken('work');
    expect(refreshed.accessToken).not.toBe(good.accessToken);
    expect(readCache('corp').accessToken).toBe(refreshed.accessToken);
  });

  it('an expired session without a refresh token is SSO_EXPIRED with the sign-in command', async () => {
    await login({ profile: 'work', openBrowser: browser });
    rewriteCache('corp', { expiresAt: '2020-01-01T00:00:00Z', refreshToken: undefined });
    await expect(whoami({ profile: 'work' })).rejects.toMatchObject({ code: 'SSO_EXPIRED', message: expect.stringContaining('sign in again: kenv login --profile work') });
    await expect(freshSsoToken('work')).rejects.toMatchObject({ code: 'SSO_EXPIRED', message: expect.stringContaining('sign in again: kenv login --profile work') });
  });

  it('a revoked session is SSO_EXPIRED', async () => {
    await login({ profile: 'work', openBrowser: browser });
    local.sso.revokeAll();
    await expect(whoami({ profile: 'work' })).rejects.toMatchObject({ code: 'SSO_EXPIRED', message: expect.stringContaining('kenv login --profile work') });
    rewriteCache('corp', { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await expect(freshSsoToken('work')).rejects.toMatchObject({ code: 'SSO_EXPIRED' });
  });

  it('never signed in is SSO_EXPIRED', async () => {
    await expect(whoami({ profile: 'work' })).rejects.toMatchObject({ code: 'SSO_EXPIRED', message: expect.stringContaining('kenv login --profile work') });
  });

  it('kenv logout signs out at the portal and removes the token', async () => {
    await login({ profile: 'work', openBrowser: browser });
    const { out, err, io } = captureIo();
    expect(await runLogoutCommand({ profile: 'work' }, io)).toBe(0);
    expect(out).toEqual([]);
    expect(err).toEqual(['Signed out: profile work.']);
    expect(local.sso.calls).toContain('Logout');
    expect(existsSync(cacheFile('corp'))).toBe(false);
    expect(await logout('work')).toEqual({ profile: 'work', removed: false });
    await expect(whoami({ profile: 'work' })).rejects.toMatchObject({ code: 'SSO_EXPIRED' });
  });
});
