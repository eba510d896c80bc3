import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { IdentityDirectory } from './aws-identities.js';
import { listen, type LocalServer, sendJson } from './http.js';

/** An account and the permission sets a user may take in it. */
export interface SsoAssignment {
  accountId: string;
  accountName: string;
  roles: string[];
}

export interface LocalSsoOptions {
  /** Who signs in (the role session name of issued credentials). */
  userName?: string;
  assignments?: SsoAssignment[];
  accessTokenTtlSeconds?: number;
  deviceIntervalSeconds?: number;
  /** How many device-code polls answer SlowDownException before pending/success. */
  slowDownPolls?: number;
  /** Answer device-code polls with ExpiredTokenException. */
  expireDeviceCodes?: boolean;
  /** The person declines in the browser: /authorize redirects with error=access_denied. */
  denyAuthorize?: boolean;
}

interface Client { secret: string; grantTypes: string[]; redirectUris: string[]; scopes: string[] }
interface Token { clientId: string; expiresAt: number; revoked: boolean; scopes: string[] }

/**
 * A local IAM Identity Center: SSO-OIDC (RegisterClient, StartDeviceAuthorization, CreateToken for the
 * authorization_code, device_code and refresh_token grants, a browser-facing /authorize and /device) and the SSO
 * portal (GetRoleCredentials, ListAccounts, ListAccountRoles, Logout), one base URL for AWS_ENDPOINT_URL_SSO_OIDC and
 * AWS_ENDPOINT_URL_SSO.
 */
export interface LocalSso extends LocalServer {
  /** Every OIDC/portal operation, in order (e.g. "CreateToken:refresh_token"). */
  calls: string[];
  registeredClients(): number;
  /** The browser step of the device flow: the person enters the code and approves. */
  approveDevice(userCode: string): void;
  /** Revokes every access and refresh token (an administrator ends the session). */
  revokeAll(): void;
  options: LocalSsoOptions;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export async function startLocalSso(directory: IdentityDirectory, options: LocalSsoOptions = {}): Promise<LocalSso> {
  const calls: string[] = [];
  const clients = new Map<string, Client>();
  const devices = new Map<string, { clientId: string; userCode: string; approved: boolean; polls: number; scopes: string[] }>();
  const codes = new Map<string, { clientId: string; redirectUri: string; challenge: string; scopes: string[] }>();
  const tokens = new Map<string, Token>();
  const refreshTokens = new Map<string, { clientId: string; scopes: string[]; revoked: boolean }>();
  const user = () => options.userName ?? 'alice@example.com';
  const assignments = () => options.assignments ?? [{ accountId: '111122223333', accountName: 'dev', roles: ['Developer'] }];

  function issue(res: ServerResponse, clientId: string, scopes: string[]): void {
    const accessToken = `aoa${randomBytes(24).toString('base64url')}`;
    const ttl = options.accessTokenTtlSeconds ?? 3600;
    tokens.set(accessToken, { clientId, expiresAt: Date.now() + ttl * 1000, revoked: false, scopes });
    const body: Record<string, unknown> = { accessToken, tokenType: 'Bearer', expiresIn: ttl };
    // As in IAM Identity Center: only clients registered with scopes (sso-session profiles) get refresh tokens.
    if (scopes.length > 0) {
      const refreshToken = `aor${randomBytes(24).toString('base64url')}`;
      refreshTokens.set(refreshToken, { clientId, scopes, revoked: false });
      body.refreshToken = refreshToken;
    }
    sendJson(res, 200, body);
  }

  function bearer(token: string | undefined): Token | undefined {
    const t = token ? tokens.get(token) : undefined;
    return t && !t.revoked && t.expiresAt > Date.now() ? t : undefined;
  }

  const server = await listen((req, raw, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const body = raw.length && (req.headers['content-type'] ?? '').includes('json') ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);

    if (req.method === 'POST' && url.pathname === '/client/register') {
      calls.push('RegisterClient');
      const clientId = `client-${randomUUID()}`;
      const secret = randomBytes(32).toString('base64url');
      clients.set(clientId, {
        secret,
        grantTypes: (body.grantTypes as string[] | undefined) ?? [],
        redirectUris: (body.redirectUris as string[] | undefined) ?? [],
        scopes: (body.scopes as string[] | undefined) ?? [],
      });
      const now = Math.floor(Date.now() / 1000);
      return sendJson(res, 200, { clientId, clientSecret: secret, clientIdIssuedAt: now, clientSecretExpiresAt: now + 90 * 86400 });
    }

    if (req.method === 'POST' && url.pathname === '/device_authorization') {
      calls.push('StartDeviceAuthorization');
      const client = authClient(res, str('clientId'), str('clientSecret'));
      if (!client) return;
      const deviceCode = randomBytes(24).toString('base64url');
      const userCode = `${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}`.toUpperCase();
      devices.set(deviceCode, { clientId: str('clientId')!, userCode, approved: false, polls: 0, scopes: client.scopes });
      return sendJson(res, 200, {
        deviceCode, userCode, expiresIn: 600, interval: options.deviceIntervalSeconds ?? 1,
        verificationUri: `${server.url}/device`, verificationUriComplete: `${server.url}/device?user_code=${userCode}`,
      });
    }

    if (req.method === 'GET' && url.pathname === '/device') {
      const userCode = url.searchParams.get('user_code');
      const entry = [...devices.values()].find((d) => d.userCode === userCode);
      if (!entry) return sendHtml(res, 404, 'Unknown code.');
      entry.approved = true;
      return sendHtml(res, 200, 'Request approved.');
    }

    if (req.method === 'GET' && url.pathname === '/authorize') {
      const q = url.searchParams;
      const client = clients.get(q.get('client_id') ?? '');
      const redirectUri = q.get('redirect_uri') ?? '';
      if (!client || q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        return sendHtml(res, 400, 'Bad authorization request.');
      }
      if (!client.redirectUris.some((r) => sameLoopbackRedirect(r, redirectUri))) return sendHtml(res, 400, 'Redirect URI not registered.');
      const target = new URL(redirectUri);
      if (options.denyAuthorize) {
        target.searchParams.set('error', 'access_denied');
        target.searchParams.set('error_description', 'The user denied the request.');
      } else {
        const code = randomBytes(24).toString('base64url');
        codes.set(code, { clientId: q.get('client_id')!, redirectUri, challenge: q.get('code_challenge')!, scopes: (q.get('scopes') ?? '').split(' ').filter(Boolean) });
        target.searchParams.set('code', code);
      }
      target.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: target.toString() });
      return void res.end();
    }

