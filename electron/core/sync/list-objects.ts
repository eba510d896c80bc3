import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { KenvError } from '../errors.js';

/**
 * Orders two keys as S3 lists them: by their UTF-8 bytes, which is code point order. JavaScript compares UTF-16
 * code units, which differs only where a surrogate pair (a code point above U+FFFF) meets U+E000-U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const rank = (c: number) => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c);
    return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** One object as a ListObjectsV2 page names it. */
export interface ListedKey {
  key: string;
  size: number;
  /** As S3 gives it, quotes included (empty when it gives none). */
  etag: string | undefined;
}

/** One page of a listing: its keys under the prefix, in the order the server gave them. */
export interface ListedKeys {
  keys: ListedKey[];
  /** The server says more keys follow. */
  truncated: boolean;
}

export interface ObjectWalk {
  bucket: string;
  prefix: string;
  signal?: AbortSignal | undefined;
  /** List the keys after this one (`StartAfter`); undefined: from the start of the prefix. */
  after?: string | undefined;
  /** How many keys to ask for in the next request (asked before each one); undefined: the server's default. */
  maxKeys?: (() => number | undefined) | undefined;
}

/**
 * Walks the ListObjectsV2 pages of a prefix, one request at a time, yielding each page as it arrives.
 *
 * The one page walk for every ListObjectsV2 in Kenv (the sync's listing, `kenv verify` of a prefix); it is where a
 * server that does not list as S3 does is caught:
 * - a key outside the prefix is dropped (S3 never lists one), and so is a key this walk listed before;
 * - a token the server gave before is not followed (it would list the same pages again, for ever), nor one whose
 *   page held only keys listed before (new tokens over the same pages), nor is a truncated page without a token
 *   taken for the end: each goes on after the last key listed (`StartAfter`);
 * - where that would not move on (no key listed yet, or none after the key the request started after), the listing
 *   is refused with S3_ERROR.
 * Taking what was listed for the whole would take the rest for deleted (sync) or report it all verified (verify).
 * The caller stops the walk by leaving its loop; nothing more is requested.
 */
export async function* walkObjects(s3: S3Client, walk: ObjectWalk): AsyncGenerator<ListedKeys> {
  const { bucket, prefix } = walk;
  const tokens = new Set<string>();
  const seen = new Set<string>();
  let token: string | undefined;
  let startAfter = walk.after;
  // The last key listed so far (outside the prefix too, from a server that ignores Prefix): where the listing goes on
  // when the server gives no way on.
  let listed = walk.after;
  for (;;) {
    const maxKeys = walk.maxKeys?.();
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix || undefined,
        ...(token ? { ContinuationToken: token } : startAfter !== undefined ? { StartAfter: startAfter } : {}),
        ...(maxKeys ? { MaxKeys: maxKeys } : {}),
      }),
      walk.signal ? { abortSignal: walk.signal } : {},
    );
    const contents = page.Contents ?? [];
    const keys: ListedKey[] = [];
    // Keys not listed before, outside the prefix too: a server that ignores Prefix moves on through its neighbours.
    let fresh = 0;
    for (const o of contents) {
      if (!o.Key || seen.has(o.Key)) continue;
      seen.add(o.Key);
      fresh++;
      listed = o.Key;
      if (o.Key.startsWith(prefix)) keys.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag });
    }
    const truncated = page.IsTruncated === true;
    yield { keys, truncated };
    if (!truncated) return;
    token = page.NextContinuationToken;
    // Keys, none of them new: the token went round (an empty page may be S3 passing over deleted keys).
    const movedOn = fresh > 0 || contents.length === 0;
    if (token && !tokens.has(token) && movedOn) {
      tokens.add(token);
      continue;
    }
    // No (new) token to go on, or one that went round: go on after the last key listed, if that moves the listing on.
    token = undefined;
    if (listed === undefined || (startAfter !== undefined && compareKeys(listed, startAfter) <= 0)) throw endlessListing(bucket, prefix, listed);
    startAfter = listed;
  }
}

function endlessListing(bucket: string, prefix: string, listed: string | undefined): KenvError {
  return new KenvError(
    'S3_ERROR',
    `S3 said the listing of s3://${bucket}/${prefix} goes on but gave no way to go on; nothing was changed. ` +
      `${listed === undefined ? '' : `Keys after ${listed} were not listed. `}` +
      'Try again; if it persists, the server does not list as S3 does (ListObjectsV2 pages).',
  );
}
