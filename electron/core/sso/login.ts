import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogoutCommand, SSOClient } from '@aws-sdk/client-sso';
import {
  CreateTokenCommand, type CreateTokenCommandOutput, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { KenvError } from '../errors.js';
import type { SecretStore } from '../keychain/keychain.js';
import { AWS_CLIENT_TIMEOUTS, recordEndpointOnErrors } from '../aws/network-errors.js';
import { kmsError } from '../kms/errors.js';
import { deleteToken, readToken, rfc3339, type SsoToken, writeToken } from './cache.js';
import { type SsoTarget, ssoTargetOf } from './session.js';

export type LoginFlow = 'authorization-code' | 'device-code';

export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresAt: Date;
}

export interface LoginOptions {
  profile?: string;
  /** Use the device-authorization flow instead of the browser redirect. */
  deviceCode?: boolean;
  /** Opens a URL in the system browser; defaults to xdg-open / open / start. */
  openBrowser?: (url: string) => Promise<void>;
  /** Shown before the browser opens, so a person can open the URL by hand. */
  onAuthorizeUrl?: (url: string) => void;
  /** Shows the device code and where to enter it. */
  onDeviceCode?: (prompt: DeviceCodePrompt) => void;
  /** Where client registrations are reused from (the OS keychain in the app and CLI); none registers each time. */
  registrations?: SecretStore;
  /** Waits between device-code polls. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** How long the browser flow waits for the redirect; 10 minutes by default. */
  callbackTimeoutMs?: number;
}

export interface LoginResult {
  profile: string;
  flow: LoginFlow;
  startUrl: string;
  cachePath: string;
  expiresAt: Date;
}

const CALLBACK_PATH = '/oauth/callback';
/** Registered without a port: RFC 8252 lets a native app pick any loopback port per sign-in. */
const REGISTERED_REDIRECT = `http://127.0.0.1${CALLBACK_PATH}`;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SLOW_DOWN_STEP_MS = 5_000;
/** The SDK refreshes tokens that expire within 5 minutes; Kenv uses the same window. */
export const REFRESH_WINDOW_MS = 5 * 60_000;

/**
 * Signs a profile in with IAM Identity Center and writes the token where the AWS CLI and the SDK look for it.
 *
 * The default flow is the authorization code with PKCE of current AWS CLIs: register a public client, open the
 * browser on the authorize URL, take the code on a one-shot listener at http://127.0.0.1:<random>/oauth/callback,
 * check `state`, exchange the code with the verifier. `deviceCode` uses the device flow: show the code, poll at the
 * interval, slow down when asked, stop when the code expires. Failures are KenvError SSO_LOGIN_FAILED (or
 * NETWORK_*, CANCELLED…).
 */
export async function login(opts: LoginOptions = {}): Promise<LoginResult> {
  const target = await ssoTargetOf(opts.profile);
  const oidc = ssoClient(new SSOOIDCClient({ region: target.ssoRegion, requestHandler: AWS_CLIENT_TIMEOUTS }));
  try {
    const flow: LoginFlow = opts.deviceCode ? 'device-code' : 'authorization-code';
    const client = await clientRegistration(oidc, target, flow, opts.registrations);
    const issued = flow === 'device-code'
      ? await deviceFlow(oidc, target, client, opts)
      : await authorizationCodeFlow(oidc, target, client, opts);
    const token = tokenFor(target, client, issued);
    const cachePath = await writeToken(target.cacheKey, token);
    return { profile: target.profile, flow, startUrl: target.startUrl, cachePath, expiresAt: new Date(token.expiresAt) };
  } finally {
    oidc.destroy();
  }
}

/**
 * Returns the profile's cached SSO token, first refreshing it with its refresh token when it expires within
 * `minValidityMs` (5 minutes by default).
 *
 * Throws SSO_EXPIRED ("sign in again: kenv login --profile P") when there is no token, or it expired and cannot be
 * refreshed (no refresh token, or revoked).
 */