    if (req.method === 'POST' && url.pathname === '/token') {
      const grantType = str('grantType') ?? '';
      calls.push(`CreateToken:${grantType === DEVICE_GRANT ? 'device_code' : grantType}`);
      const client = authClient(res, str('clientId'), str('clientSecret'));
      if (!client) return;
      if (grantType === DEVICE_GRANT) {
        const device = devices.get(str('deviceCode') ?? '');
        if (!device || device.clientId !== str('clientId')) return oidcError(res, 'InvalidGrantException', 'invalid_grant', 'Unknown device code.');
        if (options.expireDeviceCodes) return oidcError(res, 'ExpiredTokenException', 'expired_token', 'The device code has expired.');
        device.polls += 1;
        if (device.polls <= (options.slowDownPolls ?? 0)) return oidcError(res, 'SlowDownException', 'slow_down', 'Polling too fast.');
        if (!device.approved) return oidcError(res, 'AuthorizationPendingException', 'authorization_pending', 'Pending.');
        devices.delete(str('deviceCode')!);
        return issue(res, device.clientId, device.scopes);
      }
      if (grantType === 'authorization_code') {
        const entry = codes.get(str('code') ?? '');
        if (!entry || entry.clientId !== str('clientId') || entry.redirectUri !== str('redirectUri')) {
          return oidcError(res, 'InvalidGrantException', 'invalid_grant', 'Invalid authorization code.');
        }
        codes.delete(str('code')!);
        const challenge = createHash('sha256').update(str('codeVerifier') ?? '').digest('base64url');
        if (challenge !== entry.challenge) return oidcError(res, 'InvalidGrantException', 'invalid_grant', 'PKCE verification failed.');
        return issue(res, entry.clientId, client.scopes.length ? client.scopes : entry.scopes);
      }
      if (grantType === 'refresh_token') {
        const entry = refreshTokens.get(str('refreshToken') ?? '');
        if (!entry || entry.revoked || entry.clientId !== str('clientId')) {
          return oidcError(res, 'InvalidGrantException', 'invalid_grant', 'The refresh token is invalid or revoked.');
        }
        refreshTokens.delete(str('refreshToken')!);
        return issue(res, entry.clientId, entry.scopes);
      }
      return oidcError(res, 'UnsupportedGrantTypeException', 'unsupported_grant_type', grantType);
    }

