import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../shared/ipc.js';
import { JobQueue } from '../../../electron/core/app/jobs.js';
import { coreVault } from '../../../electron/core/app/vault.js';
import { createKmsClient } from '../../../electron/core/kms/client.js';
import { DEMO_KEY_ALIAS, type LocalKms } from '../../../electron/core/local-kms/server.js';
import { RecordingSink } from '../../support/app-services.js';
import { LOCAL_CREDENTIALS, LocalKmsFixture } from '../../support/local-kms.js';

// The desktop's road to KMS (job queue → coreVault → KmsKeyring → a client from kms/client.ts), with the retry
// policy made short: no SDK retry, Kenv's backoff waits of at most 20 ms.
const fixture = new LocalKmsFixture();
let kms: LocalKms;

beforeAll(async () => {
  kms = await fixture.start();
});
afterAll(() => fixture.closeAll());

describe('a desktop job while KMS throttles', () => {
  it('shows "KMS is throttling; retrying in N s" on the job, then finishes it', async () => {
    const client = createKmsClient(
      { region: 'us-east-1', endpoint: kms.url, credentials: LOCAL_CREDENTIALS },
      { sdkRetryMode: 'standard', sdkMaxAttempts: 1, baseDelayMs: 2, maxDelayMs: 20 },
    );
    const sink = new RecordingSink();
    const queue = new JobQueue(coreVault(() => () => client), sink);
    const input = join(fixture.tempDir(), 'plan.txt');
    writeFileSync(input, 'the plan');
    kms.throttleNext(3);
    queue.start([{ path: input, direction: 'encrypt', keyIds: [DEMO_KEY_ALIAS], context: {}, outDir: undefined, deletePlaintext: false }]);
    await queue.whenIdle();
    client.destroy();
    const snapshots = sink.events.map((e) => e.payload as Job);
    expect(snapshots.filter((j) => j.notice).map((j) => [j.state, j.notice])).toEqual(
      Array(3).fill(['running', 'KMS is throttling; retrying in 1 s']),
    );
    expect(snapshots.at(-1)).toMatchObject({ state: 'done', notice: null, error: null });
  });
});