export async function freshSsoToken(profileArg?: string, opts: { minValidityMs?: number } = {}): Promise<SsoToken> {
  const target = await ssoTargetOf(profileArg);
  const token = await readToken(target.cacheKey);
  if (!token) throw ssoExpired(target.profile, 'You are not signed in');
  const expiresAt = Date.parse(token.expiresAt);
  if (expiresAt - Date.now() > (opts.minValidityMs ?? REFRESH_WINDOW_MS)) return token;
  const registrationValid = token.registrationExpiresAt ? Date.parse(token.registrationExpiresAt) > Date.now() : true;
  if (!token.refreshToken || !token.clientId || !token.clientSecret || !registrationValid) {
    if (expiresAt > Date.now()) return token;
    throw ssoExpired(target.profile, 'The SSO session has expired');
  }
  const oidc = ssoClient(new SSOOIDCClient({ region: target.ssoRegion, requestHandler: AWS_CLIENT_TIMEOUTS }));
  try {
    const out = await oidc.send(new CreateTokenCommand({
      clientId: token.clientId, clientSecret: token.clientSecret, grantType: 'refresh_token', refreshToken: token.refreshToken,
    }));
    const refreshed: SsoToken = {
      ...token,
      accessToken: out.accessToken ?? '',
      expiresAt: rfc3339(new Date(Date.now() + (out.expiresIn ?? 0) * 1000)),
      ...(out.refreshToken ? { refreshToken: out.refreshToken } : {}),
    };
    await writeToken(target.cacheKey, refreshed);
    return refreshed;
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'InvalidGrantException' || name === 'ExpiredTokenException' || name === 'InvalidClientException' || name === 'UnauthorizedClientException') {
      throw ssoExpired(target.profile, 'The SSO session has expired or was revoked');
    }
    throw kmsError(e, { operation: 'CreateToken', profile: target.profile, region: target.ssoRegion });
  } finally {
    oidc.destroy();
  }
}

/** Signs the profile's session out at the portal (best effort) and removes its cached token; true if there was one. */
export async function logout(profileArg?: string): Promise<{ profile: string; removed: boolean }> {
  const target = await ssoTargetOf(profileArg);
  const token = await readToken(target.cacheKey);
  if (token && Date.parse(token.expiresAt) > Date.now()) {
    const sso = ssoClient(new SSOClient({ region: target.ssoRegion, requestHandler: AWS_CLIENT_TIMEOUTS }));
    try {
      await sso.send(new LogoutCommand({ accessToken: token.accessToken }));
    } catch {
      // The local token is removed whatever the portal says: signing out must work offline too.
    } finally {
      sso.destroy();
    }
  }
  return { profile: target.profile, removed: await deleteToken(target.cacheKey) };
}

/** The SSO_EXPIRED error every expired or missing session ends in. */
export function ssoExpired(profile: string, what: string): KenvError {
  return new KenvError('SSO_EXPIRED', `${what} for profile ${profile}; sign in again: kenv login --profile ${profile}`);
}

