import { crc32 } from 'node:zlib';

/**
 * The checksum every part of a multipart upload carries, declared at CreateMultipartUpload and repeated for each part
 * at completion, as the AWS CLI does. S3 refuses a part checksum the upload did not declare ("Checksum Type mismatch")
 * and a completion that leaves a declared one out; it checks each part against it as it arrives; and S3-compatible
 * servers assemble a declared upload from its part checksums instead of reading the whole object again.
 */
export const PART_CHECKSUM = 'CRC32';

/** A part's CRC32 as S3 writes it: the four bytes big-endian, in base64. */
export function partCrc32(body: Buffer | Uint8Array): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(body) >>> 0);
  return b.toString('base64');
}
