/**
 * The endpoint probe against the in-memory S3 (test/support/fake-s3.ts), which enforces conditions and S3's checksum
 * rules: the probe's multipart uploads are made as Kenv's own are, so that only the condition can refuse them.
 */
import { describe, expect, it } from 'vitest';
import { probeEndpoint } from '../../../../../electron/core/sync/endpoint-probe.js';
import { partCrc32 } from '../../../../../electron/core/sync/part-checksum.js';
import { FakeS3 } from '../../../../support/fake-s3.js';

describe('probeEndpoint', () => {
  it('declares CRC32 on its multipart uploads, sends each part with it and repeats it at completion, as uploads do', async () => {
    const s3 = new FakeS3();
    const traits = await probeEndpoint(s3.client, 'bucket', 'p/', new Date(Date.UTC(2026, 10, 30)));
    expect(traits).toMatchObject({ putIfNoneMatch: true, putIfMatch: true, completeIfNoneMatch: true, completeIfMatch: true });
    const creates = s3.sent.filter((s) => s.name === 'CreateMultipartUpload');
    const parts = s3.sent.filter((s) => s.name === 'UploadPart');
    const completes = s3.sent.filter((s) => s.name === 'CompleteMultipartUpload');
    expect(creates.length).toBe(2);
    for (const c of creates) expect(c.input.ChecksumAlgorithm).toBe('CRC32');
    for (const p of parts) expect(p.input.ChecksumCRC32).toBe(partCrc32(Buffer.from(p.input.Body as string)));
    for (const [i, c] of completes.entries()) {
      const [part] = (c.input.MultipartUpload as { Parts: { ChecksumCRC32?: string }[] }).Parts;
      expect(part?.ChecksumCRC32).toBe(parts[i]?.input.ChecksumCRC32);
    }
    // Nothing is left behind: the probe object and its uploads are gone.
    expect(s3.objects.size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });
});