/** Opens a URL in the system browser without waiting for it. */
export async function defaultOpenBrowser(url: string): Promise<void> {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
      : ['xdg-open', [url]];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

interface ClientRegistration { clientId: string; clientSecret: string; expiresAt: number /* epoch seconds */ }
type IssuedToken = Pick<CreateTokenCommandOutput, 'accessToken' | 'expiresIn' | 'refreshToken'>;

async function clientRegistration(oidc: SSOOIDCClient, target: SsoTarget, flow: LoginFlow, store?: SecretStore): Promise<ClientRegistration> {
  const name = `sso-client/${flow}/${target.ssoRegion}/${target.startUrl}/${target.scopes.join(',')}`;
  const reusable = await store?.get(name).catch(() => undefined);
  if (reusable) {
    try {
      const parsed = JSON.parse(reusable) as ClientRegistration;
      if (parsed.clientId && parsed.clientSecret && parsed.expiresAt * 1000 - Date.now() > 3600_000) return parsed;
    } catch {
      // A damaged item is replaced below.
    }
  }
  const out = await attempt(target, 'RegisterClient', () => oidc.send(new RegisterClientCommand({
    clientName: `kenv-${target.sessionName ?? 'legacy'}`,
    clientType: 'public',
    ...(target.scopes.length ? { scopes: target.scopes } : {}),
    ...(flow === 'authorization-code'
      ? { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [REGISTERED_REDIRECT], issuerUrl: target.startUrl }
      : { grantTypes: [DEVICE_GRANT, 'refresh_token'] }),
  })));
  const registration = { clientId: out.clientId ?? '', clientSecret: out.clientSecret ?? '', expiresAt: out.clientSecretExpiresAt ?? 0 };
  // A keychain that cannot store the registration costs one more RegisterClient next time, never the sign-in.
  await store?.set(name, JSON.stringify(registration)).catch(() => undefined);
  return registration;
}

async function authorizationCodeFlow(oidc: SSOOIDCClient, target: SsoTarget, client: ClientRegistration, opts: LoginOptions): Promise<IssuedToken> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomUUID();
  const listener = await oneShotCallback(opts.callbackTimeoutMs ?? 10 * 60_000, opts.signal);
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}${CALLBACK_PATH}`;
    const authorize = new URL(`${await oidcEndpoint(oidc)}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code', client_id: client.clientId, redirect_uri: redirectUri, state,
      code_challenge_method: 'S256', scopes: target.scopes.join(' '), code_challenge: challenge,
    }).toString();
    opts.onAuthorizeUrl?.(authorize.toString());
    await (opts.openBrowser ?? defaultOpenBrowser)(authorize.toString()).catch(() => undefined);
    const params = await listener.result;
    if (params.get('state') !== state) {
      throw new KenvError('SSO_LOGIN_FAILED', `The sign-in redirect for profile ${target.profile} carried the wrong state, so Kenv ignored it. Run kenv login --profile ${target.profile} again.`);
    }
    const error = params.get('error');
    if (error) {
      throw new KenvError('SSO_LOGIN_FAILED', `IAM Identity Center refused the sign-in for profile ${target.profile} (${error}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}). Run kenv login --profile ${target.profile} again and approve the request in the browser.`);
    }
    const code = params.get('code');
    if (!code) throw new KenvError('SSO_LOGIN_FAILED', `The sign-in redirect for profile ${target.profile} had no authorization code. Run kenv login again.`);
    return await attempt(target, 'CreateToken', () => oidc.send(new CreateTokenCommand({
      clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'authorization_code', code, redirectUri, codeVerifier: verifier,
    })));
  } finally {
    await listener.close();
  }
}

async function deviceFlow(oidc: SSOOIDCClient, target: SsoTarget, client: ClientRegistration, opts: LoginOptions): Promise<IssuedToken> {
  const auth = await attempt(target, 'StartDeviceAuthorization', () => oidc.send(new StartDeviceAuthorizationCommand({
    clientId: client.clientId, clientSecret: client.clientSecret, startUrl: target.startUrl,
  })));
  const deadline = Date.now() + (auth.expiresIn ?? 600) * 1000;
  opts.onDeviceCode?.({
    userCode: auth.userCode ?? '', verificationUri: auth.verificationUri ?? '',
    ...(auth.verificationUriComplete ? { verificationUriComplete: auth.verificationUriComplete } : {}),
    expiresAt: new Date(deadline),
  });
  const sleep = opts.sleep ?? abortableSleep;
  let interval = Math.max(auth.interval ?? 5, 1) * 1000;
  const expired = () => new KenvError('SSO_LOGIN_FAILED', `The device code for profile ${target.profile} expired before the sign-in was approved. Run kenv login --profile ${target.profile} --device-code again.`);
  while (true) {
    await sleep(interval, opts.signal);
    if (opts.signal?.aborted) throw new KenvError('CANCELLED', 'The sign-in was cancelled.');
    if (Date.now() > deadline) throw expired();
    try {
      return await oidc.send(new CreateTokenCommand({
        clientId: client.clientId, clientSecret: client.clientSecret, grantType: DEVICE_GRANT, deviceCode: auth.deviceCode,
      }), opts.signal ? { abortSignal: opts.signal } : {});
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'AuthorizationPendingException') continue;
      if (name === 'SlowDownException') {
        interval += SLOW_DOWN_STEP_MS;
        continue;
      }
      if (name === 'ExpiredTokenException') throw expired();
      if (name === 'AccessDeniedException') {
        throw new KenvError('SSO_LOGIN_FAILED', `The sign-in for profile ${target.profile} was denied in the browser. Run kenv login --profile ${target.profile} again and approve it.`);
      }
      throw loginError(e, target, 'CreateToken');
    }
  }
}

