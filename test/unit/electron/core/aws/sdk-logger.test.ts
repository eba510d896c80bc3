import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsSdkLogger } from '../../../../../electron/core/aws/network-errors.js';
import { createKmsClient } from '../../../../../electron/core/kms/client.js';
import { createS3Client } from '../../../../../electron/core/sync/s3-client.js';
import { type TempAws, useTempAws } from '../../../../support/aws-env.js';
import { listen, type LocalServer, sendJson } from '../../../../support/http.js';

// The SDK copies every request and response for its logger (walking the schema, hiding sensitive members) when the
// logger has an info function, and throws the copy away in Kenv's: a listing page of 1,000 objects was copied once
// more per page for nothing. The logger leaves info (and error) out, and the SDK makes no copy.

const KEYS = 1000;
let server: LocalServer;
const credentials = { accessKeyId: 'AKIALOGGERTEST000001', secretAccessKey: 'logger-test' };

beforeAll(async () => {
  const contents = Array.from({ length: KEYS }, (_, i) => `<Contents><Key>v/f${i}.kenv</Key><Size>229</Size><ETag>"e${i}"</ETag></Contents>`).join('');
  server = await listen((req, _body, res) => {
    if (req.headers['x-amz-target']) {
      sendJson(res, 200, { KeyMetadata: { KeyId: 'k', Arn: 'arn:aws:kms:us-east-1:111122223333:key/k' } });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix>v/</Prefix><KeyCount>${KEYS}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
  });
});
afterAll(() => server.close());
let aws: TempAws;
beforeEach(() => {
  aws = useTempAws();
  aws.setEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
  aws.setEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
  aws.setEnv('AWS_REGION', 'us-east-1');
  aws.setEnv('AWS_ENDPOINT_URL_S3', server.url);
});
afterEach(() => aws.restore());

/** Counts the calls of the SDK's log copies for one command (the logger middleware reads them from the context). */
function countLogCopies(command: { middlewareStack: { add: (m: never, o: object) => void } }): { input: number; output: number } {
  const counts = { input: 0, output: 0 };
  const spy = ((next: (args: unknown) => Promise<unknown>, context: Record<string, (v: unknown) => unknown>) => {
    for (const [name, key] of [['input', 'inputFilterSensitiveLog'], ['output', 'outputFilterSensitiveLog']] as const) {
      const copy = context[key];
      context[key] = (v: unknown) => {
        counts[name]++;
        return copy ? copy(v) : v;
      };
    }
    return next;
  }) as never;
  command.middlewareStack.add(spy, { step: 'initialize', priority: 'high' });
  return counts;
}

describe('awsSdkLogger', () => {
  it('lets the S3 client list a page without copying it for a log that is dropped', async () => {
    const s3 = await createS3Client();
    try {
      const command = new ListObjectsV2Command({ Bucket: 'b', Prefix: 'v/' });
      const copies = countLogCopies(command);
      const page = await s3.send(command);
      expect(page.Contents).toHaveLength(KEYS);
      expect(copies).toEqual({ input: 0, output: 0 });
    } finally {
      s3.destroy();
    }
  });

  it('lets the KMS client answer without copying the request or the response for the log', async () => {
    const kms = createKmsClient({ region: 'us-east-1', endpoint: server.url, credentials });
    try {
      const command = new DescribeKeyCommand({ KeyId: 'k' });
      const copies = countLogCopies(command);
      expect((await kms.send(command)).KeyMetadata?.KeyId).toBe('k');
      expect(copies).toEqual({ input: 0, output: 0 });
    } finally {
      kms.destroy();
    }
  });

  it('still turns each SDK warning into one line and drops debug', () => {
    const lines: string[] = [];
    const logger = awsSdkLogger((line) => lines.push(line));
    logger.warn('some\n  multi-line   warning');
    logger.debug('dropped');
    expect(lines).toEqual(['kenv: warning: some multi-line warning']);
  });
});