    const token = bearer(req.headers['x-amz-sso_bearer_token'] as string | undefined);
    if (url.pathname === '/federation/credentials' || url.pathname.startsWith('/assignment/') || url.pathname === '/logout') {
      const op = { '/federation/credentials': 'GetRoleCredentials', '/assignment/accounts': 'ListAccounts', '/assignment/roles': 'ListAccountRoles', '/logout': 'Logout' }[url.pathname] ?? url.pathname;
      calls.push(op);
      if (!token) return sendJson(res, 401, { message: 'Session token not found or invalid' }, { 'x-amzn-errortype': 'UnauthorizedException' });
      if (op === 'Logout') {
        token.revoked = true;
        for (const r of refreshTokens.values()) if (r.clientId === token.clientId) r.revoked = true;
        return sendJson(res, 200, {});
      }
      if (op === 'ListAccounts') {
        return sendJson(res, 200, { accountList: assignments().map((a) => ({ accountId: a.accountId, accountName: a.accountName, emailAddress: `${a.accountName}@example.com` })) });
      }
      const accountId = url.searchParams.get('account_id') ?? '';
      const assignment = assignments().find((a) => a.accountId === accountId);
      if (op === 'ListAccountRoles') {
        return sendJson(res, 200, { roleList: (assignment?.roles ?? []).map((roleName) => ({ roleName, accountId })) });
      }
      const roleName = url.searchParams.get('role_name') ?? '';
      if (!assignment?.roles.includes(roleName)) {
        return sendJson(res, 403, { message: 'No access' }, { 'x-amzn-errortype': 'ForbiddenException' });
      }
      const session = directory.issueRoleSession(accountId, `AWSReservedSSO_${roleName}_0123456789abcdef`, user(), 3600 * 1000);
      return sendJson(res, 200, {
        roleCredentials: {
          accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken,
          expiration: session.expiresAt.getTime(),
        },
      });
    }
    return sendJson(res, 404, { message: `No route ${req.method} ${url.pathname}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
  });

  function authClient(res: ServerResponse, clientId: string | undefined, secret: string | undefined): Client | undefined {
    const client = clients.get(clientId ?? '');
    if (!client || client.secret !== secret) {
      oidcError(res, 'InvalidClientException', 'invalid_client', 'Unknown client or bad secret.');
      return undefined;
    }
    return client;
  }

  return {
    ...server,
    calls,
    options,
    registeredClients: () => clients.size,
    approveDevice(userCode) {
      const entry = [...devices.values()].find((d) => d.userCode === userCode);
      if (!entry) throw new Error(`no device authorization with code ${userCode}`);
      entry.approved = true;
    },
    revokeAll() {
      for (const t of tokens.values()) t.revoked = true;
      for (const r of refreshTokens.values()) r.revoked = true;
    },
  };
}

/** RFC 8252 §7.3: a loopback redirect matches whatever port the native app picked. */
function sameLoopbackRedirect(registered: string, actual: string): boolean {
  try {
    const a = new URL(registered);
    const b = new URL(actual);
    return a.protocol === b.protocol && a.hostname === b.hostname && a.pathname === b.pathname && (a.port === b.port || a.hostname === '127.0.0.1');
  } catch {
    return false;
  }
}

function oidcError(res: ServerResponse, type: string, error: string, description: string): void {
  sendJson(res, type === 'InvalidClientException' ? 401 : 400, { error, error_description: description }, { 'x-amzn-errortype': type });
}

function sendHtml(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html' });
  res.end(`<!doctype html><title>Local SSO</title><p>${text}</p>`);
}