function tokenFor(target: SsoTarget, client: ClientRegistration, issued: IssuedToken): SsoToken {
  const expiresAt = rfc3339(new Date(Date.now() + (issued.expiresIn ?? 0) * 1000));
  const base: SsoToken = { startUrl: target.startUrl, region: target.ssoRegion, accessToken: issued.accessToken ?? '', expiresAt };
  // Legacy profiles are never refreshed by the SDK or the AWS CLI, so their cache holds only the access token.
  if (target.legacy) return base;
  return {
    ...base,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    registrationExpiresAt: rfc3339(new Date(client.expiresAt * 1000)),
    ...(issued.refreshToken ? { refreshToken: issued.refreshToken } : {}),
  };
}

/** Runs an OIDC call, turning failures into KenvErrors about signing in. */
async function attempt<O>(target: SsoTarget, operation: string, call: () => Promise<O>): Promise<O> {
  try {
    return await call();
  } catch (e) {
    throw loginError(e, target, operation);
  }
}

function loginError(e: unknown, target: SsoTarget, operation: string): KenvError {
  const mapped = kmsError(e, { operation, profile: target.profile, region: target.ssoRegion });
  if (mapped.code !== 'KMS_ERROR' && mapped.code !== 'KMS_ACCESS_DENIED' && mapped.code !== 'SSO_EXPIRED') return mapped;
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new KenvError('SSO_LOGIN_FAILED', `Signing in to ${target.startUrl} for profile ${target.profile} failed at ${operation} (${detail}). Check sso_start_url and sso_region in ~/.aws/config, then run kenv login again.`, { cause: e });
}

/** The SSO-OIDC base URL exactly as the SDK resolves it (Region, AWS_ENDPOINT_URL_SSO_OIDC, config services). */
export async function oidcEndpoint(oidc: SSOOIDCClient): Promise<string> {
  class Resolved {
    constructor(readonly url: string) {}
  }
  // Resolve without sending: stop the request in the build step, after endpoint resolution and before any I/O.
  const probe = new RegisterClientCommand({ clientName: 'kenv-endpoint-probe', clientType: 'public' });
  probe.middlewareStack.add(
    () => async (args) => {
      const r = args.request as { protocol: string; hostname: string; port?: number; path: string };
      throw new Resolved(`${r.protocol}//${r.hostname}${r.port ? `:${r.port}` : ''}${r.path.replace(/\/client\/register$/, '')}`);
    },
    { step: 'build', priority: 'low', name: 'kenvResolveEndpoint' },
  );
  try {
    await oidc.send(probe);
  } catch (e) {
    if (e instanceof Resolved) return e.url;
    throw e;
  }
  throw new KenvError('INTERNAL', 'Resolving the SSO-OIDC endpoint sent a request. Please report it.');
}

/** Listens once on 127.0.0.1:<random> for the browser's redirect to /oauth/callback. */
async function oneShotCallback(timeoutMs: number, signal?: AbortSignal): Promise<{ port: number; result: Promise<URLSearchParams>; close(): Promise<void> }> {
  let settle!: { resolve(p: URLSearchParams): void; reject(e: unknown): void };
  const result = new Promise<URLSearchParams>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const failed = url.searchParams.has('error');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(
      `<!doctype html><meta charset="utf-8"><title>Kenv</title><h1>${failed ? 'Sign-in did not complete' : 'Kenv is signed in'}</h1>` +
        `<p>${failed ? 'Return to Kenv for details.' : 'You can close this tab and return to Kenv.'}</p>`,
    );
    settle.resolve(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const timer = setTimeout(
    () => settle.reject(new KenvError('SSO_LOGIN_FAILED', 'The browser sign-in was not completed in time. Run kenv login again, or use --device-code.')),
    timeoutMs,
  );
  const onAbort = () => settle.reject(new KenvError('CANCELLED', 'The sign-in was cancelled.'));
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    port: (server.address() as AddressInfo).port,
    result,
    close: () => new Promise<void>((resolve) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** An SSO or SSO OIDC client whose network failures name the endpoint (aws/network-errors.ts). */
function ssoClient<C extends SSOClient | SSOOIDCClient>(client: C): C {
  recordEndpointOnErrors(client);
  return client;
}
