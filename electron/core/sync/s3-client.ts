/**
 * The S3 client a vault syncs through, configured the way the AWS CLI configures its own.
 *
 * Endpoint: `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, then the profile's `services` section (`s3 =` /
 * `endpoint_url =`), then the profile's `endpoint_url`; none of them when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`
 * or the profile's `ignore_configured_endpoint_urls = true`. The SDK resolves the same order by itself, but Kenv
 * needs the answer to decide the addressing style, so it resolves it here and hands it to the SDK explicitly.
 *
 * Addressing: path-style when the profile says `s3 =` / `addressing_style = path` (the AWS CLI's setting), and
 * always when the endpoint's host is an IP address or `localhost`, where `bucket.host` cannot resolve.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { AWS_CLIENT_TIMEOUTS, awsSdkLogger, recordEndpointOnErrors } from '../aws/network-errors.js';
import { KenvError } from '../errors.js';

/** Where a vault lives in S3: `s3://bucket/prefix` with the prefix normalised to '' or 'some/folder/'. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** Parses `s3://bucket/prefix` (the prefix may be empty). */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url.trim());
  if (!m?.[1]) {
    throw new KenvError('INVALID_ARGUMENT', `"${url}" is not an S3 location. Write it as s3://bucket/prefix.`);
  }
  const bucket = m[1];
  let prefix = (m[2] ?? '').replace(/^\/+/, '');
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket, prefix };
}

/** The settings of one profile in the shared config file; nested `s3 =` settings are keyed `s3.addressing_style`. */
export type ProfileSettings = Record<string, string>;

export interface AwsConfigSections {
  profiles: Record<string, ProfileSettings>;
  services: Record<string, ProfileSettings>;
}

/** Parses the shared AWS config file format (INI with indented sub-settings). */
export function parseAwsConfig(text: string): AwsConfigSections {
  const out: AwsConfigSections = { profiles: {}, services: {} };
  let section: ProfileSettings | undefined;
  let parent: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;].*)?$/.test(raw)) continue;
    const header = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(raw);
    if (header?.[1]) {
      const name = header[1];
      parent = undefined;
      const [kind, ...rest] = name.split(/\s+/);
      if (name === 'default' || kind === 'profile') {
        const profile = kind === 'profile' ? rest.join(' ') : 'default';
        section = out.profiles[profile] ??= {};
      } else if (kind === 'services') {
        section = out.services[rest.join(' ')] ??= {};
      } else {
        section = undefined;
      }
      continue;
    }
    const kv = /^(\s*)([^=\s]+)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!kv || !section) continue;
    const [, indent = '', key = '', value = ''] = kv;
    if (indent.length > 0 && parent) {
      section[`${parent}.${key.toLowerCase()}`] = value;
    } else if (value === '') {
      parent = key.toLowerCase();
    } else {
      parent = undefined;
      section[key.toLowerCase()] = value;
    }
  }
  return out;
}

/** The profile's settings, with its `services` section's S3 settings folded in as `services.s3.*`. */
export async function readProfileSettings(profile: string | undefined, env: NodeJS.ProcessEnv): Promise<ProfileSettings> {
  const file = env.AWS_CONFIG_FILE ?? join(env.HOME ?? homedir(), '.aws', 'config');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  const config = parseAwsConfig(text);
  const name = profile ?? env.AWS_PROFILE ?? 'default';
  const settings = { ...(config.profiles[name] ?? {}) };
  const services = settings.services ? config.services[settings.services] : undefined;
  if (services?.['s3.endpoint_url']) settings['services.s3.endpoint_url'] = services['s3.endpoint_url'];
  return settings;
}

export interface S3Addressing {
  /** Undefined: the SDK's default AWS endpoint. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
}

/** Is `host` an IP address or localhost, where virtual-hosted style addressing cannot work? */
export function isIpOrLocalhost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return isIP(bare) !== 0 || bare === 'localhost' || bare.endsWith('.localhost');
}

/** Decides the endpoint and addressing style from the environment and the profile, like the AWS CLI. */
export function resolveS3Addressing(env: NodeJS.ProcessEnv, settings: ProfileSettings): S3Addressing {
  const ignore =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true' ||
    settings.ignore_configured_endpoint_urls?.toLowerCase() === 'true';
  const endpoint = ignore
    ? undefined
    : env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || settings['services.s3.endpoint_url'] || settings.endpoint_url || undefined;
  let forcePathStyle = settings['s3.addressing_style']?.toLowerCase() === 'path';
  if (endpoint) {
    let host: string;
    try {
      host = new URL(endpoint).hostname;
    } catch {
      throw new KenvError('INVALID_ARGUMENT', `The S3 endpoint "${endpoint}" is not a URL. Fix AWS_ENDPOINT_URL_S3 or the profile's endpoint_url.`);
    }
    if (isIpOrLocalhost(host)) forcePathStyle = true;
  }
  return { endpoint, forcePathStyle };
}

export interface S3ClientOptions {
  profile?: string;
  region?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Connection and inactivity timeouts in ms (default AWS_CLIENT_TIMEOUTS: 10 s to connect, 60 s of silence). */
  timeouts?: { connectionTimeout?: number; socketTimeout?: number };
}

/** Builds the S3 client for a vault from a profile and Region, with the endpoint and addressing decided above. */
export async function createS3Client(opts: S3ClientOptions = {}): Promise<S3Client> {
  const env = opts.env ?? process.env;
  const settings = await readProfileSettings(opts.profile, env);
  const { endpoint, forcePathStyle } = resolveS3Addressing(env, settings);
  const client = new S3Client({
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle,
    requestHandler: { ...AWS_CLIENT_TIMEOUTS, ...opts.timeouts },
    logger: awsSdkLogger(),
  });
  recordEndpointOnErrors(client, opts.profile);
  return client;
}
