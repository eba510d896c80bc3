import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { problems, runKenv } from '../../support/cli.js';
import { type LocalServer, refusingEndpoint } from '../../support/http.js';
import { LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

// The faults as a person meets them: through the built `kenv`, one line on stderr each.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let home: string;
let refusing: LocalServer;
let refusedUrl: string;

beforeAll(async () => {
  kms = await fixture.start();
  home = fixture.tempDir();
  mkdirSync(join(home, '.aws'));
  writeFileSync(join(home, '.aws', 'credentials'), `[dev]\naws_access_key_id = ${LOCAL_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${LOCAL_CREDENTIALS.secretAccessKey}\n`);
  writeFileSync(join(home, '.aws', 'config'), '[profile dev]\nregion = us-east-1\n');
  refusing = await refusingEndpoint();
  refusedUrl = refusing.url;
});
afterAll(async () => {
  await refusing?.close();
  await fixture.closeAll();
});

describe('kenv and the faults between it and AWS', () => {
  it('sync against a closed port says NETWORK_REFUSED naming host:port, not a vault folder error', async () => {
    const vault = join(home, 'vault');
    mkdirSync(vault);
    const run = await runKenv(['sync', vault, 's3://bucket/prefix'], {
      env: { HOME: home, AWS_PROFILE: 'dev', AWS_ENDPOINT_URL_S3: refusedUrl, AWS_MAX_ATTEMPTS: '1' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Nothing accepted the connection at ${refusedUrl} (connection refused)`);
    expect(run.stderr).toContain('[NETWORK_REFUSED]');
    expect(run.stderr).not.toContain('vault folder');
  });

  it('an unknown --profile is PROFILE_NOT_FOUND naming it', async () => {
    const input = join(home, 'p.txt');
    writeFileSync(input, 'x');
    const run = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo', '--profile', 'prod-typo'], {
      env: { HOME: home, AWS_ENDPOINT_URL_KMS: kms.url },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/There is no AWS profile named "prod-typo".*\[PROFILE_NOT_FOUND\]/);
  });

  it("the SDK's nine-line 'Multiple credential sources' warning is one line", async () => {
    const input = join(home, 'w.txt');
    writeFileSync(input, 'x');
    const run = await runKenv(['encrypt', input, '--key', 'alias/kenv-demo'], {
      env: {
        HOME: home, AWS_PROFILE: 'dev', AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001', AWS_SECRET_ACCESS_KEY: 'env-secret',
        AWS_ENDPOINT_URL_KMS: kms.url,
      },
    });
    expect(run.code).toBe(0);
    expect(problems(run.stderr)).toEqual([
      'kenv: warning: both a profile (AWS_PROFILE or --profile) and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set; Kenv uses the profile. Unset one of them to remove the doubt.',
    ]);
  });
});
