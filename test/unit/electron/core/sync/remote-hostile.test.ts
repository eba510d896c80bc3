import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooser, nameOver, s3Order } from '../../../../support/key-order.js';
import { KenvError } from '../../../../../electron/core/errors.js';
import { PAGE_KEYS, listRemote } from '../../../../../electron/core/sync/remote.js';

// listRemote against servers that list oddly or lie. Whatever the server does, the listing ends (or fails with
// S3_ERROR), names only keys the bucket holds under the prefix, each once; and a server that is odd but honest (pages
// capped small, StartAfter taken only sometimes, no continuation token, Prefix ignored) is listed completely.

interface Oddities {
  /** Answers at most this many keys a page, whatever MaxKeys says. */
  cap?: number;
  /** Takes StartAfter only when this says so (called once per request). */
  takesStartAfter?: () => boolean;
  /** Truncated pages carry no NextContinuationToken. */
  noToken?: boolean;
  /** Lists the whole bucket, whatever Prefix says. */
  ignoresPrefix?: boolean;
  /** A page from a token or StartAfter starts at that key again (inclusive), overlapping the page before. */
  overlaps?: boolean;
  /** Hostile: says a page is the last one when this says so. */
  endsEarly?: () => boolean;
  /** Hostile: answers this token for every truncated page. */
  fixedToken?: string;
}

function oddS3(keys: string[], odd: Oddities) {
  const sorted = [...new Set(keys)].sort(s3Order);
  let requests = 0;
  const s3 = {
    async send(command: ListObjectsV2Command) {
      expect(command).toBeInstanceOf(ListObjectsV2Command);
      if (++requests > 10_000) throw new Error('the listing does not end');
      await Promise.resolve();
      const input = command.input;
      const prefix = odd.ignoresPrefix ? '' : (input.Prefix ?? '');
      const token = input.ContinuationToken;
      const from = token?.startsWith('after:') ? token.slice('after:'.length) : odd.takesStartAfter && !odd.takesStartAfter() ? undefined : input.StartAfter;
      const max = Math.min(PAGE_KEYS, input.MaxKeys ?? PAGE_KEYS, odd.cap ?? PAGE_KEYS);
      // The first key at or after `from` (after it, unless the server overlaps), by binary search.
      let lo = 0;
      for (let hi = sorted.length; from !== undefined && lo < hi; ) {
        const mid = (lo + hi) >>> 1;
        const c = s3Order(sorted[mid]!, from);
        if (c < 0 || (c === 0 && !odd.overlaps)) lo = mid + 1;
        else hi = mid;
      }
      const page: string[] = [];
      let i = lo;
      for (; i < sorted.length && page.length < max; i++) if (sorted[i]!.startsWith(prefix)) page.push(sorted[i]!);
      while (i < sorted.length && !sorted[i]!.startsWith(prefix)) i++;
      const truncated = i < sorted.length && !odd.endsEarly?.();
      const next = odd.fixedToken ?? `after:${page.at(-1) ?? ''}`;
      return {
        Contents: page.map((Key) => ({ Key, Size: 1, ETag: '"e"' })),
        IsTruncated: truncated,
        ...(truncated && !odd.noToken ? { NextContinuationToken: next } : {}),
      };
    },
  } as unknown as S3Client;
  return { s3, requests: () => requests };
}


const prefix = 'v/';
const ALPHABET = ['a', 'Z', '0', '-', 'é', '\uE000', '\uFFFD', '\u{1F600}', '\u{10000}'];
const name = nameOver(ALPHABET);
const universe = Array.from({ length: 3_000 }, (_, i) => name(i));
// Keys beside the prefix, before and after it in S3's order, that a server ignoring Prefix lists too.
const neighbours = ['a/x.kenv', 'u/y.kenv', 'v', 'v.kenv', 'w/z.kenv', '\u{1F600}/q.kenv'];

const honest = fc.record(
  {
    cap: fc.constantFrom(1, 7, 333, PAGE_KEYS),
    startAfterShare: fc.constantFrom(0, 0.5, 1),
    noToken: fc.boolean(),
    ignoresPrefix: fc.boolean(),
  },
  { requiredKeys: [] },
);

describe('listRemote against odd and hostile servers', () => {
  it('an odd but honest server is listed completely, each key once, or the listing fails with S3_ERROR without looping', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), honest, async (seed, knownShare, remoteShare, o) => {
        const next = chooser(seed);
        const known = universe.filter(() => next() < knownShare);
        const remote = universe.filter(() => next() < remoteShare);
        const share = o.startAfterShare ?? 1;
        const bucket = oddS3([...remote.map((p) => prefix + p), ...neighbours], {
          ...(o.cap ? { cap: o.cap } : {}),
          takesStartAfter: () => next() < share,
          ...(o.noToken ? { noToken: true } : {}),
          ...(o.ignoresPrefix ? { ignoresPrefix: true } : {}),
        });
        const listing = await listRemote(bucket.s3, 'bucket', prefix, undefined, known).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
        if (listing instanceof Error) {
          // Only where the server gives no way on: no token, and StartAfter not taken.
          expect(listing).toBeInstanceOf(KenvError);
          expect(listing).toMatchObject({ code: 'S3_ERROR' });
          expect(o.noToken && share < 1).toBe(true);
          return;
        }
        expect([...listing.objects.keys()].sort(s3Order)).toEqual([...remote].sort(s3Order));
      }),
      { numRuns: 60 },
    );
  });

  it('a hostile server (pages that overlap, end early, repeat one token) never gets a key it does not hold named, and the listing ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.record({ cap: fc.constantFrom(1, 5, PAGE_KEYS), overlaps: fc.boolean(), endsEarly: fc.boolean(), fixedToken: fc.boolean(), noToken: fc.boolean() }),
        async (seed, knownShare, o) => {
          const next = chooser(seed);
          const known = universe.filter(() => next() < knownShare);
          const remote = universe.filter(() => next() < 0.7);
          const bucket = oddS3(remote.map((p) => prefix + p), {
            cap: o.cap,
            overlaps: o.overlaps,
            noToken: o.noToken,
            ...(o.endsEarly ? { endsEarly: () => next() < 0.2 } : {}),
            ...(o.fixedToken ? { fixedToken: 'again' } : {}),
          });
          const listing = await listRemote(bucket.s3, 'bucket', prefix, undefined, known).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
          if (listing instanceof Error) {
            expect(listing).toMatchObject({ code: 'S3_ERROR' });
            return;
          }
          const held = new Set(remote);
          for (const p of listing.objects.keys()) expect(held.has(p)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
