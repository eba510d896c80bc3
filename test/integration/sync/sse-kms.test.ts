import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKenv, problems } from '../../support/cli.js';
import { startS3Server, type S3TestServer } from '../../support/s3-server.js';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { LocalKmsFixture } from '../../support/local-kms.js';

// kenv sync --sse-kms-key: S3 server-side encryption on top, and the classic denial mapped to its KMS action.
const fixture = new LocalKmsFixture();
let s3: S3TestServer;
let env: Record<string, string>;
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-1111-2222-3333-444455556666';

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket('sse');
  env = { ...s3.env(), HOME: fixture.tempDir() };
});
afterAll(async () => {
  await s3?.close();
  await fixture.closeAll();
});

async function vaultWith(names: string[]): Promise<string> {
  const dir = fixture.tempDir();
  for (const name of names) writeFileSync(join(dir, name), await kenvMessage(`contents of ${name}`));
  return dir;
}

describe('kenv sync --sse-kms-key', () => {
  it('asks S3 for SSE-KMS under the key on every upload', async () => {
    const vault = await vaultWith(['a.txt.kenv', 'b.txt.kenv']);
    const seen = s3.proxy.sseWrites.length;
    const r = await runKenv(['sync', vault, 's3://sse/on', '--sse-kms-key', KEY], { env });
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    // The endpoint probe's scratch objects under .kenv-sync/ are written too (with the same SSE request).
    const writes = s3.proxy.sseWrites.slice(seen);
    expect(writes.filter((w) => w.key.includes('.kenv-sync/')).every((w) => w.sse === 'aws:kms' && w.kmsKeyId === KEY)).toBe(true);
    expect(writes.map((w) => w.key).filter((k) => !k.includes('.kenv-sync/')).sort()).toEqual(['on/a.txt.kenv', 'on/b.txt.kenv']);
    for (const w of writes) expect(w).toMatchObject({ sse: 'aws:kms', kmsKeyId: KEY });
  });

  it('does not without the flag', async () => {
    const vault = await vaultWith(['plain.txt.kenv']);
    const seen = s3.proxy.sseWrites.length;
    expect((await runKenv(['sync', vault, 's3://sse/off'], { env })).code).toBe(0);
    expect(s3.proxy.sseWrites.slice(seen).filter((w) => !w.key.includes('.kenv-sync/'))).toEqual([{ key: 'off/plain.txt.kenv', sse: undefined, kmsKeyId: undefined }]);
  });

  it('names kms:GenerateDataKey and the key when S3 refuses the upload for it', async () => {
    const denied = KEY.replace('6666', '7777');
    s3.proxy.denySseKmsKey(denied);
    const vault = await vaultWith(['c.txt.kenv']);
    const r = await runKenv(['sync', vault, 's3://sse/denied', '--sse-kms-key', denied], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[KMS_ACCESS_DENIED]');
    expect(r.stderr).toContain('this identity lacks kms:GenerateDataKey');
    expect(r.stderr).toContain(denied);
  });

  it('says the likely action when S3 answers a bare Access Denied', async () => {
    const bare = KEY.replace('6666', '8888');
    s3.proxy.denySseKmsKey(bare, 'Access Denied');
    const vault = await vaultWith(['d.txt.kenv']);
    const r = await runKenv(['sync', vault, 's3://sse/bare', '--sse-kms-key', bare], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('most likely this identity lacks kms:GenerateDataKey');
    expect(r.stderr).toContain(bare);
  });
});
