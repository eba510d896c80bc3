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
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';
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
  /**
   * Connection and inactivity timeouts in ms (default AWS_CLIENT_TIMEOUTS: 10 s to connect, 60 s of silence), and
   * the silence a CompleteMultipartUpload may keep while the server assembles the object (ASSEMBLY_TIMEOUT_MS).
   */
  timeouts?: { connectionTimeout?: number; socketTimeout?: number; assemblyTimeout?: number };
}

/**
 * How long a CompleteMultipartUpload may stay silent: 15 minutes.
 *
 * S3 may take minutes to assemble a large object. It answers 200 at once and sends whitespace meanwhile, so the
 * connection is never idle, but an S3-compatible server may send nothing until it is done (moto took more than
 * 60 s for 500 MiB on a busy machine), and the usual 60 s of inactivity would then abandon an upload that was
 * about to succeed. Only this request waits longer; every other request keeps the usual timeout.
 */
export const ASSEMBLY_TIMEOUT_MS = 15 * 60_000;

/** POST /key?uploadId=…: the only POST on an object that carries an upload id. */
function isCompleteMultipartUpload(request: { method: string; query?: Record<string, unknown> }): boolean {
  return request.method === 'POST' && request.query?.uploadId !== undefined;
}

/** The SDK's HTTP handler, except that CompleteMultipartUpload goes through one with the longer inactivity timeout. */
class AssemblyAwareHandler extends NodeHttpHandler {
  private readonly assembling: NodeHttpHandler;

  constructor(options: NodeHttpHandlerOptions, assemblyTimeout: number) {
    super(options);
    this.assembling = new NodeHttpHandler({ ...options, socketTimeout: assemblyTimeout });
  }

  override handle(request: Parameters<NodeHttpHandler['handle']>[0], options?: HttpHandlerOptions): ReturnType<NodeHttpHandler['handle']> {
    return isCompleteMultipartUpload(request) ? this.assembling.handle(request, options) : super.handle(request, options);
  }

  override destroy(): void {
    super.destroy();
    this.assembling.destroy();
  }
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
    // Downloads are checked by Kenv itself, against the SHA-256 stored with the object (and decrypting authenticates
    // every byte), so the SDK's own check of a checksum the server sends back is not asked for: it hashes each body a
    // second time, and it misreads a multipart object's checksum from servers that send it without its "-<parts>"
    // suffix (moto), then fails the read at its end and drops the last bytes before the caller sees them.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new AssemblyAwareHandler(
      { connectionTimeout: opts.timeouts?.connectionTimeout ?? AWS_CLIENT_TIMEOUTS.connectionTimeout, socketTimeout: opts.timeouts?.socketTimeout ?? AWS_CLIENT_TIMEOUTS.socketTimeout },
      opts.timeouts?.assemblyTimeout ?? ASSEMBLY_TIMEOUT_MS,
    ),
    logger: awsSdkLogger(),
  });
  recordEndpointOnErrors(client, opts.profile);
  return client;
}
