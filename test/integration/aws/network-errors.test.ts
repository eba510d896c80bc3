import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { whoami } from '../../../electron/core/aws/whoami.js';
import { KmsKeyring } from '../../../electron/core/keyring/kms-keyring.js';
import { createKmsClient } from '../../../electron/core/kms/client.js';
import { toSyncError } from '../../../electron/core/sync/remote.js';
import { createS3Client } from '../../../electron/core/sync/s3-client.js';
import { type TempAws, useTempAws } from '../../support/aws-env.js';
import { listen, type LocalServer, refusingEndpoint } from '../../support/http.js';

// Each network fault produced for real against 127.0.0.1 (or a .invalid name, which fails without any network),
// met by the KMS, S3 and STS clients Kenv builds, and mapped by the one shared mapping (aws/network-errors.ts).
let plainHttp: LocalServer;
let silent: Server;
const sockets = new Set<Socket>();
let silentUrl: string;
let refusing: LocalServer;
let refusedUrl: string;
let aws: TempAws;

beforeAll(async () => {
  plainHttp = await listen((_req, _body, res) => void res.end('plain http'));
  // Accepts connections and never answers.
  silent = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  // A port held by this file (no other test can take it) on an address where nothing listens.
  refusing = await refusingEndpoint();
  refusedUrl = refusing.url;
});
afterAll(async () => {
  await refusing.close();
  await plainHttp.close();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});
beforeEach(() => {
  aws = useTempAws();
  aws.setEnv('AWS_ACCESS_KEY_ID', 'AKIANETWORKTEST00001');
  aws.setEnv('AWS_SECRET_ACCESS_KEY', 'network-test');
  aws.setEnv('AWS_REGION', 'us-east-1');
  aws.setEnv('AWS_MAX_ATTEMPTS', '1');
});
afterEach(() => aws.restore());

const short = { connectionTimeout: 2000, socketTimeout: 300 };

/** Each cause: its name, the endpoint that produces it (read once the servers run), the code, the sentence. */
const CASES = [
  ['refused', () => refusedUrl, 'NETWORK_REFUSED', /Nothing accepted the connection at (http:\/\/)?127\.0\.0\.2:\d+ \(connection refused\)/],
  ['DNS', () => 'http://kms.kenv-test.invalid', 'NETWORK_DNS', /The host name of (http:\/\/)?(vault\.)?kms\.kenv-test\.invalid(:\d+)? could not be resolved/],
  ['TLS to a plain HTTP port', () => plainHttp.url.replace('http://', 'https://'), 'NETWORK_TLS', /TLS\) connection to https:\/\/127\.0\.0\.1:\d+ failed .*plain HTTP/],
  ['timeout', () => silentUrl, 'NETWORK_TIMEOUT', /http:\/\/127\.0\.0\.1:\d+ did not answer in time/],
] as const;

async function kmsFailure(endpoint: string) {
  const client = createKmsClient({ region: 'us-east-1', endpoint, requestHandler: short });
  try {
    await new KmsKeyring({ keyIds: ['alias/x'], clients: () => client }).wrapDataKey({ suiteId: 0x0478, context: {} });
  } catch (e) {
    return e as { code: string; message: string };
  } finally {
    client.destroy();
  }
  throw new Error('the call succeeded');
}

async function s3Failure(endpoint: string) {
  aws.setEnv('AWS_ENDPOINT_URL_S3', endpoint);
  const client = await createS3Client({ timeouts: short });
  try {
    await client.send(new ListObjectsV2Command({ Bucket: 'vault' }));
  } catch (e) {
    return toSyncError(e, 'list s3://vault/');
  } finally {
    client.destroy();
  }
  throw new Error('the call succeeded');
}

describe('network faults name the endpoint and the cause', () => {
  it.each(CASES)('KMS: %s', async (_name, url, code, pattern) => {
    const e = await kmsFailure(url());
    expect(e).toMatchObject({ code, message: expect.stringMatching(pattern) });
    expect(e.message).toContain('KMS GenerateDataKey');
  });

  it.each(CASES)('S3: %s', async (_name, url, code, pattern) => {
    const e = await s3Failure(url());
    expect(e).toMatchObject({ code, message: expect.stringMatching(pattern) });
    expect(e.message).toContain('S3 list s3://vault/');
    expect(e.message).not.toMatch(/vault folder/);
  });

  it.each(CASES.filter((c) => c[0] !== 'timeout'))('STS (kenv whoami): %s', async (_name, url, code, pattern) => {
    aws.setEnv('AWS_ENDPOINT_URL_STS', url());
    const e = await whoami().then(() => undefined, (err: unknown) => err);
    expect(e).toMatchObject({ code, message: expect.stringMatching(pattern) });
    expect((e as Error).message).toContain('STS GetCallerIdentity');
  });
});

describe('profiles', () => {
  it('an unknown --profile is PROFILE_NOT_FOUND naming it, for KMS, S3 and STS', async () => {
    aws.setEnv('AWS_ACCESS_KEY_ID', undefined);
    aws.setEnv('AWS_SECRET_ACCESS_KEY', undefined);
    aws.writeConfig('[profile dev]\nregion = us-east-1\n');
    const sts = await whoami({ profile: 'typo-profile' }).then(() => undefined, (e: unknown) => e);
    expect(sts).toMatchObject({ code: 'PROFILE_NOT_FOUND', message: expect.stringContaining('"typo-profile"') });

    const kms = createKmsClient({ region: 'us-east-1', endpoint: refusedUrl, profile: 'typo-profile' });
    const k = await new KmsKeyring({ keyIds: ['alias/x'], clients: () => kms }).wrapDataKey({ suiteId: 0x0478, context: {} }).catch((e: unknown) => e);
    expect(k).toMatchObject({ code: 'PROFILE_NOT_FOUND', message: expect.stringContaining('"typo-profile"') });
    kms.destroy();

    aws.setEnv('AWS_ENDPOINT_URL_S3', refusedUrl);
    const s3 = await createS3Client({ profile: 'typo-profile', region: 'us-east-1' });
    const s = await s3.send(new ListObjectsV2Command({ Bucket: 'vault' })).catch((e: unknown) => toSyncError(e, 'list s3://vault/'));
    expect(s).toMatchObject({ code: 'PROFILE_NOT_FOUND', message: expect.stringContaining('"typo-profile"') });
    s3.destroy();
  });
});
