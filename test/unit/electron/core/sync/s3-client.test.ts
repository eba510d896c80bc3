import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createS3Client,
  isIpOrLocalhost,
  parseAwsConfig,
  parseS3Url,
  resolveS3Addressing,
} from '../../../../../electron/core/sync/s3-client.js';

describe('parseS3Url', () => {
  it('splits bucket and prefix and normalises the prefix to end with a slash', () => {
    expect(parseS3Url('s3://b/team/vault')).toEqual({ bucket: 'b', prefix: 'team/vault/' });
    expect(parseS3Url('s3://b/team/vault/')).toEqual({ bucket: 'b', prefix: 'team/vault/' });
    expect(parseS3Url('s3://b')).toEqual({ bucket: 'b', prefix: '' });
    expect(parseS3Url('s3://b/')).toEqual({ bucket: 'b', prefix: '' });
  });
  it('refuses what is not an s3:// URL', () => {
    expect(() => parseS3Url('https://b/x')).toThrow(/s3:\/\/bucket\/prefix/);
  });
});

describe('parseAwsConfig', () => {
  it('reads profiles, nested s3 settings and services sections', () => {
    const config = parseAwsConfig(
      [
        '[default]',
        'region = eu-west-1',
        '[profile minio]',
        'endpoint_url = http://minio.internal:9000',
        's3 =',
        '  addressing_style = path',
        '  max_concurrent_requests = 20',
        'region = us-east-1',
        '# a comment',
        '[profile svc]',
        'services = local',
        '[services local]',
        's3 =',
        '  endpoint_url = http://127.0.0.1:9000',
      ].join('\n'),
    );
    expect(config.profiles.default).toEqual({ region: 'eu-west-1' });
    expect(config.profiles.minio).toEqual({
      endpoint_url: 'http://minio.internal:9000',
      's3.addressing_style': 'path',
      's3.max_concurrent_requests': '20',
      region: 'us-east-1',
    });
    expect(config.services.local).toEqual({ 's3.endpoint_url': 'http://127.0.0.1:9000' });
  });
});

describe('resolveS3Addressing', () => {
  it('uses the default AWS endpoint with virtual-hosted style when nothing is configured', () => {
    expect(resolveS3Addressing({}, {})).toEqual({ endpoint: undefined, forcePathStyle: false });
  });
  it('prefers AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL over the services section over endpoint_url', () => {
    const settings = { endpoint_url: 'https://p.example', 'services.s3.endpoint_url': 'https://svc.example' };
    const env = { AWS_ENDPOINT_URL_S3: 'https://s3.example', AWS_ENDPOINT_URL: 'https://all.example' };
    expect(resolveS3Addressing(env, settings).endpoint).toBe('https://s3.example');
    expect(resolveS3Addressing({ AWS_ENDPOINT_URL: 'https://all.example' }, settings).endpoint).toBe('https://all.example');
    expect(resolveS3Addressing({}, settings).endpoint).toBe('https://svc.example');
    expect(resolveS3Addressing({}, { endpoint_url: 'https://p.example' }).endpoint).toBe('https://p.example');
  });
  it('ignores configured endpoints when told to', () => {
    expect(resolveS3Addressing({ AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL_S3: 'http://x' }, {}).endpoint).toBeUndefined();
    expect(resolveS3Addressing({}, { endpoint_url: 'http://x', ignore_configured_endpoint_urls: 'true' }).endpoint).toBeUndefined();
  });
  it('keeps virtual-hosted style for a named host unless the profile asks for path style', () => {
    expect(resolveS3Addressing({ AWS_ENDPOINT_URL_S3: 'https://minio.example:9000' }, {}).forcePathStyle).toBe(false);
    expect(
      resolveS3Addressing({ AWS_ENDPOINT_URL_S3: 'https://minio.example:9000' }, { 's3.addressing_style': 'path' }).forcePathStyle,
    ).toBe(true);
    expect(resolveS3Addressing({}, { 's3.addressing_style': 'virtual' }).forcePathStyle).toBe(false);
  });
  it('forces path style for an IPv4, IPv6 or localhost endpoint', () => {
    for (const endpoint of ['http://127.0.0.1:9000', 'http://10.1.2.3', 'http://[::1]:9000', 'http://localhost:4566']) {
      expect(resolveS3Addressing({ AWS_ENDPOINT_URL_S3: endpoint }, {}).forcePathStyle, endpoint).toBe(true);
    }
  });
  it('says which setting to fix when the endpoint is not a URL', () => {
    expect(() => resolveS3Addressing({ AWS_ENDPOINT_URL_S3: 'not a url' }, {})).toThrow(/AWS_ENDPOINT_URL_S3/);
  });
  it('recognises IP and localhost hosts', () => {
    expect(isIpOrLocalhost('192.168.0.1')).toBe(true);
    expect(isIpOrLocalhost('[::1]')).toBe(true);
    expect(isIpOrLocalhost('localhost')).toBe(true);
    expect(isIpOrLocalhost('s3.localhost')).toBe(true);
    expect(isIpOrLocalhost('s3.amazonaws.com')).toBe(false);
  });
});

describe('createS3Client on the wire', () => {
  const seen: { host: string | undefined; url: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>';
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(body);
  });
  let port = 0;
  let home = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
    home = await mkdtemp(join(tmpdir(), 'kenv-home-'));
  });
  afterAll(async () => {
    server.close();
    await rm(home, { recursive: true, force: true });
  });
  afterEach(() => {
    seen.length = 0;
    vi.unstubAllEnvs();
  });
  const creds = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };

  it('sends to AWS_ENDPOINT_URL_S3 with the bucket in the path', async () => {
    for (const [k, v] of Object.entries({ ...creds, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, HOME: home })) vi.stubEnv(k, v);
    const s3 = await createS3Client();
    await s3.send(new ListObjectsV2Command({ Bucket: 'b', Prefix: 'p/' }));
    s3.destroy();
    expect(seen[0]?.host).toBe(`127.0.0.1:${port}`);
    expect(seen[0]?.url).toMatch(/^\/b\/?\?list-type=2/);
  });

  it("sends to the profile's endpoint_url and uses path style for a localhost endpoint", async () => {
    await writeFile(join(home, 'config'), `[profile local]\nendpoint_url = http://localhost:${port}\nregion = us-east-1\naws_access_key_id = AKID\naws_secret_access_key = secret\n`);
    for (const [k, v] of Object.entries({ AWS_CONFIG_FILE: join(home, 'config'), HOME: home })) vi.stubEnv(k, v);
    for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) vi.stubEnv(k, undefined);
    const s3 = await createS3Client({ profile: 'local' });
    await s3.send(new ListObjectsV2Command({ Bucket: 'b' }));
    s3.destroy();
    expect(seen[0]?.host).toBe(`localhost:${port}`);
    expect(seen[0]?.url).toMatch(/^\/b\/?\?list-type=2/);
  });
});
