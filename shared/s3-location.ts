/**
 * S3 location checks the vault panel runs as you type and `vault:bind` runs again. Plain TS, no zod: the renderer
 * bundles it.
 */

/** Prefixes and suffixes S3 reserves for access points, Object Lambda, directory and table buckets. */
const RESERVED_START = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_END = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * What is wrong with an S3 location as typed, in one sentence, or null when it is a valid `s3://bucket/prefix`.
 *
 * The bucket part follows S3's general purpose bucket naming rules (3 to 63 characters; lower-case letters, digits,
 * dots and hyphens; a letter or digit at each end; no two dots in a row; not an IP address; none of the reserved
 * prefixes and suffixes). The vault panel shows it as you type; `vault:bind` refuses the same.
 */
export function s3LocationProblem(text: string): string | null {
  const url = text.trim();
  if (url === '') return 'Write the S3 location as s3://bucket/prefix.';
  if (!url.startsWith('s3://')) {
    if (/^s3:\/\//i.test(url)) return 'Write s3:// in lower case.';
    if (/^https?:\/\//i.test(url)) return 'Write the location as s3://bucket/prefix, not as a web address.';
    return `Start with s3:// (for example s3://${url.replace(/^\/+/, '') || 'bucket/prefix'}).`;
  }
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket === '') return 'Name the bucket after s3://.';
  if (bucket.length < 3 || bucket.length > 63) return `A bucket name is 3 to 63 characters long; "${bucket.slice(0, 70)}" has ${bucket.length}.`;
  if (/[A-Z]/.test(bucket)) return `Bucket names are lower case: ${bucket.toLowerCase()}.`;
  const bad = /[^a-z0-9.-]/.exec(bucket);
  if (bad) return `A bucket name holds only lower-case letters, digits, dots and hyphens; "${bad[0] === ' ' ? 'a space' : bad[0]}" is not allowed.`;
  if (!/^[a-z0-9]/.test(bucket) || !/[a-z0-9]$/.test(bucket)) return 'A bucket name starts and ends with a letter or a digit.';
  if (bucket.includes('..')) return 'A bucket name has no two dots in a row.';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bucket)) return 'A bucket name cannot be an IP address.';
  const start = RESERVED_START.find((p) => bucket.startsWith(p));
  if (start) return `Bucket names starting with ${start} are reserved by S3.`;
  const end = RESERVED_END.find((p) => bucket.endsWith(p));
  if (end) return `Bucket names ending in ${end} are reserved by S3.`;
  if (prefix.includes('\0')) return 'The prefix may not contain a NUL character.';
  if (prefix.split('/').some((part) => part === '.' || part === '..')) return 'The prefix may not contain . or .. as a folder name.';
  if (prefix.includes('//')) return 'The prefix may not contain two slashes in a row.';
  if (new TextEncoder().encode(prefix).length > 900) return 'The prefix is too long: keep it under 900 bytes, so file names fit in S3\'s 1,024-byte keys.';
  return null;
}
