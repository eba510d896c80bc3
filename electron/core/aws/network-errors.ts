import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@smithy/types';
import type { ErrorCode } from '../../../shared/errors.js';
import { KenvError } from '../errors.js';

/**
 * The faults every AWS client of Kenv (KMS, S3, STS, SSO) shares: the network between Kenv and an endpoint, and
 * the profile the credentials should come from. One mapping, so the same fault reads the same whichever service
 * met it, names the endpoint (host:port) and says what to do.
 */

/** The AWS service a call went to, as a person knows it; its endpoint variable is AWS_ENDPOINT_URL_<service>. */
export type AwsService = 'KMS' | 'S3' | 'STS' | 'SSO' | 'SSO OIDC';

export interface ConnectionFaultContext {
  service: AwsService;
  /** What Kenv was doing, e.g. `GenerateDataKey` or `upload notes.kenv`. */
  what: string;
  profile?: string | undefined;
}

/**
 * Timeouts for every AWS client Kenv builds: without them the SDK waits forever on a server that accepted the
 * connection and never answers. `socketTimeout` is inactivity, so a long upload that keeps sending is not cut.
 */
export const AWS_CLIENT_TIMEOUTS = { connectionTimeout: 10_000, socketTimeout: 60_000 } as const;

const ENDPOINT = Symbol.for('kenv.endpoint');
const PROFILE = Symbol.for('kenv.profile');

/**
 * Adds a middleware that writes the endpoint a failed request went to (and the profile the client was built for)
 * onto the error, so the mapping below can name them even when the error does not (TLS failures, timeouts, the
 * SDK's "Could not load credentials from any providers"). Every AWS client Kenv builds gets this.
 */
export function recordEndpointOnErrors(client: { middlewareStack: { add: (...args: never[]) => void } }, profile?: string): void {
  const add = client.middlewareStack.add as (m: unknown, o: unknown) => void;
  const stamp = (e: unknown, key: symbol, value: string) => {
    if (e && typeof e === 'object' && !(key in e)) Object.defineProperty(e, key, { value, enumerable: false });
  };
  // The build step sees the request and wraps sending it; credentials are resolved earlier, so the profile is
  // stamped around the whole call.
  add((next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (e) {
      const request = (args as { request?: { protocol?: string; hostname?: string; port?: number } }).request;
      if (request?.hostname) stamp(e, ENDPOINT, `${request.protocol ?? 'https:'}//${request.hostname}${request.port ? `:${request.port}` : ''}`);
      throw e;
    }
  }, { step: 'build', name: 'kenvRecordEndpoint', priority: 'low' });
  if (profile) {
    add((next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (e) {
        stamp(e, PROFILE, profile);
        throw e;
      }
    }, { step: 'initialize', name: 'kenvRecordProfile', priority: 'low' });
  }
}

/** The codes connectionFault returns: failures of the road to AWS, not of one key or one file. */
export const CONNECTION_FAULT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NETWORK_REFUSED', 'NETWORK_DNS', 'NETWORK_TLS', 'NETWORK_TIMEOUT', 'NETWORK_UNREACHABLE', 'PROFILE_NOT_FOUND',
]);

