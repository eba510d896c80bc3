import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getSSOTokenFilepath } from '@smithy/shared-ini-file-loader';

/** A cached SSO access token in the AWS CLI's format (~/.aws/sso/cache/<sha1>.json), shared with `aws` both ways. */
export interface SsoToken {
  startUrl: string;
  region: string;
  accessToken: string;
  /** RFC 3339 UTC, e.g. 2026-11-23T10:00:00Z. */
  expiresAt: string;
  refreshToken?: string;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: string;
}

/**
 * The cache file of a session: sha1 of the sso-session name, or of the start URL for a legacy profile.
 *
 * Uses the SDK's own path function so Kenv, the SDK and the AWS CLI agree on HOME.
 */
export function tokenCachePath(cacheKey: string): string {
  return getSSOTokenFilepath(cacheKey);
}

/** The SHA-1 hex digest the AWS CLI names cache files by. */
export function cacheFileName(cacheKey: string): string {
  return `${createHash('sha1').update(cacheKey).digest('hex')}.json`;
}

/** The cached token, or undefined when there is none or it is unreadable. */
export async function readToken(cacheKey: string): Promise<SsoToken | undefined> {
  try {
    const parsed = JSON.parse(await readFile(tokenCachePath(cacheKey), 'utf8')) as Partial<SsoToken>;
    return typeof parsed.accessToken === 'string' && typeof parsed.expiresAt === 'string' ? (parsed as SsoToken) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the token atomically with mode 0600 (its folder 0700), as the AWS CLI does. */
export async function writeToken(cacheKey: string, token: SsoToken): Promise<string> {
  const path = tokenCachePath(cacheKey);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(token, null, 2), { mode: 0o600 });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return path;
}

/** Removes the cached token; true when there was one. */
export async function deleteToken(cacheKey: string): Promise<boolean> {
  try {
    await rm(tokenCachePath(cacheKey));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** An RFC 3339 UTC time without milliseconds, the form the AWS CLI writes. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