const REFUSED = new Set(['ECONNREFUSED']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const UNREACHABLE = new Set(['ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'EHOSTDOWN', 'ENETDOWN']);
const TLS = /^(EPROTO|ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|ERR_OSSL_)/;

/**
 * The KenvError for a network fault (NETWORK_REFUSED, NETWORK_DNS, NETWORK_TLS, NETWORK_TIMEOUT,
 * NETWORK_UNREACHABLE) or an unknown profile (PROFILE_NOT_FOUND); undefined when `e` is neither.
 */
export function connectionFault(e: unknown, ctx: ConnectionFaultContext): KenvError | undefined {
  const profile = missingProfile(e, ctx.profile);
  if (profile) {
    return new KenvError(
      'PROFILE_NOT_FOUND',
      `There is no AWS profile named "${profile}" in ~/.aws/config or ~/.aws/credentials, so ${ctx.what} could not run. ` +
        'Check the spelling (kenv profiles lists the profiles Kenv can use), or unset AWS_PROFILE.',
      { cause: e },
    );
  }
  const fault = networkCause(e);
  if (!fault) return undefined;
  const endpoint = endpointOf(e) ?? `the ${ctx.service} endpoint`;
  const variable = `AWS_ENDPOINT_URL_${ctx.service.replace(' ', '_')}`;
  const settings = `${variable}, AWS_ENDPOINT_URL or the profile's endpoint_url`;
  const make = (code: ErrorCode, sentence: string) => new KenvError(code, sentence, { cause: e });
  const head = `${ctx.service} ${ctx.what}`;
  switch (fault.cause) {
    case 'refused':
      return make('NETWORK_REFUSED',
        `Nothing accepted the connection at ${endpoint} (connection refused) for ${head}. ` +
          `Check that the endpoint is right (${settings}) and that the server there is running, then retry.`);
    case 'dns':
      return make('NETWORK_DNS',
        `The host name of ${endpoint} could not be resolved (DNS ${fault.code}) for ${head}. ` +
          `Check the name for typos (${settings}, the Region), your network connection and VPN, then retry.`);
    case 'tls':
      return make('NETWORK_TLS',
        `The secure (TLS) connection to ${endpoint} failed for ${head}: ${fault.detail}. ` +
          'If the server there speaks plain HTTP, write the endpoint with http://; if a proxy or firewall inspects HTTPS, ' +
          'give Node its certificate with NODE_EXTRA_CA_CERTS.');
    case 'timeout':
      return make('NETWORK_TIMEOUT',
        `${endpoint} did not answer in time for ${head}. ` +
          'The server or the network in between is slow or dropping traffic: check your connection, VPN and firewall, then retry.');
    case 'unreachable':
      return make('NETWORK_UNREACHABLE',
        `The connection to ${endpoint} failed for ${head} (${fault.code}). ` +
          'Check your network connection, VPN and firewall, then retry.');
  }
}

type NetworkFault =
  | { cause: 'refused' | 'dns' | 'timeout' | 'unreachable'; code: string }
  | { cause: 'tls'; code: string; detail: string };

/** What went wrong on the way to the endpoint, looking through wrapped causes; undefined for non-network errors. */
export function networkCause(e: unknown, depth = 0): NetworkFault | undefined {
  if (!e || typeof e !== 'object' || depth > 4) return undefined;
  const err = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown; $metadata?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  const name = typeof err.name === 'string' ? err.name : '';
  const message = typeof err.message === 'string' ? err.message : '';
  if (REFUSED.has(code)) return { cause: 'refused', code };
  if (DNS.has(code)) return { cause: 'dns', code };
  if (TLS.test(code) || /SSL routines|wrong version number|certificate/i.test(code ? message : '')) {
    return { cause: 'tls', code, detail: tlsDetail(code, message) };
  }
  if (TIMEOUT.has(code) || name === 'TimeoutError' || name === 'RequestTimeout') return { cause: 'timeout', code: code || name };
  if (UNREACHABLE.has(code)) return { cause: 'unreachable', code };
  if (name === 'NetworkingError' || /socket hang up/i.test(message)) return { cause: 'unreachable', code: code || 'socket hang up' };
  if (Array.isArray(err.errors)) {
    for (const inner of err.errors) {
      const found = networkCause(inner, depth + 1);
      if (found) return found;
    }
  }
  return networkCause(err.cause, depth + 1);
}

function tlsDetail(code: string, message: string): string {
  if (/wrong version number|packet length too long|http request/i.test(message)) return 'the server did not answer in TLS (is it plain HTTP?)';
  if (/self[- ]signed|UNABLE_TO_VERIFY|unable to get local issuer/i.test(`${code} ${message}`)) return 'its certificate is not signed by an authority Node trusts';
  if (/CERT_HAS_EXPIRED|expired/i.test(`${code} ${message}`)) return 'its certificate has expired';
  if (/ALTNAME|does not match|Hostname\/IP/i.test(`${code} ${message}`)) return 'its certificate is for another host name';
  return code || 'TLS handshake failed';
}

/** The endpoint a failed request went to: recorded by the middleware above, else from Node's error. */
export function endpointOf(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 4) return undefined;
  const recorded = (e as Record<symbol, unknown>)[ENDPOINT];
  if (typeof recorded === 'string') return recorded;
  const err = e as { address?: unknown; port?: unknown; hostname?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof err.address === 'string') return typeof err.port === 'number' ? `${err.address}:${err.port}` : err.address;
  if (typeof err.hostname === 'string') return err.hostname;
  // Node's own wording: "connect ECONNREFUSED 127.0.0.1:443", "getaddrinfo ENOTFOUND kms.example.com".
  const named = typeof err.message === 'string' ? /^(?:connect|getaddrinfo) [A-Z_]+ (\S+)/.exec(err.message)?.[1] : undefined;
  if (named) return named;
  if (Array.isArray(err.errors)) {
    for (const inner of err.errors) {
      const found = endpointOf(inner, depth + 1);
      if (found) return found;
    }
  }
  return endpointOf(err.cause, depth + 1);
}

/**
 * The profile that does not exist, when `e` is the SDK failing to find credentials for it: either its own words
 * ("Could not resolve credentials using profile: [p]"), or "Could not load credentials from any providers" (or
 * "Region is missing") for a profile (the caller's, the client's, or AWS_PROFILE) that neither ~/.aws/config nor
 * ~/.aws/credentials defines.
 */
function missingProfile(e: unknown, profile: string | undefined): string | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const message = 'message' in e ? String(e.message) : '';
  const named = /Could not resolve credentials using profile: \[([^\]]+)\]/.exec(message)?.[1] ?? /Profile (\S+) could not be found/i.exec(message)?.[1];
  if (named) return named;
  // Only the chain's generic "nothing found": an SSO or assume-role failure names a profile that exists. A profile
  // that does not exist also has no Region, so "Region is missing" can be the first sign of it.
  if (!/could not load credentials from any providers|region is missing/i.test(message)) return undefined;
  const wanted = profile ?? (e as Record<symbol, unknown>)[PROFILE] ?? process.env.AWS_PROFILE;
  if (typeof wanted !== 'string' || !wanted || wanted === 'default') return undefined;
  return definedProfiles().has(wanted) ? undefined : wanted;
}

/** The profile names the shared config and credentials files define (read only when mapping a credentials failure). */
function definedProfiles(): Set<string> {
  const home = process.env.HOME ?? homedir();
  const names = new Set<string>();
  for (const file of [process.env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'), process.env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials')]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^\s*\[\s*(?:profile\s+)?([^\]]+?)\s*\]\s*$/gm)) if (m[1]) names.add(m[1]);
  }
  return names;
}

let warnedMultipleSources = false;

/**
 * The logger Kenv hands the AWS SDK: debug is dropped, info and error are left out, and each warning becomes one line
 * on `warn`.
 *
 * info and error are absent rather than no-ops: the SDK calls them as `logger?.info?.(…)` with a copy of the whole
 * request and response made for logging (walked by schema, sensitive members hidden), and with no function there it
 * makes no copy. A listing page of 1,000 objects was copied once more just to be dropped (issue 11). Kenv reports
 * errors itself, from what `send` throws.
 *
 * The SDK's nine-line "Multiple credential sources detected" warning (AWS_PROFILE or --profile together with
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) becomes one sentence, printed once per process.
 */
export function awsSdkLogger(warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const logger = {
    debug: () => undefined,
    warn: (...content: unknown[]) => {
      const text = content.map(String).join(' ');
      if (/Multiple credential sources detected/i.test(text)) {
        if (warnedMultipleSources) return;
        warnedMultipleSources = true;
        warn(
          'kenv: warning: both a profile (AWS_PROFILE or --profile) and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set; ' +
            'Kenv uses the profile. Unset one of them to remove the doubt.',
        );
        return;
      }
      warn(`kenv: warning: ${text.replace(/\s+/g, ' ').trim()}`);
    },
  };
  // The type asks for every level; the SDK itself calls info and error only when they are there (see above).
  return logger as Partial<Logger> as Logger;
}
